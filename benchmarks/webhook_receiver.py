"""The events benchmark's webhook receiver, a process of its own as receivers are (and
quick to start: the standard library only). It keeps connections alive, answers 503 to a
share of requests and writes one line per request to a log:
``<webhook-id> <arrival time> <1 if accepted else 0>``.

    python benchmarks/webhook_receiver.py PORT FAIL_SHARE LOG
"""

from __future__ import annotations

import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def main() -> None:
    port, fail_share, log = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    out = open(log, "a", buffering=1)  # noqa: SIM115 - open for the process's life
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            arrived = time.time()
            failing = random.random() < fail_share
            with lock:
                out.write(f"{self.headers.get('webhook-id', '')} {arrived} {int(not failing)}\n")
            self.send_response(503 if failing else 204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a killed worker's connections reset: expected here

    Server(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
