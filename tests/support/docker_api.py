#!/usr/bin/python3
"""The lab's container runtime API: Docker Engine API answers over a unix socket.

    docker_api.py READY_FILE SOCKET LIST_JSON VERSION PID

Answers what dsdoctor asks, shaped as Docker's API spec (api/swagger.yaml) says:
`GET /version` ({"Version": VERSION, "ApiVersion": ...}), `GET /containers/json` (the
file LIST_JSON as written: a list of ContainerSummary objects with Id, Names, Image,
Ports and NetworkSettings.Networks), `GET /containers/{id}/json` (ContainerInspectResponse
with State.Pid = PID, the real process in the lab's container namespace). A path with an
API version prefix (`/v1.41/...`) is the same path. Anything else: 404 with Docker's
`{"message": ...}` body.
"""
import http.server
import json
import os
import re
import socketserver
import sys


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    ready, sock, list_json, version, pid = sys.argv[1:6]
    with open(list_json, encoding="utf-8") as f:
        containers = json.load(f)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def address_string(self):
            return "unix"

        def log_message(self, fmt, *args):
            sys.stderr.write("docker_api: " + (fmt % args) + "\n")

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Api-Version", "1.41")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = re.sub(r"^/v[0-9.]+", "", self.path.split("?", 1)[0])
            if path == "/version":
                return self.answer(200, {"Version": version, "ApiVersion": "1.41", "Os": "linux"})
            if path == "/containers/json":
                return self.answer(200, containers)
            m = re.fullmatch(r"/containers/([0-9a-f]+)/json", path)
            if m:
                for c in containers:
                    if c["Id"].startswith(m.group(1)):
                        return self.answer(200, {
                            "Id": c["Id"],
                            "Name": c["Names"][0],
                            "State": {"Status": "running", "Running": True, "Pid": int(pid)},
                            "NetworkSettings": c.get("NetworkSettings", {}),
                        })
                return self.answer(404, {"message": "No such container: " + m.group(1)})
            return self.answer(404, {"message": "page not found"})

    try:
        os.unlink(sock)
    except FileNotFoundError:
        pass
    server = Server(sock, Handler)
    with open(ready, "w", encoding="utf-8") as f:
        f.write("ready\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
