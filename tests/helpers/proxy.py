"""A real HTTP proxy in front of a real server that rewrites its answers: a lying server.

Clients talk to `proxy.url`; every request is forwarded to the upstream server as it came,
and every answer passes through the rules set on the proxy before it goes back. Each rule
matches a method and path (and optionally the query) and returns the new body. The proxy
also records what reached the server, so a test can show what was (not) encrypted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

# (query, upstream body) -> body sent to the client
Rewrite = Callable[[dict[str, list[str]], bytes], bytes]


@dataclass
class Forwarded:
    method: str
    path: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LyingProxy:
    upstream: str
    rules: dict[tuple[str, str], Rewrite] = field(default_factory=dict)
    forwarded: list[Forwarded] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _client: httpx.Client | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LyingProxy:
        proxy = self
        client = self._client = httpx.Client(base_url=self.upstream, timeout=30)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                proxy.forwarded.append(Forwarded(self.command, parts.path, body))
                headers = {
                    name: value
                    for name, value in self.headers.items()
                    if name.lower() not in {"host", "content-length", "connection"}
                }
                answer = client.request(self.command, self.path, headers=headers, content=body)
                content = answer.content
                rule = proxy.rules.get((self.command, parts.path))
                if rule is not None and answer.status_code < 300:
                    content = rule(parse_qs(parts.query), content)
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in {
                        "content-length",
                        "connection",
                        "transfer-encoding",
                        "content-encoding",
                        "date",
                        "server",
                    }:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815 - http.server names

            def log_message(self, *_args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._client is not None:
            self._client.close()
            self._client = None

    @contextmanager
    def lying(self, method: str, path: str, rewrite: Rewrite) -> Iterator[None]:
        """Rewrite the answers to `method path` inside the block."""
        self.rules[(method, path)] = rewrite
        try:
            yield
        finally:
            del self.rules[(method, path)]

    def posted(self, path_prefix: str) -> list[Forwarded]:
        return [f for f in self.forwarded if f.method == "POST" and f.path.startswith(path_prefix)]


def rewrite_json(change: Callable[[Any], Any]) -> Rewrite:
    """A rewrite of a JSON answer: `change` edits (or replaces) the decoded document."""

    def rewrite(_query: dict[str, list[str]], body: bytes) -> bytes:
        document = json.loads(body)
        changed = change(document)
        return json.dumps(document if changed is None else changed).encode()

    return rewrite
