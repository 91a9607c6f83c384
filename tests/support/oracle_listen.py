#!/usr/bin/python3
"""The oracle's listeners: one dual-stack socket ([::], IPV6_V6ONLY off) per port, each
sending one byte to whoever completes the handshake and closing, so the client learns
whether the whole connection got through (a filter may admit the SYN and shut the rest).

    oracle_listen.py READY_FILE PORT...
"""
import sys
import threading

from labsock import listening_socket, signal_ready


def accept_forever(s):
    while True:
        c, _ = s.accept()
        try:
            c.sendall(b"k")
        except OSError:
            pass
        c.close()


def main():
    ready, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
    socks = [listening_socket("::", p, v6only=False) for p in ports]
    for s in socks[1:]:
        threading.Thread(target=accept_forever, args=(s,), daemon=True).start()
    signal_ready(ready)
    accept_forever(socks[0])


if __name__ == "__main__":
    main()
