"""API10:2023 Unsafe Consumption of APIs: the client SDK does not take the server's word.

Already covered in tests/exchange/client/test_sdk.py, and not repeated here: a key the
log never registered (::test_a_key_the_log_never_registered_is_refused), a log key other
than the pinned one (::test_a_log_key_other_than_the_pinned_one_is_refused), a log that
shrank after a restore (::test_a_rolled_back_log_is_detected). This module puts a lying
server between the SDK and the real one (a WSGI middleware that rewrites chosen answers,
served over real HTTP) and adds: a checkpoint the server signed with a key of its own, a
fork (same size, another root, signed with the real key), a consistency proof that does
not hold, a log entry the inclusion proof does not cover, a timeline whose statement is
not the one logged at its index, and a key that borrows another official's registration.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.serving import make_server

from exchange.client.client import Client
from exchange.client.errors import DirectoryMismatchError, TrustError
from exchange.client.profile import Profile
from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint
from exchange.protocol.envelope.canonical import canonical
from exchange.runtime import server_keys
from tests.conftest import PUBLIC_URL
from tests.exchange.api.support import submit
from tests.helpers.world import World, statement_of
from tests.schemas import examples

Rewrite = Callable[[bytes, dict[str, list[str]]], bytes]


@dataclass
class LyingServer:
    """The real app behind a middleware that rewrites the answers of chosen paths."""

    app: Any
    rules: dict[str, Rewrite] = field(default_factory=dict)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        rule = self.rules.get(environ["PATH_INFO"])
        if rule is None:
            return self.app(environ, start_response)
        answered: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered.update(status=status, headers=headers)
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        body = rule(body, parse_qs(environ.get("QUERY_STRING", "")))
        headers = [(k, v) for k, v in answered["headers"] if k.lower() != "content-length"]
        start_response(answered["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]


@pytest.fixture
def lying(world: World, tmp_path) -> Iterator[tuple[LyingServer, Client]]:
    """The lying server on a local port, and officer-1's SDK client pinned to the real log
    key at enrollment."""
    liar = LyingServer(world.app)
    server = make_server("127.0.0.1", 0, liar)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with world.app.app_context():
        log_key = server_keys().log
    officer = world.officials["officer-1"]
    profile = Profile(
        "liar",
        f"http://127.0.0.1:{server.server_port}",
        "unused",
        officer.org,
        officer.id,
        log_key.name,
        (log_key.verifier_key,),
        audience=f"{PUBLIC_URL}/v1/token",
    )
    client = Client(profile, officer.identity, clock=world.clock, state_dir=tmp_path / "sdk")
    try:
        yield liar, client
    finally:
        client.close()
        server.shutdown()
        thread.join()


def _signed_by_the_log_key(world: World, size: int, root: bytes) -> str:
    with world.app.app_context():
        log_key = server_keys().log
    return sign_checkpoint(Checkpoint(log_key.name, size, root), log_key.name, log_key.private_key)


def _body() -> dict[str, Any]:
    body = examples.deepfake_case_body()
    body["issuer_case_ref"] = "SDK-LIAR-1"
    return body


def test_a_checkpoint_signed_by_a_key_of_the_servers_own_is_refused(world, lying):
    liar, client = lying

    def own_key(body: bytes, _query: Any) -> bytes:
        checkpoint = Checkpoint.parse(body.decode().split("\n\n")[0] + "\n")
        return sign_checkpoint(checkpoint, checkpoint.origin, Ed25519PrivateKey.generate()).encode()

    liar.rules["/v1/log/checkpoint"] = own_key
    with pytest.raises(TrustError, match="does not verify with the pinned key"):
        client.log.checkpoint(refresh=True)


def test_a_forked_log_is_detected(world, lying):
    """A server holding the log key signs a second tree of the same size: caught by the
    client that saw the first."""
    liar, client = lying
    seen = client.log.checkpoint(refresh=True).checkpoint
    forked = _signed_by_the_log_key(world, seen.size, bytes(32))
    liar.rules["/v1/log/checkpoint"] = lambda body, query: forked.encode()
    with pytest.raises(TrustError, match=f"two different roots for size {seen.size}"):
        client.log.checkpoint(refresh=True)


def test_a_consistency_proof_that_does_not_hold_is_refused(world, lying):
    liar, client = lying
    client.log.checkpoint(refresh=True)
    submit(world, world.officials["officer-2"])  # the log grows

    def wrong_proof(body: bytes, _query: Any) -> bytes:
        proof = json.loads(body)
        proof["proof"] = [base64.b64encode(bytes(32)).decode()] * max(1, len(proof["proof"]))
        return json.dumps(proof).encode()

    liar.rules["/v1/log/proof/consistency"] = wrong_proof
    with pytest.raises(TrustError, match="not consistent with what this client saw"):
        client.log.checkpoint(refresh=True)


def test_an_entry_the_proof_does_not_cover_is_refused(world, lying):
    liar, client = lying
    submit(world, world.officials["officer-1"])
    index = world.log_size() - 1
    other = world.log_entries(index - 1)[0]

    def swapped(body: bytes, query: dict[str, list[str]]) -> bytes:
        page = json.loads(body)
        for row in page["entries"]:
            if row["index"] == index:
                row["entry"] = canonical({**other, "index": index}).decode()
        return json.dumps(page).encode()

    liar.rules["/v1/log/entries"] = swapped
    with pytest.raises(TrustError, match=f"log entry {index} is not proven"):
        client.log.entry(index)


def test_a_timeline_statement_not_the_logged_one_is_refused(world, lying):
    liar, client = lying
    officer = world.officials["officer-1"]
    first, _ = submit(world, officer)
    _, second_statement = submit(world, officer)
    first_index = next(
        e["index"]
        for e in world.log_entries()
        if e["handoff_id"] == statement_of(first)["handoff_id"] and e["event"] == "case"
    )

    def relabelled(body: bytes, _query: Any) -> bytes:
        case = json.loads(body)
        case["timeline"][0]["log_index"] = first_index  # a real entry, another statement
        return json.dumps(case).encode()

    liar.rules[f"/v1/cases/{second_statement['case_id']}"] = relabelled
    with pytest.raises(TrustError, match=f"log entry {first_index} holds another statement"):
        client.open_case(second_statement["case_id"])


def test_a_key_that_borrows_another_officials_registration_is_refused(world, lying):
    liar, client = lying
    lead_enrolled = next(
        e["index"]
        for e in world.log_entries()
        if e["event"] == "official_enrolled" and e["actor"]["official"] == "cs-lead"
    )

    def borrowed(body: bytes, _query: Any) -> bytes:
        keys = json.loads(body)
        for key in keys["keys"]:
            if key["official"] == "cs-reviewer":
                key["registered_log_index"] = lead_enrolled
        return json.dumps(keys).encode()

    liar.rules["/v1/orgs/clipshare/keys"] = borrowed
    refusal = (
        rf"^the server says key \S+ was registered at log entry {lead_enrolled}, the log says \d+$"
    )
    with pytest.raises(DirectoryMismatchError, match=refusal):
        client.submit(_body(), "clipshare")
    # Nothing was sent: the refusal happened before sealing.
    assert [c for c in client.cases() if c["issuer_case_ref"] == "SDK-LIAR-1"] == []
