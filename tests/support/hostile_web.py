#!/usr/bin/python3
"""A dual-stack web server on [::]:80 for the hardening tests: its process name
(/proc/self/comm) carries escape sequences, and it redirects every request to a Location,
with a Server header, carrying PAYLOAD.

    hostile_web.py READY_FILE PAYLOAD
"""
import sys

from labsock import listening_socket, read_head, serve, signal_ready


def answer(c, resp):
    try:
        c.settimeout(3)
        read_head(c)
        c.sendall(resp)
    except OSError:
        pass
    finally:
        c.close()


def main():
    ready, payload = sys.argv[1], sys.argv[2]
    with open("/proc/self/comm", "wb") as f:
        f.write(b"\x1b]0;x\x07\x1b[2Jpwned")
    s = listening_socket("::", 80, v6only=False)
    resp = ("HTTP/1.1 301 Moved\r\nServer: evil" + payload
            + "\r\nLocation: http://shop.lab.example/" + payload
            + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").encode("utf-8")
    signal_ready(ready)
    serve(s, answer, resp)


if __name__ == "__main__":
    main()
