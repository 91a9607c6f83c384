#!/usr/bin/python3
"""A DNS server for the hardening tests (UDP, on 127.0.0.1:PORT, asked through
--resolver) whose answers carry escape sequences inside the labels of PTR, MX and NS
names, and a TXT record with the same payload. A and AAAA of shop.* are the lab's.

    hostile_dns.py READY_FILE PORT
"""
from labsock import signal_ready
import socket, struct, sys
ready, port = sys.argv[1], int(sys.argv[2])
EVIL = b"mx\x1b]52;c;cm0gLXJmIC8K\x07\x1b[2J\x9b31m"
def name(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\x00"
EVIL_NAME = name([EVIL, b"lab", b"example"])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
signal_ready(ready)
while True:
    q, peer = s.recvfrom(4096)
    try:
        qid, flags = struct.unpack(">HH", q[:4])
        i = 12
        labels = []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]])
            i += 1 + q[i]
        qend = i + 5
        qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
        qname = b".".join(labels).lower()
        answers = []
        if qtype == 1 and qname.startswith(b"shop"):
            answers.append((1, socket.inet_aton("203.0.113.10")))
        elif qtype == 28 and qname.startswith(b"shop"):
            answers.append((28, socket.inet_pton(socket.AF_INET6, "2001:db8:1::10")))
        elif qtype == 12:
            answers.append((12, EVIL_NAME))
        elif qtype == 15:
            answers.append((15, b"\x00\x0a" + EVIL_NAME))
        elif qtype == 2:
            answers.append((2, EVIL_NAME))
        elif qtype == 16:
            answers.append((16, bytes([len(EVIL)]) + EVIL))
        out = struct.pack(">HHHHHH", qid, 0x8180, 1, len(answers), 0, 0) + q[12:qend]
        for t, rdata in answers:
            out += b"\xc0\x0c" + struct.pack(">HHIH", t, 1, 300, len(rdata)) + rdata
        s.sendto(out, peer)
    except Exception as e:
        print("bad query", e, flush=True)
