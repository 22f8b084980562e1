"""The log over the exchange's HTTP API (`/v1/log/...`), read with httpx.

Entries and proofs need a bearer token: the caller passes a token provider, called on the
first protected request and once more if the token expires during a long run.
"""

from collections.abc import Callable, Sequence
from typing import Any

import httpx

from exchange.auditor.source import LogKey, ProofUnavailableError, SourceError
from keys.b64 import NonCanonicalBase64Error, b64_decode

TokenProvider = Callable[[], str]


def _problem(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return f"{response.request.method} {response.request.url.path}: HTTP {response.status_code}" + (
        f": {detail}" if detail else ""
    )


def _hashes(values: object, what: str) -> list[bytes]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SourceError(f"{what} is not a list of base64 hashes")
    try:
        return [b64_decode(v) for v in values]
    except NonCanonicalBase64Error as exc:
        raise SourceError(f"{what} is not base64") from exc


class HttpSource:
    def __init__(
        self,
        server: str,
        token: TokenProvider | None = None,
        *,
        client: httpx.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.server = server.rstrip("/")
        self._token_provider = token
        self._token: str | None = None
        self._client = client or httpx.Client(base_url=self.server, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def _get(
        self, path: str, params: dict[str, int] | None = None, *, auth: bool = False
    ) -> httpx.Response:
        for attempt in range(2):
            headers = {}
            if auth:
                if self._token_provider is None:
                    raise SourceError(
                        f"{path} needs an access token: give --key-dir and --official"
                    )
                if self._token is None or attempt:
                    self._token = self._token_provider()
                headers["Authorization"] = f"Bearer {self._token}"
            try:
                response = self._client.get(path, params=params, headers=headers)
            except httpx.HTTPError as exc:
                raise SourceError(f"cannot reach {self.server}: {exc}") from exc
            if not (auth and response.status_code == 401 and attempt == 0):
                break
        if response.status_code == 404 and path.startswith("/v1/log/proof/"):
            raise ProofUnavailableError(_problem(response))
        if response.status_code != 200:
            raise SourceError(_problem(response))
        return response

    def _json(self, path: str, params: dict[str, int] | None = None) -> dict[str, Any]:
        response = self._get(path, params, auth=True)
        try:
            document = response.json()
        except ValueError as exc:
            raise SourceError(f"{path} did not answer JSON") from exc
        if not isinstance(document, dict):
            raise SourceError(f"{path} did not answer a JSON object")
        return document

    def checkpoint(self) -> str:
        return self._get("/v1/log/checkpoint").text

    def witnessed_checkpoint(self) -> str:
        """The public C2SP tlog-tiles checkpoint, with the witnesses' cosignatures."""
        return self._get("/checkpoint").text

    def log_key(self) -> LogKey:
        try:
            document = self._get("/v1/log/key").json()
        except ValueError as exc:
            raise SourceError("/v1/log/key did not answer JSON") from exc
        origin = document.get("origin") if isinstance(document, dict) else None
        retired = document.get("retired_verifier_keys") if isinstance(document, dict) else None
        keys = [document.get("verifier_key"), *retired] if isinstance(retired, list) else [None]
        if not isinstance(origin, str) or not all(isinstance(k, str) for k in keys):
            raise SourceError("/v1/log/key did not answer an origin and verifier keys")
        return LogKey(origin, tuple(str(k) for k in keys))

    def entries(self, start: int, end: int) -> Sequence[str]:
        rows = self._json("/v1/log/entries", {"start": start, "end": end}).get("entries")
        if not isinstance(rows, list):
            raise SourceError("/v1/log/entries did not answer a list of entries")
        texts = []
        for offset, row in enumerate(rows):
            if not isinstance(row, dict) or row.get("index") != start + offset:
                raise SourceError(f"/v1/log/entries answered out of order at {start + offset}")
            if row.get("entry") is None and "leaf_hash" in row:
                raise SourceError(
                    f"the server withholds entry {start + offset} from this login (it shows"
                    " officials only their own cases): a full audit needs an auditor's login"
                )
            if not isinstance(row.get("entry"), str):
                raise SourceError(f"/v1/log/entries answered no text for entry {start + offset}")
            texts.append(row["entry"])
        return texts

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        document = self._json("/v1/log/proof/consistency", {"old": old, "new": new})
        return _hashes(document.get("proof"), "the consistency proof")

    def witnesses(self) -> Sequence[str]:
        # The API serves the latest checkpoint only; receipts carry earlier ones.
        return ()
