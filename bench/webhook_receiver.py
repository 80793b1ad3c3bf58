"""A lender's webhook receiver for the monitoring benchmark, run as a process of its own.

It verifies each delivery's ``OpenBureau-Signature`` over the raw body (docs/monitoring.md, "Verifying the
signature"), answers 200 (or 401 when the signature is wrong) and appends one JSON line per request to the
log: the wall-clock time it was received, the delivery id (the idempotency key), the trigger's id, the
lender's reference, when the cause occurred, and whether the signature verified.

    python bench/webhook_receiver.py --port 8765 --log received.jsonl   # the secret in WEBHOOK_SECRET
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify(header: str, body: bytes, secret: str, tolerance: int = 300) -> bool:
    """Whether an OpenBureau-Signature header signs this raw body with this secret, recently."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(time.time() - int(stamps[0])) > tolerance:
        return False
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    secret = os.environ["WEBHOOK_SECRET"]
    out = open(args.log, "a", buffering=1)  # noqa: SIM115 - one line per request, kept open while serving
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the worker's client reuses its connection

        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received = time.time()
            ok = verify(self.headers.get("OpenBureau-Signature", ""), body, secret)
            try:
                payload = json.loads(body)
                trigger, data = payload["id"], payload["data"]
            except (ValueError, KeyError):
                trigger, data = None, {}
            line = json.dumps({"t": received, "delivery": self.headers.get("OpenBureau-Delivery-Id"),
                               "trigger": trigger, "reference": data.get("reference"),
                               "occurred_at": data.get("occurred_at"), "verified": ok})
            with lock:
                out.write(line + "\n")
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 512  # a web server's listen backlog (the standard library's 5 drops a burst)

    server = Server(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
