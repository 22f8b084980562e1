"""Each checkpoint commits to the directory's own tree; the auditor holds the log to it.

Clients trust the `directory <size> <root>` line to know they replicated every directory
entry (`exchange.client.replica`). It must be exactly the tree of the log's entries about no
case, in every checkpoint the server signs; one the operator signs otherwise is refused.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from exchange import log
from exchange.auditor import verify_log
from exchange.auditor.errors import DirectoryCommitmentMismatchError
from exchange.log import transaction
from exchange.protocol import merkle
from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint
from exchange.protocol.events import Event
from exchange.runtime import server_keys
from exchange.storage import database
from exchange.storage.models import Checkpoint as CheckpointRow
from exchange.storage.models import LogEntry
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


def test_a_checkpoint_another_process_signed_is_read_not_assumed(database_url, signer):
    """Each process remembers the directory line of its own last checkpoint, to carry it
    over without reading it back; after another process's directory entry, the line it
    carries must be that process's."""
    ours, theirs = database.make_database(database_url), database.make_database(database_url)
    moment = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)

    def append(db: database.Database, case_id: str | None) -> None:
        with transaction.write(db, signer) as session:
            if case_id is None:
                details = {"org": "late", "kind": "agency", "name": "Late"}
                log.append(session, Event.ORGANISATION_CREATED, moment, details=details)
            else:
                log.append(session, Event.CASE, moment, case_id=case_id, details={})

    try:
        append(ours, "case-1")
        append(ours, "case-2")  # carried over from our own last checkpoint
        append(theirs, None)
        append(ours, "case-3")  # must carry over theirs, not our last
        with ours.engine.connect() as connection:
            rows = connection.execute(select(CheckpointRow.note).order_by(CheckpointRow.size))
            lines = [_text(note).extensions for (note,) in rows]
            leaf_rows = connection.execute(select(LogEntry.leaf).order_by(LogEntry.index))
            leaves = _directory(leaf for (leaf,) in leaf_rows)
    finally:
        ours.engine.dispose()
        theirs.engine.dispose()
    empty, one = b64_encode(merkle.root([])), b64_encode(merkle.root(leaves))
    assert lines == [
        (f"directory 0 {empty}",),
        (f"directory 0 {empty}",),
        (f"directory 1 {one}",),
        (f"directory 1 {one}",),
    ]
