"""The auditor's own parts: canonical JSON, the streaming tree, state, bundles, workers."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.auditor import (
    AuditState,
    StateError,
    StatementError,
    verify_bare_statement,
    verify_log,
)
from exchange.auditor.bundle import Bundle, BundleFormatError, read_bundle, write_bundle
from exchange.auditor.errors import AuditError, TreeMismatchError
from exchange.auditor.tree import CompactRange
from exchange.protocol import merkle
from exchange.protocol.envelope import jose
from exchange.protocol.envelope.errors import BadSignatureError as EnvelopeBadSignature
from exchange.protocol.envelope.errors import UnknownSignerKeyError
from keys import b64url_decode
from tests.exchange.log.helpers import bundle_from_database


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 300), st.data())
def test_the_streaming_tree_is_rfc_9162(size, data):
    hashes = [merkle.leaf_hash(str(i).encode()) for i in range(size)]
    old = data.draw(st.integers(1, size))
    tree = CompactRange(merkle.plan_nodes(merkle.consistency_plan(old, size)))
    for digest in hashes:
        tree.append(digest)
    assert tree.root() == merkle.root(hashes)
    proof = merkle.assemble(merkle.consistency_plan(old, size), tree.captured)
    assert proof == merkle.consistency_proof(hashes, old, size)
    assert [node for node, _ in tree.frontier()] == merkle.root_plan(size)


def test_state_round_trips_and_refuses_a_frontier_that_is_not_the_trees(exchange):
    bundle = bundle_from_database(exchange.url)
    report = verify_log(bundle.entries, bundle.checkpoint, [exchange.verifier_key], bundle.origin)
    state = report.state(bundle.origin)
    assert AuditState.from_json(json.loads(json.dumps(state.to_json()))) == state
    document = state.to_json()
    document["frontier"][0] = document["frontier"][-1]
    with pytest.raises(StateError, match="does not hash to the saved checkpoint"):
        AuditState.from_json(document)


def test_bundles_round_trip_and_refuse_other_files(exchange, tmp_path):
    bundle = bundle_from_database(exchange.url)
    write_bundle(bundle, tmp_path / "b.json")
    assert read_bundle(tmp_path / "b.json") == bundle
    (tmp_path / "bad.json").write_text(json.dumps({**bundle.to_json(), "entries": [1]}))
    with pytest.raises(BundleFormatError, match="entries must be a list of strings"):
        read_bundle(tmp_path / "bad.json")


def test_errors_say_where():
    assert str(TreeMismatchError("differs", 3, end=7)) == "entries 3..6: differs [root-mismatch]"
    assert str(TreeMismatchError("differs", 3, end=4)) == "entry 3: differs [root-mismatch]"
    assert str(AuditError("no index")) == "no index [audit]"


def _statement_entry(bundle: Bundle, event: str) -> dict:
    return next(json.loads(e) for e in bundle.entries if json.loads(e)["event"] == event)


def test_a_bare_statement_verifies_without_its_jwe(exchange):
    bundle = bundle_from_database(exchange.url)
    entry = _statement_entry(bundle, "case")
    officer = exchange.world.officials[entry["actor"]["official"]]
    keys = {officer.identity.signing_kid: officer.identity.signing_public_key}
    verified = verify_bare_statement(entry["statement"], keys)
    assert verified.payload["jwe_sha256"] == entry["jwe_sha256"]
    with pytest.raises(UnknownSignerKeyError):
        verify_bare_statement(entry["statement"], {})
    other = next(p for p in exchange.world.officials.values() if p is not officer)
    with pytest.raises(EnvelopeBadSignature):
        verify_bare_statement(
            entry["statement"], {officer.identity.signing_kid: other.identity.signing_public_key}
        )


class TestWorkers:
    """Statement checks on worker processes give the verdicts of the inline checks."""

    def test_a_sound_log_verifies(self, exchange):
        bundle = bundle_from_database(exchange.url)
        args = (bundle.entries, bundle.checkpoint, [exchange.verifier_key], bundle.origin)
        inline, parallel = verify_log(*args, workers=0), verify_log(*args, workers=2)
        assert (parallel.entries, parallel.signatures) == (inline.entries, inline.signatures)
        assert parallel.frontier == inline.frontier

    def test_the_first_bad_signature_is_named(self, exchange, signer):
        """A log whose operator signed over two bad statements: the first is reported."""
        bundle = bundle_from_database(exchange.url)
        entries = [json.loads(e) for e in bundle.entries]
        bad = [i for i, e in enumerate(entries) if e["event"] in ("receipt", "response")][:2]
        for i in bad:
            head, body, signature = entries[i]["statement"].split(".")
            flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
            entries[i]["statement"] = f"{head}.{body}.{flipped}"
        texts = [rfc8785.dumps(e).decode() for e in entries]
        checkpoint = _resigned(texts, signer)
        for workers in (0, 2):
            with pytest.raises(StatementError) as caught:
                verify_log(texts, checkpoint, [signer.verifier_key], signer.name, workers=workers)
            assert caught.value.index == bad[0]
            assert "signature" in caught.value.reason

    def test_a_signed_statement_outside_the_schema_is_named(self, exchange, signer):
        """Validly signed by its sender, but not a statement: the schema check says so."""
        bundle = bundle_from_database(exchange.url)
        entries = [json.loads(e) for e in bundle.entries]
        index = next(i for i, e in enumerate(entries) if e["event"] == "receipt")
        token = entries[index]["statement"]
        payload = json.loads(b64url_decode(token.split(".")[1]))
        del payload["meta"]["record_sha256"]
        sender = exchange.world.officials[payload["sender"]["official"]]
        entries[index]["statement"] = jose.sign_compact(
            rfc8785.dumps(payload), sender.identity.signing_key, jose.STATEMENT_TYP
        )
        texts = [rfc8785.dumps(e).decode() for e in entries]
        checkpoint = _resigned(texts, signer)
        for workers in (0, 2):
            with pytest.raises(StatementError) as caught:
                verify_log(texts, checkpoint, [signer.verifier_key], signer.name, workers=workers)
            assert caught.value.index == index
            assert "statement does not match its schema (invalid-statement)" in caught.value.reason


def _resigned(texts, signer):
    """A checkpoint over `texts` signed by `signer`: the operator vouching for them."""
    from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint

    root = merkle.root([merkle.leaf_hash(t.encode()) for t in texts])
    return sign_checkpoint(
        Checkpoint(signer.name, len(texts), root), signer.name, signer.private_key
    )
