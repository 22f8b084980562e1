"""HTTP to the exchange: tokens, retries, and problem details turned into exceptions."""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from exchange.client import authoring
from exchange.client.errors import ServerRefusedError, ServerUnreachableError
from keys import Identity

# Renew this long before the token expires, so a request never races its expiry.
_RENEW_MARGIN = 60.0
# Attempts per request, waiting 0.2, 0.4, 0.8 and 1.6 s between them: about 3 s, enough to
# outlast a killed or restarting server process (gunicorn replaces a worker in about a
# second, longer on a loaded machine), where three attempts in 0.6 s were not.
_RETRIES = 5
# A 502/503/504 is retried after its Retry-After (seconds) when that is at most this long;
# a longer wait (a full disk, a read-only database) is the caller's to decide: the problem
# is raised at once.
_MAX_RETRY_AFTER = 10.0
_DEFAULT_RETRY_AFTER = 1.0


@dataclass
class _Token:
    value: str
    expires_at: float


class Transport:
    """One official's authenticated connection to one server."""

    def __init__(
        self,
        server: str,
        official: str | None = None,
        identity: Identity | None = None,
        *,
        audience: str | None = None,
        timeout: float = 30.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.server = server.rstrip("/")
        self.audience = audience or f"{self.server}/v1/token"
        self.official = official
        self.identity = identity
        self.clock = clock
        self._http = httpx.Client(base_url=self.server, timeout=timeout)
        self._token: _Token | None = None

    def close(self) -> None:
        self._http.close()

    # --- tokens ---------------------------------------------------------------------------------

    def access_token(self) -> str:
        """A valid access token, obtained or renewed with a fresh client assertion."""
        if self._token is None or time.monotonic() > self._token.expires_at - _RENEW_MARGIN:
            if self.identity is None or self.official is None:
                raise ServerUnreachableError("this connection has no identity to log in with")
            identity, official = self.identity, self.official

            def token_request() -> dict[str, str]:
                # A fresh assertion for every attempt: the server takes each one once, so
                # the same one again after an answer was lost would be refused as a replay.
                assertion = authoring.client_assertion(
                    identity, official, self.audience, self.clock()
                )
                return {
                    "grant_type": "client_credentials",
                    "client_assertion_type": authoring.CLIENT_ASSERTION_TYPE,
                    "client_assertion": assertion,
                }

            body = self._send("POST", "/v1/token", form=token_request)
            self._token = _Token(body["access_token"], time.monotonic() + float(body["expires_in"]))
        return self._token.value

    # --- requests -------------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        retry: bool = True,
        form: Callable[[], dict[str, str]] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Send, retrying what a dead connection or a passing outage leaves undecided.

        A connection that fails before the answer arrives (refused, reset, closed without
        a response: a server process that died) and a 502/503/504 are retried with the same
        bytes, which the server answers as it answered the first; `form`, if given, makes
        the form body afresh for each attempt instead.
        """
        attempts = _RETRIES if retry else 1
        last: Exception | None = None
        for attempt in range(attempts):
            if form is not None:
                kwargs["data"] = form()
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                last = exc
                if attempt + 1 < attempts:
                    time.sleep(0.2 * 2**attempt)
                continue
            if response.status_code in (502, 503, 504) and attempt + 1 < attempts:
                wait = _retry_after(response)
                if wait is not None:
                    time.sleep(wait)
                    continue
            return self._parse(response)
        raise ServerUnreachableError(f"cannot reach {self.server}: {last}") from last

    @staticmethod
    def _parse(response: httpx.Response) -> Any:
        content_type = response.headers.get("content-type", "")
        if response.is_success:
            if content_type.startswith("application/json"):
                return response.json()
            return response.text
        if content_type.startswith("application/problem+json"):
            raise ServerRefusedError(response.status_code, response.json())
        raise ServerUnreachableError(f"unexpected HTTP {response.status_code} from the server")

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A request; POSTs are retried with the same bytes, which the server makes idempotent."""
        headers = dict(headers or {})
        if not auth:
            return self._send(method, path, headers=headers, **kwargs)
        try:
            headers["Authorization"] = f"Bearer {self.access_token()}"
            return self._send(method, path, headers=headers, **kwargs)
        except ServerRefusedError as refused:
            if refused.status != 401 or refused.slug != "invalid-token":
                raise
            self._token = None  # revoked or expired early: log in again once
            headers["Authorization"] = f"Bearer {self.access_token()}"
            return self._send(method, path, headers=headers, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post_json(self, path: str, document: Any, *, auth: bool = True) -> Any:
        # Serialised once: every retry sends exactly these bytes.
        body = json.dumps(document, separators=(",", ":")).encode()
        return self.request(
            "POST", path, auth=auth, content=body, headers={"Content-Type": "application/json"}
        )


def _retry_after(response: httpx.Response) -> float | None:
    """How long to wait before retrying, if not too long (RFC 9110 Retry-After in seconds;
    an HTTP date, or none, counts as a short default)."""
    value = response.headers.get("Retry-After", "").strip()
    wait = float(value) if value.isdigit() else _DEFAULT_RETRY_AFTER
    return wait if wait <= _MAX_RETRY_AFTER else None
