#!/usr/bin/python3
"""A hostile web server for the dsdoctor lab: answers every request with a 200 head and
then a body that never ends.

    endless.py READY_FILE PORT MODE     MODE: fast (bytes as fast as possible) | slow (a byte every 100 ms)

Listens on [::]:PORT with IPV6_V6ONLY off (both families).
"""
import sys
import time

from labsock import listening_socket, read_head, serve, signal_ready


def answer(c, mode):
    try:
        c.settimeout(5)
        if b"\r\n\r\n" not in read_head(c):
            return
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>")
        block = b"x" * 65536
        while True:
            if mode == "slow":
                c.sendall(b"x")
                time.sleep(0.1)
            else:
                c.sendall(block)
    except OSError:
        pass
    finally:
        c.close()


def main():
    ready, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = listening_socket("::", port, v6only=False)
    signal_ready(ready)
    serve(s, answer, mode)


if __name__ == "__main__":
    main()
