#!/usr/bin/python3
"""The lab's "service on port N".

    listener.py READY_FILE ADDR PORT V6ONLY BODY     V6ONLY: default | 0 | 1

Answers an HTTP request with 200 and BODY, anything else (or silence for 0.5 s) with BODY.
"""
import sys

from labsock import listening_socket, read_head, serve, signal_ready


def answer(c, payload):
    try:
        c.settimeout(0.5)
        data = read_head(c, keep_partial=True)
        method = data.split(b" ", 1)[0]
        if method in (b"GET", b"HEAD", b"POST", b"PUT", b"OPTIONS"):
            head = (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                    b"Connection: close\r\n\r\n" % len(payload))
            c.sendall(head if method == b"HEAD" else head + payload)
        else:
            c.sendall(payload)
    except OSError:
        pass
    finally:
        c.close()


def main():
    ready, addr, port, v6only, body = sys.argv[1:6]
    v6only = None if v6only == "default" else v6only == "1"
    s = listening_socket(addr, int(port), v6only)
    signal_ready(ready)
    serve(s, answer, body.encode())


if __name__ == "__main__":
    main()
