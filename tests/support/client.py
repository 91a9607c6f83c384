#!/usr/bin/python3
"""A client from a lab namespace.

    client.py get ADDR PORT        prints the raw HTTP/1.0 response to GET / (exit 1 on error)
    client.py connect ADDR PORT    exit 0 when the TCP connection is accepted within 2 s
"""
import socket
import sys

from labsock import chunks


def main():
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    try:
        s = socket.create_connection((addr, port), timeout=2)
        if mode == "get":
            s.sendall(b"GET / HTTP/1.0\r\nHost: shop.lab.example\r\nUser-Agent: dsdoctor-lab\r\n\r\n")
            data = b"".join(chunks(s, 65536))
            sys.stdout.write(data.decode("utf-8", "replace"))
        s.close()
    except Exception as e:
        sys.stdout.write("%s: %s\n" % (type(e).__name__, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
