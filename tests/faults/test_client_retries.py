"""The SDK's retries against what a dying server or a passing outage does to a request.

* An answer lost after the server acted: handoffs are re-sent byte for byte (tested in
  tests/exchange/client/test_sdk.py and, with killed workers, in test_worker_kill.py);
  a login is retried with a fresh client assertion, since the server takes each once.
* A 502/503/504: retried after its Retry-After when that is short; a long one (a full
  disk, a read-only database) is the caller's to wait for, so the problem is raised.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from exchange.client.client import Client
from exchange.client.errors import ServerRefusedError, ServerUnreachableError
from exchange.client.profile import Profile
from exchange.client.transport import Transport
from tests.helpers.traffic import Operator, Wire, case_body, enroll


class AnswerDroppingProxy:
    """Relays HTTP/1.1 requests (one per connection) to the server, and hangs up instead of
    answering the first `drops` requests whose request line starts with `prefix`."""

    def __init__(self, target_port: int, prefix: bytes, drops: int = 1) -> None:
        self.target_port, self.prefix, self.drops = target_port, prefix, drops
        self.dropped = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    @staticmethod
    def _read(sock: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            body += sock.recv(65536)
        return head + b"\r\n\r\n" + body

    def _relay(self, client: socket.socket) -> None:
        with client:
            request = self._read(client)
            with socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
                upstream.sendall(request)
                answer = self._read(upstream)
            if request.startswith(self.prefix) and self.dropped < self.drops:
                self.dropped += 1
                return  # the server acted; the client never hears of it
            client.sendall(answer)

    def close(self) -> None:
        self.listener.close()


def test_a_login_whose_answer_was_lost_is_retried_with_a_fresh_assertion(gunicorn, tmp_path):
    server = gunicorn(workers=1)
    operator = Operator(server)
    operator.org("metro-police", "agency")
    operator.org("clipshare", "platform")
    officer = enroll(operator, "metro-police", "officer-1", "agency_officer", tmp_path)
    enroll(operator, "clipshare", "cs-lead", "platform_lead", tmp_path).close()
    proxy = AnswerDroppingProxy(server.port, b"POST /v1/token ")
    profile = Profile(
        "proxied",
        f"http://127.0.0.1:{proxy.port}",
        "unused",
        "metro-police",
        "officer-1",
        officer.profile.log_origin,
        officer.profile.log_verifier_keys,
        audience=officer.profile.token_endpoint,  # the server's name for its token endpoint
    )
    proxied = Client(profile, officer.identity, state_dir=tmp_path / "proxied")
    wire = Wire()
    wire.watch(proxied)
    try:
        sent = proxied.submit(case_body("officer-1", 0), "clipshare")
        assert sent.state == "submitted"
        assert proxy.dropped == 1
        logins = [body for method, path, body in wire.sent if path == "/v1/token"]
        assert len(logins) == 2
        assert logins[0] != logins[1]  # a fresh assertion, not a replay of the spent one
    finally:
        proxied.close()
        officer.close()
        proxy.close()
        operator.close()


@pytest.mark.parametrize(("drops", "delivered"), [(4, True), (5, False)])
def test_a_handoff_is_sent_five_times_before_the_server_counts_as_unreachable(
    gunicorn, tmp_path, drops, delivered
):
    # Four lost answers in a row (a worker killed under each attempt) still end in the
    # server's own answer to the repeated bytes; a fifth means the server is unreachable.
    server = gunicorn(workers=1)
    operator = Operator(server)
    operator.org("metro-police", "agency")
    operator.org("clipshare", "platform")
    officer = enroll(operator, "metro-police", "officer-1", "agency_officer", tmp_path)
    enroll(operator, "clipshare", "cs-lead", "platform_lead", tmp_path).close()
    proxy = AnswerDroppingProxy(server.port, b"POST /v1/cases ", drops=drops)
    profile = Profile(
        "proxied",
        f"http://127.0.0.1:{proxy.port}",
        "unused",
        "metro-police",
        "officer-1",
        officer.profile.log_origin,
        officer.profile.log_verifier_keys,
        audience=officer.profile.token_endpoint,
    )
    proxied = Client(profile, officer.identity, state_dir=tmp_path / "proxied")
    wire = Wire()
    wire.watch(proxied)
    try:
        if delivered:
            assert proxied.submit(case_body("officer-1", 0), "clipshare").state == "submitted"
        else:
            with pytest.raises(ServerUnreachableError):
                proxied.submit(case_body("officer-1", 0), "clipshare")
        posts = [body for method, path, body in wire.sent if path == "/v1/cases"]
        assert proxy.dropped == drops
        assert len(posts) == 5  # four lost and the answered one, or five lost
        assert len(set(posts)) == 1  # the same bytes every time
    finally:
        proxied.close()
        officer.close()
        proxy.close()
        operator.close()


class Outage(BaseHTTPRequestHandler):
    """Every request: 503 with the server's Retry-After (set per test)."""

    retry_after = "0"
    seen: list[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(hashlib.sha256(body).hexdigest())
        problem = json.dumps(
            {"type": "urn:hotline:problem:storage-full", "title": "Full", "status": 503}
        ).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(problem)))
        self.send_header("Retry-After", self.retry_after)
        self.end_headers()
        self.wfile.write(problem)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("retry_after", "attempts"),
    [
        ("0", 5),  # soon: retried, the same bytes each time, then the problem is raised
        ("Wed, 21 Oct 2015 07:28:00 GMT", 5),  # an HTTP date: a short default wait
        ("60", 1),  # too long to wait for in a call: the problem at once
    ],
)
def test_a_503_is_retried_only_when_retry_after_is_short(retry_after, attempts):
    handler = type("Handler", (Outage,), {"retry_after": retry_after, "seen": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    transport = Transport(f"http://127.0.0.1:{httpd.server_address[1]}")
    try:
        with pytest.raises(ServerRefusedError) as refused:
            transport.post_json("/v1/cases", {"a": 1}, auth=False)
    finally:
        transport.close()
        httpd.shutdown()
        httpd.server_close()
    assert refused.value.status == 503
    assert refused.value.slug == "storage-full"
    assert len(handler.seen) == attempts
    assert len(set(handler.seen)) == 1
