"""Each checkpoint commits to the directory's own tree; the auditor holds the log to it.

Clients trust the `directory <size> <root>` line to know they replicated every directory
entry (`exchange.client.replica`). It must be exactly the tree of the log's entries about no
case, in every checkpoint the server signs; one the operator signs otherwise is refused.
"""

from __future__ import annotations

import json

import pytest

from exchange.auditor import verify_log
from exchange.auditor.errors import DirectoryCommitmentMismatchError
from exchange.protocol import merkle
from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint
from exchange.runtime import server_keys
from keys.b64 import b64_encode
from tests.conftest import FakeClock
from tests.exchange.log.conftest import START, make_app
from tests.exchange.log.helpers import bundle_from_database


def _text(signed: str) -> Checkpoint:
    return Checkpoint.parse(signed.split("\n\n", 1)[0] + "\n")


def _directory(entries) -> list[bytes]:
    return [
        merkle.leaf_hash(entry.encode("utf-8"))
        for entry in entries
        if json.loads(entry)["case_id"] is None
    ]


def test_every_checkpoint_commits_to_the_entries_about_no_case(exchange):
    bundle = bundle_from_database(exchange.url)
    notes = (*bundle.checkpoints, bundle.checkpoint)
    assert len(notes) > 10
    for signed in notes:
        checkpoint = _text(signed)
        leaves = _directory(bundle.entries[: checkpoint.size])
        assert checkpoint.extensions == (
            f"directory {len(leaves)} {b64_encode(merkle.root(leaves))}",
        )
    assert 0 < len(_directory(bundle.entries)) < len(bundle.entries)


def test_a_checkpoint_that_hides_a_directory_entry_is_refused(exchange):
    """The operator, with the log key, signs a directory one entry short: a hidden revocation."""
    bundle = bundle_from_database(exchange.url)
    honest = _text(bundle.checkpoint)
    leaves = _directory(bundle.entries)
    app = make_app(exchange.instance, exchange.url, FakeClock(START))
    with app.app_context():
        log_key = server_keys().log
    short = f"directory {len(leaves) - 1} {b64_encode(merkle.root(leaves[:-1]))}"
    forged = sign_checkpoint(
        Checkpoint(honest.origin, honest.size, honest.root, (short,)),
        log_key.name,
        log_key.private_key,
    )
    with pytest.raises(DirectoryCommitmentMismatchError) as caught:
        verify_log(bundle.entries, forged, [exchange.verifier_key], bundle.origin)
    assert str(caught.value) == (
        f"the checkpoint commits to a directory of {len(leaves) - 1} entries that is not"
        f" the log's {len(leaves)} entries about no case [directory-mismatch]"
    )
    assert verify_log(bundle.entries, bundle.checkpoint, [exchange.verifier_key], bundle.origin)
