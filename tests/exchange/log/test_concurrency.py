"""Concurrent appends from several processes never fork, skip or duplicate an index.

Each writer process opens its own engine and appends in its own write transactions, all
signing checkpoints with the same log key, as several server processes do.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from exchange import log
from exchange.auditor import verify_log
from exchange.log import nodes, transaction
from exchange.log.keyring import LogSigner
from exchange.protocol import merkle
from exchange.protocol.checkpoint import verify_checkpoint
from exchange.protocol.events import Event
from exchange.storage import database
from exchange.storage.models import Checkpoint, LogEntry, LogHead
from tests.exchange.log.helpers import bundle_from_database

WRITERS = 4
TRANSACTIONS = 12
PER_TRANSACTION = 2
ORIGIN = "concurrent.test/log"
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def write(url: str, key: bytes, writer: int, start: multiprocessing.synchronize.Barrier) -> None:
    """One writer process: its own engine, its own transactions."""
    db = database.make_database(url, busy_timeout_ms=30_000)
    signer = LogSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(key))
    start.wait(60)  # all writers ready: they contend from the first transaction
    try:
        for turn in range(TRANSACTIONS):
            with transaction.write(db, signer) as session:
                for number in range(PER_TRANSACTION):
                    log.append(
                        session,
                        Event.ORGANISATION_CREATED,
                        NOW,
                        details={
                            "org": f"w{writer}-{turn}-{number}",
                            "kind": "agency",
                            "name": f"Writer {writer}",
                        },
                    )
    finally:
        db.engine.dispose()


def run_writers(url: str, key: Ed25519PrivateKey) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WRITERS)
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    processes = [
        context.Process(target=write, args=(url, raw, writer, start)) for writer in range(WRITERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [process.exitcode for process in processes] == [0] * WRITERS


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_writers_make_one_consistent_log(request, backend):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    key = Ed25519PrivateKey.generate()
    verifier_key = LogSigner(ORIGIN, key).verifier_key
    run_writers(url, key)
    total = WRITERS * TRANSACTIONS * PER_TRANSACTION

    db = database.make_database(url)
    try:
        with database.read(db) as session:
            indexes = session.scalars(select(LogEntry.index).order_by(LogEntry.index)).all()
            leaves = session.scalars(select(LogEntry.leaf).order_by(LogEntry.index)).all()
            head = session.get(LogHead, 1)
            checkpoints = session.scalars(select(Checkpoint).order_by(Checkpoint.size)).all()
            assert list(indexes) == list(range(total))
            assert head is not None
            assert head.size == total
            # One checkpoint per committed transaction, each over whole transactions.
            sizes = [c.size for c in checkpoints]
            assert sizes == list(range(PER_TRANSACTION, total + 1, PER_TRANSACTION))
            hashes = [merkle.leaf_hash(leaf.encode()) for leaf in leaves]
            for checkpoint in checkpoints:
                signed = verify_checkpoint(checkpoint.note, [verifier_key], ORIGIN)
                assert (signed.size, signed.root) == (checkpoint.size, checkpoint.root)
                assert signed.root == merkle.root(hashes[: signed.size])
            for older, newer in itertools.pairwise(checkpoints):
                proof = nodes.consistency_proof(session, older.size, newer.size)
                merkle.verify_consistency(older.size, newer.size, older.root, newer.root, proof)
            for older, newer in itertools.combinations(checkpoints, 2):
                proof = merkle.consistency_proof(hashes, older.size, newer.size)
                merkle.verify_consistency(older.size, newer.size, older.root, newer.root, proof)
    finally:
        db.engine.dispose()

    bundle = bundle_from_database(url)
    report = verify_log(
        bundle.entries, bundle.checkpoint, [verifier_key], ORIGIN, witnesses=bundle.checkpoints
    )
    assert report.entries == total


def _queued_for_the_log(db: database.Database) -> int:
    """How many transactions of this database wait for the writers' advisory lock."""
    with database.read(db) as session:
        return int(
            session.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"
                )
            ).scalar_one()
        )


def test_postgresql_writers_take_their_turns_in_the_order_they_came(postgres_url, signer):
    db = database.make_database(postgres_url)
    order: list[str] = []

    def write_one(name: str) -> None:
        with transaction.write(db, signer):
            order.append(name)

    writers: list[threading.Thread] = []
    try:
        with transaction.write(db, signer):
            for position, name in enumerate(["first", "second", "third"], start=1):
                writers.append(threading.Thread(target=write_one, args=(name,)))
                writers[-1].start()
                deadline = time.monotonic() + 30
                while _queued_for_the_log(db) < position:  # queued before the next starts
                    assert time.monotonic() < deadline, f"{name} never queued"
                    time.sleep(0.005)
        for writer in writers:
            writer.join(30)
        assert order == ["first", "second", "third"]
    finally:
        db.engine.dispose()
