"""What the lab's small servers share (tests/support/*.py import it): a listening TCP
socket with IPV6_V6ONLY set as asked, the ready file the lab waits for, and a thread per
connection."""
import socket
import threading


def listening_socket(addr, port, v6only=None, backlog=64):
    """A TCP socket listening on addr:port. For an IPv6 address, v6only True/False sets
    IPV6_V6ONLY explicitly; None keeps the kernel default (net.ipv6.bindv6only)."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6 and v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    s.bind((addr, port))
    s.listen(backlog)
    return s


def chunks(c, size=4096):
    """What c receives, chunk by chunk, until the peer closes."""
    while True:
        chunk = c.recv(size)
        if not chunk:
            return
        yield chunk


def read_head(c, limit=65536, keep_partial=False):
    """Bytes from c until the end of an HTTP request head, EOF, or limit bytes. With
    keep_partial, a timeout or error ends the read with what came so far."""
    data = b""
    try:
        for chunk in chunks(c):
            data += chunk
            if b"\r\n\r\n" in data or b"\n\n" in data or len(data) >= limit:
                break
    except OSError:
        if not keep_partial:
            raise
    return data


def serve(s, handle, *args):
    """Accept forever, handling each connection in its own thread: handle(conn, *args)."""
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c,) + args, daemon=True).start()


def signal_ready(path):
    """Tell the lab the server listens (it waits for this file)."""
    open(path, "w").close()
