#!/usr/bin/python3
"""A small Globalping-compatible measurement API for the dsdoctor test lab.

    globalping.py READY_FILE ADDR PORT PROBES_JSON MODE

Every measurement runs for real, from "probe" network namespaces of the lab: curl for
`http`, dig for `dns`, ping for `ping`, each started with `ip netns exec PROBE_NS`.
PROBES_JSON lists the probes: {"ns", "continent", "country", "city", "asn", "network",
"ipv6"}; each carries its own location metadata.

The shapes follow Globalping's published API specification, jsdelivr/globalping
public/v1/components/schemas.yaml (CreateMeasurementResponse, MeasurementResponse,
MeasurementResultItem with ProbeLocation, FinishedHttpTestResult,
FinishedSimpleDnsTestResult, FinishedPingTestResult, FailedTestResult, Limits) and
responses.yaml (the `error` object of 422 and 429), for the subset dsdoctor's contract
names:

    POST /v1/measurements       -> 202 {"id", "probesCount"} | 422 | 429
    GET  /v1/measurements/{id}  -> 200 MeasurementResponse
    GET  /v1/limits             -> 200 Limits

MODE makes the API misbehave the ways a real one does:
    normal   measure
    429      refuse every new measurement with 429 and Retry-After (quota used up)
    422-v6   refuse measurements over IPv6 with 422 (no IPv6-capable probe)
    stall    accept, but the measurement stays in-progress for ever

Every request is logged to stderr as `REQ <arrival, monotonic s> <method> <path> <status> auth=<0|1>`
so tests can count requests (no loop) and their spacing (polling rate).
Python stdlib only; one thread per request, one per probe test.
"""
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RETRY_AFTER = 42
LIMIT = 250

LOCK = threading.Lock()
MEASUREMENTS = {}
PROBES = []
MODE = "normal"


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def location(p):
    """ProbeLocation plus the tags and resolvers of MeasurementResultItem.probe."""
    return {
        "continent": p["continent"], "region": p.get("region", ""), "country": p["country"],
        "state": None, "city": p["city"], "asn": p["asn"], "network": p["network"],
        "latitude": 0.0, "longitude": 0.0, "tags": [], "resolvers": ["private"],
    }


def netns(p, argv, timeout):
    start = time.monotonic()
    try:
        out = subprocess.run(["ip", "netns", "exec", p["ns"]] + argv, capture_output=True,
                             text=True, timeout=timeout)
        return out.returncode, out.stdout, out.stderr, int((time.monotonic() - start) * 1000)
    except subprocess.TimeoutExpired:
        return 124, "", "timed out", int((time.monotonic() - start) * 1000)


def run_http(p, target, opts):
    req = opts.get("request") or {}
    proto = opts.get("protocol", "HTTPS")
    scheme = "http" if proto == "HTTP" else "https"
    port = int(opts.get("port", 80 if scheme == "http" else 443))
    family = "-6" if opts.get("ipVersion") == 6 else "-4"
    url = "%s://%s:%d%s" % (scheme, target, port, req.get("path", "/"))
    method = req.get("method", "HEAD")
    argv = ["curl", "-sS", family, "-k", "--connect-timeout", "4", "--max-time", "8",
            "-o", "/dev/null", "-w", "%{json}", "-H", "Host: %s" % req.get("host", target)]
    argv += ["-I"] if method == "HEAD" else ["-X", method]
    code, out, err, ms = netns(p, argv + [url], 10)
    try:
        w = json.loads(out)
    except ValueError:
        w = {}
    status = int(w.get("http_code") or 0)
    if code != 0 or status == 0:
        return {"status": "failed", "rawOutput": err.strip() or ("curl exit %d" % code)}
    remote = w.get("remote_ip") or None
    return {
        "status": "finished", "rawHeaders": "", "rawBody": None, "truncated": False,
        "headers": {}, "statusCode": status, "statusCodeName": "",
        "resolvedAddress": remote,
        "timings": {"total": int(float(w.get("time_total", 0)) * 1000), "dns": None,
                    "tcp": None, "tls": None, "firstByte": None, "download": None},
        "tls": None, "rawOutput": "HTTP %d" % status,
    }


def run_dns(p, target, opts):
    qtype = (opts.get("query") or {}).get("type", "A")
    code, out, err, ms = netns(p, ["dig", "+noall", "+answer", "+time=2", "+tries=1",
                                   qtype, target], 6)
    if code != 0:
        return {"status": "failed", "rawOutput": err.strip() or out.strip()}
    answers = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5 and not line.startswith(";"):
            answers.append({"name": f[0], "type": f[3], "ttl": int(f[1]), "class": f[2],
                            "value": " ".join(f[4:])})
    return {"status": "finished", "statusCode": 0, "statusCodeName": "NOERROR",
            "resolver": "private", "answers": answers, "timings": {"total": ms},
            "rawOutput": out}


def run_ping(p, target, opts):
    family = "-6" if opts.get("ipVersion") == 6 else "-4"
    n = int(opts.get("packets", 3))
    code, out, err, ms = netns(p, ["ping", family, "-n", "-c", str(n), "-i", "0.2", "-W", "1",
                                   target], 10)
    rtts = []
    for line in out.splitlines():
        if "time=" in line:
            try:
                rtts.append(float(line.split("time=")[1].split()[0]))
            except (IndexError, ValueError):
                pass
    if not out.strip():
        return {"status": "failed", "rawOutput": err.strip()}
    rcv = len(rtts)
    return {
        "status": "finished", "rawOutput": out, "resolvedAddress": None,
        "resolvedHostname": None,
        "stats": {"min": min(rtts) if rtts else None, "avg": sum(rtts) / rcv if rtts else None,
                  "max": max(rtts) if rtts else None, "total": n, "rcv": rcv,
                  "drop": n - rcv, "loss": 100.0 * (n - rcv) / n},
        "timings": [{"rtt": r, "ttl": 64} for r in rtts],
    }


RUNNERS = {"http": run_http, "dns": run_dns, "ping": run_ping}


def matches(p, loc):
    if not isinstance(loc, dict):
        return False
    if loc.get("magic") == "world":
        return True
    for key in ("continent", "country", "asn"):
        if key in loc and loc[key] != p[key]:
            return False
    return True


def choose(locations, limit, v6):
    """Spread `limit` probes over the locations, round robin, as Globalping does."""
    usable = [p for p in PROBES if p["ipv6"] or not v6]
    chosen = []
    progress = True
    while len(chosen) < limit and progress:
        progress = False
        for loc in locations:
            for p in usable:
                if p not in chosen and matches(p, loc):
                    chosen.append(p)
                    progress = True
                    break
            if len(chosen) >= limit:
                break
    return chosen


def measure(mid):
    m = MEASUREMENTS[mid]
    runner = RUNNERS[m["type"]]

    def one(i, p):
        result = runner(p, m["target"], m["options"])
        with LOCK:
            m["results"][i]["result"] = result
            m["updatedAt"] = now_iso()
            if all(r["result"]["status"] != "in-progress" for r in m["results"]):
                m["status"] = "finished"

    for i, p in enumerate(m["probes"]):
        threading.Thread(target=one, args=(i, p), daemon=True).start()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, obj, headers=()):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        auth = 1 if (self.headers.get("Authorization") or "").startswith("Bearer ") else 0
        # The time the request arrived: the client's spacing, not the server's delays.
        sys.stderr.write("REQ %.3f %s %s %d auth=%d\n" % (self.arrived, self.command,
                                                         self.path, code, auth))
        sys.stderr.flush()

    def error(self, code, kind, message, headers=()):
        self.reply(code, {"error": {"type": kind, "message": message}}, headers)

    def do_GET(self):
        self.arrived = time.monotonic()
        path = self.path.split("?")[0]
        if path == "/v1/limits":
            remaining = 0 if MODE == "429" else LIMIT
            self.reply(200, {"rateLimit": {"measurements": {"create": {
                "type": "ip", "limit": LIMIT, "remaining": remaining, "reset": RETRY_AFTER}}}})
            return
        if path.startswith("/v1/measurements/"):
            mid = path[len("/v1/measurements/"):]
            with LOCK:
                m = MEASUREMENTS.get(mid)
                if m is None:
                    body = None
                else:
                    body = {k: m[k] for k in ("id", "type", "status", "createdAt", "updatedAt",
                                             "target", "probesCount", "results")}
                    body["locations"] = []
                    body = json.loads(json.dumps(body))
            if body is None:
                self.error(404, "not_found", "Couldn't find the requested item.")
            else:
                self.reply(200, body)
            return
        self.error(404, "not_found", "Couldn't find the requested item.")

    def do_POST(self):
        self.arrived = time.monotonic()
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        try:
            req = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self.error(400, "validation_error", "Parameter validation failed.")
            return
        if path != "/v1/measurements":
            self.error(404, "not_found", "Couldn't find the requested item.")
            return
        if MODE == "429":
            self.error(429, "rate_limit_exceeded", "API rate limit exceeded.",
                       [("Retry-After", str(RETRY_AFTER))])
            return
        kind, target = req.get("type"), req.get("target")
        opts = req.get("measurementOptions") or {}
        if kind not in RUNNERS or not isinstance(target, str):
            self.error(400, "validation_error", "Parameter validation failed.")
            return
        v6 = opts.get("ipVersion") == 6
        if v6 and MODE == "422-v6":
            self.error(422, "no_probes_found", "No suitable probes found.")
            return
        locations = req.get("locations", [{"magic": "world"}])
        if isinstance(locations, str):
            with LOCK:
                earlier = MEASUREMENTS.get(locations)
            if earlier is None:
                self.error(422, "no_probes_found", "No suitable probes found.")
                return
            probes = list(earlier["probes"])
        else:
            probes = choose(locations or [{"magic": "world"}], int(req.get("limit", 1)), v6)
        if not probes:
            self.error(422, "no_probes_found", "No suitable probes found.")
            return
        mid = uuid.uuid4().hex[:16]
        stamp = now_iso()
        with LOCK:
            MEASUREMENTS[mid] = {
                "id": mid, "type": kind, "status": "in-progress", "createdAt": stamp,
                "updatedAt": stamp, "target": target, "probesCount": len(probes),
                "options": opts, "probes": probes,
                "results": [{"probe": location(p),
                             "result": {"status": "in-progress", "rawOutput": ""}}
                            for p in probes],
            }
        if MODE != "stall":
            measure(mid)
        self.reply(202, {"id": mid, "probesCount": len(probes)},
                   [("Location", "/v1/measurements/" + mid)])


class V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def main():
    global PROBES, MODE
    ready, addr, port, probes, MODE = sys.argv[1:6]
    with open(probes) as f:
        PROBES = json.load(f)
    cls = V6Server if ":" in addr else ThreadingHTTPServer
    cls.daemon_threads = True
    server = cls((addr, int(port)), Handler)
    with open(ready, "w") as f:
        f.write("ready\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
