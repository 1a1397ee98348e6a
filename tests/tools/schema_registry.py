#!/usr/bin/env python3
"""A small stand-in for a Confluent schema registry, for the tests.

Serves the read-only part of the registry's REST API, with its JSON
shapes and content type:

  GET /schemas/ids/{id}                 {"schema": "<text>"}
  GET /subjects                         ["chat-value", ...]
  GET /subjects/{s}/versions            [1, 2]
  GET /subjects/{s}/versions/{v|latest} {"subject", "version", "id", "schema"}

and the registry's error bodies: 404 {"error_code": 40403, "message":
"Schema 99 not found"} (40401 subject, 40402 version), 401 with 40101.

The schemas come from DIR, laid out as DIR/<subject>/<version>-<id>.avsc
(e.g. DIR/chat-value/2-21.avsc: subject chat-value, version 2, id 21).
The schema text is served as the file holds it. The directory is read
again on every request, so a test may add files while the server runs.

Faults, for the tests of the client: --fail-first N answers 503 to the
first N requests, --garbage-first N answers 200 with a body that is not
JSON to the first N requests (after the --fail-first ones), --delay-ms
waits before every answer. One log line per request goes to stderr.
SIGTERM stops the server; a new one may bind the same port at once.
"""
import argparse
import base64
import json
import os
import re
import signal
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
FILE_RE = re.compile(r"^([0-9]+)-([0-9]+)\.avsc$")


def load_schemas(root):
    """{subject: {version: (id, text)}} from root/<subject>/<version>-<id>.avsc."""
    subjects = {}
    for subject in sorted(os.listdir(root)):
        sdir = os.path.join(root, subject)
        if not os.path.isdir(sdir):
            continue
        for name in os.listdir(sdir):
            m = FILE_RE.match(name)
            if m:
                with open(os.path.join(sdir, name), encoding="utf-8") as f:
                    text = f.read()
                subjects.setdefault(subject, {})[int(m.group(1))] = (int(m.group(2)), text)
    return subjects


class Registry(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "test-schema-registry"

    def log_message(self, fmt, *args):
        pass  # one line per request, from reply()

    def reply(self, status, body):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="schema-registry"')
        self.end_headers()
        self.wfile.write(data)
        print(f"schema_registry: {self.command} {self.path} -> {status}", file=sys.stderr,
              flush=True)

    def error(self, status, code, message):
        self.reply(status, {"error_code": code, "message": message})

    def authorized(self):
        opts = self.server.opts
        if opts.user is None:
            return True
        want = base64.b64encode(f"{opts.user}:{opts.password}".encode()).decode()
        return self.headers.get("Authorization", "") == "Basic " + want

    def fault(self):
        """The answer the fault options give this request, or None."""
        with self.server.lock:
            self.server.count += 1
            n = self.server.count
        opts = self.server.opts
        if n <= opts.fail_first:
            return 503, {"error_code": 50003, "message": "Service unavailable (test)"}
        if n <= opts.fail_first + opts.garbage_first:
            return 200, b"<html>not the registry</html>"
        return None

    def do_GET(self):
        if self.server.opts.delay_ms:
            time.sleep(self.server.opts.delay_ms / 1000)
        fault = self.fault()
        if fault:
            return self.reply(*fault)
        if not self.authorized():
            return self.error(401, 40101, "Unauthorized")
        parts = [unquote(p) for p in self.path.split("?")[0].strip("/").split("/")]
        subjects = load_schemas(self.server.opts.dir)
        if len(parts) == 3 and parts[:2] == ["schemas", "ids"] and parts[2].isdigit():
            return self.schema_by_id(subjects, int(parts[2]))
        if parts == ["subjects"]:
            return self.reply(200, sorted(subjects))
        if len(parts) >= 3 and parts[0] == "subjects" and parts[2] == "versions":
            return self.subject(subjects, parts[1], parts[3:])
        self.error(404, 404, "HTTP 404 Not Found")

    def schema_by_id(self, subjects, sid):
        for versions in subjects.values():
            for vid, text in versions.values():
                if vid == sid:
                    return self.reply(200, {"schema": text})
        self.error(404, 40403, f"Schema {sid} not found")

    def subject(self, subjects, name, rest):
        versions = subjects.get(name)
        if versions is None:
            return self.error(404, 40401, f"Subject '{name}' not found.")
        if not rest:
            return self.reply(200, sorted(versions))
        v = max(versions) if rest[0] == "latest" else int(rest[0]) if rest[0].isdigit() else -1
        if v not in versions or len(rest) > 1:
            return self.error(404, 40402, f"Version {rest[0]} not found.")
        sid, text = versions[v]
        self.reply(200, {"subject": name, "version": v, "id": sid, "schema": text})


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", help="schemas as DIR/<subject>/<version>-<id>.avsc")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: a free port")
    p.add_argument("--port-file", help="the port is written there once the server listens")
    p.add_argument("--user", help="require basic auth with this user (and --password)")
    p.add_argument("--password", default="")
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", help="the certificate's private key (PEM)")
    p.add_argument("--tls-client-ca",
                   help="with --tls-cert: require a client certificate signed by this CA (PEM)")
    p.add_argument("--fail-first", type=int, default=0, help="answer 503 to the first N requests")
    p.add_argument("--garbage-first", type=int, default=0,
                   help="then answer 200 with a non-JSON body to the next N requests")
    p.add_argument("--delay-ms", type=int, default=0, help="wait this long before each answer")
    opts = p.parse_args()

    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((opts.bind, opts.port), Registry)
    server.block_on_close = False  # a delayed answer must not hold up SIGTERM
    server.opts, server.lock, server.count = opts, threading.Lock(), 0
    if opts.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
        if opts.tls_client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(opts.tls_client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.rename(tmp, opts.port_file)
    print(f"schema_registry: listening on {opts.bind}:{port}", file=sys.stderr, flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
