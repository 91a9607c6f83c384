#!/usr/bin/python3
"""The oracle's client: connects to every ADDR PORT pair at once (one thread each) and
prints one line per pair: `ADDR PORT connected|stalled|refused|unreachable|timeout|error:...`.

    oracle_probe.py TIMEOUT_SECONDS ADDR PORT [ADDR PORT]...

connected: the handshake completed and the server's byte arrived; stalled: the handshake
completed but nothing came (the filter shut the connection's later packets);
refused: a TCP reset or ICMP port-unreachable (ECONNREFUSED); unreachable: an ICMP
administratively-prohibited / host-unreachable (EHOSTUNREACH, ENETUNREACH, EACCES);
timeout: no answer within TIMEOUT_SECONDS (a silent drop).
"""
import errno
import socket
import sys
import threading


def probe(addr, port, timeout, out, i):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
        try:
            out[i] = "connected" if s.recv(1) == b"k" else "stalled"
        except OSError:
            out[i] = "stalled"
    except socket.timeout:
        out[i] = "timeout"
    except ConnectionRefusedError:
        out[i] = "refused"
    except ConnectionResetError:
        # A reset after the handshake: the filter shut the connection's later packets.
        out[i] = "stalled"
    except OSError as e:
        if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM):
            out[i] = "unreachable"
        else:
            out[i] = "error:%s" % errno.errorcode.get(e.errno, e.errno)
    finally:
        s.close()


def main():
    timeout = float(sys.argv[1])
    rest = sys.argv[2:]
    pairs = [(rest[i], int(rest[i + 1])) for i in range(0, len(rest), 2)]
    out = [None] * len(pairs)
    threads = [threading.Thread(target=probe, args=(a, p, timeout, out, i))
               for i, (a, p) in enumerate(pairs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (a, p), r in zip(pairs, out):
        print(a, p, r)


if __name__ == "__main__":
    main()
