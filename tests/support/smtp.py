#!/usr/bin/python3
"""A stub SMTP server for the dsdoctor lab: greets and answers EHLO with a name per
listening address.

    smtp.py READY_FILE ADDR PORT NAME [ADDR PORT NAME ...]
"""
import socket
import sys
import threading


def serve(c, name):
    try:
        c.settimeout(5)
        c.sendall(("220 %s ESMTP dsdoctor-lab\r\n" % name).encode())
        data = b""
        while True:
            chunk = c.recv(1024)
            if not chunk:
                return
            data += chunk
            while b"\r\n" in data:
                line, data = data.split(b"\r\n", 1)
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    c.sendall(("250-%s\r\n250-PIPELINING\r\n250 8BITMIME\r\n" % name).encode())
                elif verb == b"QUIT":
                    c.sendall(b"221 bye\r\n")
                    return
                else:
                    c.sendall(b"502 not here\r\n")
    except OSError:
        pass
    finally:
        c.close()


def listen(addr, port, name):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    s.listen(16)

    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c, name), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def main():
    ready, rest = sys.argv[1], sys.argv[2:]
    for i in range(0, len(rest), 3):
        listen(rest[i], int(rest[i + 1]), rest[i + 2])
    open(ready, "w").close()
    threading.Event().wait()


if __name__ == "__main__":
    main()
