#!/usr/bin/python3
"""A small ifconfig.co-compatible echo service for the dsdoctor test lab.

    echo.py READY_FILE ADDR PORT [ADDR PORT ...]

GET /        -> the caller's address as plain text
GET /port/N  -> {"ip": caller, "port": N, "reachable": bool} after a TCP connect back
                to the caller on port N (2 s timeout, like echoip)
Anything else is 404. Python stdlib only; one thread per request.
"""
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONNECT_BACK_TIMEOUT = 2.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("echo: %s %s\n" % (self.client_address[0], fmt % args))

    def reply(self, code, body, ctype):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        ip = self.client_address[0]
        if ip.startswith("::ffff:"):
            ip = ip[7:]
        path = self.path.split("?")[0].rstrip("/")
        if path == "":
            self.reply(200, ip + "\n", "text/plain")
        elif path.startswith("/port/") and path[6:].isdigit():
            port = int(path[6:])
            reachable = False
            try:
                socket.create_connection((ip, port), timeout=CONNECT_BACK_TIMEOUT).close()
                reachable = True
            except OSError:
                pass
            self.reply(200, json.dumps({"ip": ip, "port": port, "reachable": reachable}),
                       "application/json")
        else:
            self.reply(404, "not found\n", "text/plain")


class V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()


def main():
    ready = sys.argv[1]
    rest = sys.argv[2:]
    servers = []
    for i in range(0, len(rest), 2):
        addr, port = rest[i], int(rest[i + 1])
        cls = V6Server if ":" in addr else ThreadingHTTPServer
        cls.daemon_threads = True
        servers.append(cls((addr, port), Handler))
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    open(ready, "w").close()
    threading.Event().wait()


if __name__ == "__main__":
    main()
