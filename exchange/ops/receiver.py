"""A webhook receiver for the demo: what a platform's ticketing system would run.

It checks each delivery as a Standard Webhooks receiver must (the HMAC-SHA256 signature
over `id.timestamp.body` with the secret shown at registration, and a fresh timestamp)
before it believes it, and keeps what it accepted.
"""

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOLERANCE_SECONDS = 300


class WebhookInbox:
    def __init__(self) -> None:
        self.secret: bytes | None = None
        self.accepted: list[dict[str, Any]] = []
        self.refused = 0
        self.url = ""
        self._changed = threading.Condition()

    def verify(self, headers: dict[str, str], body: bytes) -> dict[str, Any] | None:
        message_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        if self.secret is None or not stamp.isdigit():
            return None
        if abs(time.time() - int(stamp)) > TOLERANCE_SECONDS:
            return None
        mac = hmac.new(self.secret, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256)
        expected = "v1," + base64.b64encode(mac.digest()).decode()
        offered = headers.get("webhook-signature", "").split(" ")
        if not any(hmac.compare_digest(expected, each) for each in offered):
            return None
        document: dict[str, Any] = json.loads(body)
        return document

    def record(self, headers: dict[str, str], body: bytes) -> bool:
        document = self.verify(headers, body)
        with self._changed:
            if document is None:
                self.refused += 1
            else:
                self.accepted.append({**document, "received_at": time.time()})
            self._changed.notify_all()
        return document is not None

    def wait_for(self, case_id: str, event: str, timeout: float = 10) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for document in self.accepted:
                    if document["type"] == event and document["data"].get("case_id") == case_id:
                        return document
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)


@contextmanager
def webhook_inbox() -> Iterator[WebhookInbox]:
    inbox = WebhookInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            ok = inbox.record({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(204 if ok else 401)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    inbox.url = f"http://127.0.0.1:{server.server_address[1]}/tickets/hotline"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield inbox
    finally:
        server.shutdown()
        server.server_close()
