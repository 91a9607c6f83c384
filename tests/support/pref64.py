#!/usr/bin/python3
"""A router that advertises a NAT64 prefix (PREF64, RFC 8781) for the dsdoctor test lab.

    pref64.py READY_FILE IFNAME PREFIX/LEN

Answers every router solicitation on IFNAME with a router advertisement to all nodes
(ff02::1) that carries one PREF64 option and nothing else: router lifetime 0 (it is
nobody's default router), no prefix information, so hosts change no address or route.
Debian 12's radvd (2.19) cannot send PREF64, hence this. Python stdlib only.
"""
import ipaddress
import socket
import struct
import sys

ROUTER_SOLICITATION = 133
ROUTER_ADVERTISEMENT = 134
PLC = {96: 0, 64: 1, 56: 2, 48: 3, 40: 4, 32: 5}
LIFETIME_S = 1800


def advertisement(prefix):
    net = ipaddress.IPv6Network(prefix)
    # Type, code, checksum (the kernel fills it in), cur hop limit 0 (unspecified),
    # flags 0, router lifetime 0, reachable time 0, retrans timer 0.
    ra = struct.pack("!BBHBBHII", ROUTER_ADVERTISEMENT, 0, 0, 0, 0, 0, 0, 0)
    word = ((LIFETIME_S // 8) << 3) | PLC[net.prefixlen]
    return ra + struct.pack("!BBH", 38, 2, word) + net.network_address.packed[:12]


def main():
    ready, ifname, prefix = sys.argv[1:4]
    msg = advertisement(prefix)
    index = socket.if_nametoindex(ifname)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    # RFC 4861: hosts discard neighbour discovery whose hop limit is not 255.
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
    open(ready, "w").close()
    while True:
        data, src = s.recvfrom(2048)
        if not data or data[0] != ROUTER_SOLICITATION:
            continue
        s.sendto(msg, ("ff02::1", 0, 0, index))
        sys.stderr.write("pref64: solicited by %s, advertised %s\n" % (src[0], prefix))
        sys.stderr.flush()


if __name__ == "__main__":
    main()
