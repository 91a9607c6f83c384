#!/usr/bin/python3
"""A stub SMTP server for the dsdoctor lab: greets and answers EHLO with a name per
listening address.

    smtp.py READY_FILE ADDR PORT NAME [ADDR PORT NAME ...]
"""
import sys
import threading

from labsock import chunks, listening_socket, serve, signal_ready


def answer(c, name):
    try:
        c.settimeout(5)
        c.sendall(("220 %s ESMTP dsdoctor-lab\r\n" % name).encode())
        data = b""
        for chunk in chunks(c, 1024):
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


def main():
    ready, rest = sys.argv[1], sys.argv[2:]
    for i in range(0, len(rest), 3):
        s = listening_socket(rest[i], int(rest[i + 1]), v6only=True, backlog=16)
        threading.Thread(target=serve, args=(s, answer, rest[i + 2]), daemon=True).start()
    signal_ready(ready)
    threading.Event().wait()


if __name__ == "__main__":
    main()
