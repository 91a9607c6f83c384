#!/usr/bin/python3
"""A hostile web server for the dsdoctor lab: answers every request with a 200 head and
then a body that never ends.

    endless.py READY_FILE PORT MODE     MODE: fast (bytes as fast as possible) | slow (a byte every 100 ms)

Listens on [::]:PORT with IPV6_V6ONLY off (both families).
"""
import socket
import sys
import threading
import time


def serve(c, mode):
    try:
        c.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = c.recv(4096)
            if not chunk:
                return
            data += chunk
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
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(64)
    open(ready, "w").close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, mode), daemon=True).start()


if __name__ == "__main__":
    main()
