"""A real webhook receiver process for the tests: it records every request, then answers.

    python -m tests.helpers.receiver RECORD_FILE [--fail-first N] [--hang-first N]

Prints its port on the first line of stdout. Each request is appended to RECORD_FILE as
one JSON line (arrival time, headers, body) and flushed *before* the answer, so what the
tests read is what arrived, whatever happens to the sender afterwards. The first
`--fail-first` requests are answered 500; the first `--hang-first` are held for a minute
(a receiver that is still working when the sender is killed). Answers are recorded as
lines with "answered".
"""

import argparse
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def serve(record: Path, fail_first: int, hang_first: int) -> None:
    lock = threading.Lock()
    counter = {"n": 0}

    def write(line: dict[str, Any]) -> None:
        with lock, record.open("a") as out:
            out.write(json.dumps(line) + "\n")
            out.flush()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                counter["n"] += 1
                n = counter["n"]
            write(
                {
                    "n": n,
                    "at": time.time(),
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": base64.b64encode(body).decode(),
                }
            )
            if n <= hang_first:
                time.sleep(60)
            status = 500 if n <= fail_first else 204
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()
            write({"answered": n, "status": status, "id": self.headers.get("webhook-id")})

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("record", type=Path)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--hang-first", type=int, default=0)
    options = parser.parse_args()
    serve(options.record, options.fail_first, options.hang_first)


if __name__ == "__main__":
    main()
