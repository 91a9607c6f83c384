#!/usr/bin/python3
"""An authoritative DNS server for the lab zone that answers by EDNS Client Subnet
(RFC 7871), as a geo-DNS provider does, for the dns.geo tests (UDP only: its answers are
small). It takes the place of the lab's authoritative dnsmasq on the addresses given.

    ecs_dns.py READY_FILE ADDRS ZONE_JSON

ADDRS: comma-separated addresses to answer on (port 53). ZONE_JSON: {"zone": "lab.example",
"ns": ["ns1.lab.example", ...], "hosts": {"name": {"A": [...], "AAAA": [...]}},
"withhold_aaaa": ["196.192.115.0/24", ...]}. A query whose client subnet lies in one of
the withheld networks gets no AAAA (NODATA); every query with a client subnet gets the
option back with the scope prefix length equal to the source prefix length (the answer
holds for that network), as RFC 7871 section 7.2.1 describes. "delay_ms" (optional)
holds every answer back that long, without holding up the queries behind it, as a
server one round trip of that length away would (the bench's distant server).
"""
from labsock import signal_ready
import heapq, ipaddress, itertools, json, selectors, socket, struct, sys, time

ready, addrs, zone_file = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
with open(zone_file) as f:
    data = json.load(f)
ZONE = data["zone"].lower()
NS = data["ns"]
HOSTS = {k.lower(): v for k, v in data["hosts"].items()}
WITHHOLD = [ipaddress.ip_network(n) for n in data.get("withhold_aaaa", [])]
TTL = 300
DELAY = data.get("delay_ms", 0) / 1000.0


def wire_name(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.strip(".").split(".")) + b"\x00"


def rr(name, rtype, rdata):
    return wire_name(name) + struct.pack(">HHIH", rtype, 1, TTL, len(rdata)) + rdata


def soa():
    rdata = wire_name(NS[0]) + wire_name("hostmaster." + ZONE) + struct.pack(
        ">IIIII", 2026113001, 1200, 180, 1209600, TTL)
    return rr(ZONE, 6, rdata)


def parse(q):
    """(id, flags, qname, qtype, end of question, client subnet or None, has OPT)."""
    qid, flags, qd, an, ns, ar = struct.unpack(">HHHHHH", q[:12])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    qend = i + 5
    ecs, has_opt, j = None, False, qend
    for _ in range(ar):
        if q[j] != 0:
            break  # only the root-named OPT record is read
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", q[j + 1:j + 11])
        rdata = q[j + 11:j + 11 + rdlen]
        if rtype == 41:
            has_opt = True
            k = 0
            while k + 4 <= len(rdata):
                code, olen = struct.unpack(">HH", rdata[k:k + 4])
                opt = rdata[k + 4:k + 4 + olen]
                if code == 8 and len(opt) >= 4:
                    fam, src = struct.unpack(">HB", opt[:3])
                    raw = opt[4:]
                    size = 4 if fam == 1 else 16
                    addr = raw + b"\x00" * (size - len(raw))
                    ip = ipaddress.ip_address(addr)
                    ecs = (fam, src, ip, opt[4:])
                k += 4 + olen
        j += 11 + rdlen
    return qid, flags, ".".join(labels).lower(), qtype, qend, ecs, has_opt


def answer(q):
    qid, flags, qname, qtype, qend, ecs, has_opt = parse(q)
    rcode, answers, authority = 0, [], []
    if qname != ZONE and not qname.endswith("." + ZONE):
        rcode = 5  # REFUSED: not our zone
    elif qname == ZONE and qtype == 2:
        answers = [rr(ZONE, 2, wire_name(n)) for n in NS]
    elif qname == ZONE and qtype == 6:
        answers = [soa()]
    elif qname in HOSTS or qname == ZONE:
        host = HOSTS.get(qname, {})
        withheld = ecs is not None and any(ecs[2] in n for n in WITHHOLD)
        if qtype == 1:
            answers = [rr(qname, 1, socket.inet_aton(a)) for a in host.get("A", [])]
        elif qtype == 28 and not withheld:
            answers = [rr(qname, 28, socket.inet_pton(socket.AF_INET6, a)) for a in host.get("AAAA", [])]
        if not answers:
            authority = [soa()]
    else:
        rcode = 3
        authority = [soa()]
    additional = []
    if has_opt:
        opts = b""
        if ecs is not None:
            fam, src, _ip, raw = ecs
            body = struct.pack(">HBB", fam, src, src) + raw
            opts = struct.pack(">HH", 8, len(body)) + body
        additional.append(b"\x00" + struct.pack(">HHIH", 41, 1232, 0, len(opts)) + opts)
    out_flags = 0x8000 | 0x0400 | (flags & 0x0100) | rcode
    head = struct.pack(">HHHHHH", qid, out_flags, 1, len(answers), len(authority), len(additional))
    return head + q[12:qend] + b"".join(answers) + b"".join(authority) + b"".join(additional)


sel = selectors.DefaultSelector()
for a in addrs:
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((a, 53))
    sel.register(s, selectors.EVENT_READ)
signal_ready(ready)
due = []  # (time, n, socket, answer, peer): answers held back by DELAY
order = itertools.count()
while True:
    wait = max(0.0, due[0][0] - time.monotonic()) if due else None
    for key, _ in sel.select(wait):
        s = key.fileobj
        q, peer = s.recvfrom(4096)
        try:
            heapq.heappush(due, (time.monotonic() + DELAY, next(order), s, answer(q), peer))
        except Exception as e:  # a malformed query is dropped, the server goes on
            print("bad query", e, flush=True)
    while due and due[0][0] <= time.monotonic():
        _, _, s, out, peer = heapq.heappop(due)
        s.sendto(out, peer)
