"""The stored subtrees in a real database against RFC 9162's recursive definitions.

Logs are built through `exchange.log.append` in `exchange.log.transaction.write()`
transactions (so batches of appends share a transaction and a checkpoint, as on the
server); proofs are read back through `exchange.log.nodes` and compared with
`exchange.protocol.merkle`'s reference recursion
over the same leaves, then verified.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from exchange import log
from exchange.log import nodes, transaction
from exchange.log.keyring import LogSigner
from exchange.protocol import merkle
from exchange.protocol.checkpoint import verify_checkpoint
from exchange.protocol.events import Event
from exchange.storage import database, migrate
from exchange.storage.models import Checkpoint, LogEntry, LogNode

ORIGIN = "store.test/log"
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
BATCHES = [1, 1, 2, 3, 1, 5, 8, 13, 1, 21, 34, 2, 55, 89, 1, 4, 97]  # 337 entries
SIGNER = LogSigner(ORIGIN, Ed25519PrivateKey.generate())


def build(url: str, batches: list[int]) -> list[bytes]:
    """Append `batches` (one write transaction each); return the leaf hashes."""
    db = database.make_database(url)
    try:
        for batch, size in enumerate(batches):
            with transaction.write(db, SIGNER) as session:
                for number in range(size):
                    log.append(
                        session,
                        Event.ROUTING_CHANGED if number % 2 else Event.ORGANISATION_CREATED,
                        NOW,
                        details={"batch": batch, "number": number},
                    )
        with database.read(db) as session:
            leaves = session.scalars(select(LogEntry.leaf).order_by(LogEntry.index)).all()
    finally:
        db.engine.dispose()
    return [merkle.leaf_hash(leaf.encode()) for leaf in leaves]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "empty.db"
    db = database.make_database(f"sqlite:///{path}")
    migrate.upgrade(db.engine)
    db.engine.dispose()
    return path


@pytest.fixture(scope="module")
def stored(template, tmp_path_factory):
    path = tmp_path_factory.mktemp("stored") / "log.db"
    shutil.copy(template, path)
    url = f"sqlite:///{path}"
    hashes = build(url, BATCHES)
    db = database.make_database(url)
    with database.read(db) as session:
        yield session, hashes
    db.engine.dispose()


def test_an_append_writes_log_n_nodes(stored):
    session, hashes = stored
    nodes = session.scalar(select(func.count()).select_from(LogNode))
    # Every complete subtree once: n leaves and n - popcount(n) inner nodes.
    assert nodes == 2 * len(hashes) - len(hashes).bit_count()


def test_every_checkpoint_is_signed_over_the_stored_root(stored):
    session, hashes = stored
    checkpoints = session.scalars(select(Checkpoint).order_by(Checkpoint.size)).all()
    sizes = [sum(BATCHES[: i + 1]) for i in range(len(BATCHES))]
    assert [c.size for c in checkpoints] == sizes
    for checkpoint in checkpoints:
        signed = verify_checkpoint(checkpoint.note, [SIGNER.verifier_key], ORIGIN)
        assert signed.root == checkpoint.root == merkle.root(hashes[: checkpoint.size])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_stored_inclusion_proofs_are_the_reference_ones(stored, data):
    session, hashes = stored
    size = data.draw(st.integers(1, len(hashes)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = nodes.inclusion_proof(session, index, size)
    assert proof == merkle.inclusion_proof(hashes, index, size)
    root = nodes.root(session, size, {})
    assert root == merkle.root(hashes[:size])
    merkle.verify_inclusion(hashes[index], index, size, proof, root)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_stored_consistency_proofs_are_the_reference_ones(stored, data):
    session, hashes = stored
    new = data.draw(st.integers(1, len(hashes)), label="new")
    old = data.draw(st.integers(1, new), label="old")
    proof = nodes.consistency_proof(session, old, new)
    assert proof == merkle.consistency_proof(hashes, old, new)
    merkle.verify_consistency(old, new, merkle.root(hashes[:old]), merkle.root(hashes[:new]), proof)


@settings(max_examples=25, deadline=None)
@given(batches=st.lists(st.integers(1, 6), min_size=1, max_size=10))
def test_any_batching_stores_the_same_tree(template, batches):
    """However appends are grouped into transactions, every proof is the reference one."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "log.db"
        shutil.copy(template, path)
        hashes = build(f"sqlite:///{path}", batches)
        db = database.make_database(f"sqlite:///{path}")
        try:
            with database.read(db) as session:
                for size in range(1, len(hashes) + 1):
                    root = merkle.root(hashes[:size])
                    assert nodes.root(session, size, {}) == root
                    for index in range(size):
                        proof = nodes.inclusion_proof(session, index, size)
                        assert proof == merkle.inclusion_proof(hashes, index, size)
                        merkle.verify_inclusion(hashes[index], index, size, proof, root)
                    for old in range(1, size + 1):
                        proof = nodes.consistency_proof(session, old, size)
                        assert proof == merkle.consistency_proof(hashes, old, size)
        finally:
            db.engine.dispose()


def test_proofs_read_nodes_by_primary_key_not_by_scanning(stored):
    """Every node query is answered from the primary key: an O(log n) proof reads O(log n)
    rows at any size (a query plan with a table scan made appends and proofs O(n))."""
    session, hashes = stored
    # Without the process's cache of committed nodes, which would answer from memory:
    # this is about how the database answers.
    database.shared(session).pop(nodes.NODE_CACHE, None)
    statements = []
    engine = session.get_bind()

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        if "FROM log_nodes" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        nodes.inclusion_proof(session, 5, len(hashes))
        nodes.consistency_proof(session, 7, len(hashes))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 2
    for statement, parameters in statements:
        explained = session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {statement}", parameters
        )
        plan = [row[3] for row in explained]
        assert not any(step.startswith("SCAN log_nodes") for step in plan), plan
        assert any("USING INDEX" in step or "USING PRIMARY KEY" in step for step in plan), plan


def test_committed_nodes_are_remembered_only_after_commit(tmp_path):
    """A rolled-back append leaves nothing in the process's node cache: a later append at
    the same index must not be built on a sibling that never existed."""
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from exchange.log.keyring import LogSigner
    from exchange.protocol.events import Event
    from exchange.storage import database, migrate

    db = database.make_database(f"sqlite:///{tmp_path / 'log.db'}")
    migrate.upgrade(db.engine)
    signer = LogSigner("test/log", Ed25519PrivateKey.generate())
    now = datetime.now(UTC)
    with database.read(db) as session:
        cache = nodes.committed(session)
    try:
        with transaction.write(db, signer) as session:
            log.append(session, Event.ORGANISATION_CREATED, now)
        remembered = cache.get_many([(0, 0)])
        assert set(remembered) == {(0, 0)}
        try:
            with transaction.write(db, signer) as session:
                log.append(session, Event.ORGANISATION_CREATED, now, details={"x": 1})
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert cache.get_many([(0, 1), (1, 0)]) == {}
        with transaction.write(db, signer) as session:
            appended = log.append(session, Event.ORGANISATION_CREATED, now)
        assert appended.index == 1
        assert set(cache.get_many([(0, 1), (1, 0)])) == {(0, 1), (1, 0)}
    finally:
        db.engine.dispose()


def test_a_head_moved_under_the_lock_is_refused_and_nothing_is_written(tmp_path):
    """The seal moves the head only from the size the batch found: a head changed inside
    the transaction (a bug, or an operator's hand) fails the whole transaction rather than
    being overwritten by a checkpoint over the wrong tree."""
    from sqlalchemy import text

    db = database.make_database(f"sqlite:///{tmp_path / 'log.db'}")
    migrate.upgrade(db.engine)

    def append_while_the_head_moves() -> None:
        with transaction.write(db, SIGNER) as session:
            log.append(session, Event.ORGANISATION_CREATED, NOW, details={"x": 1})
            session.execute(text("UPDATE log_head SET size = 7 WHERE id = 1"))

    try:
        with transaction.write(db, SIGNER) as session:
            log.append(session, Event.ORGANISATION_CREATED, NOW)
        with pytest.raises(RuntimeError, match="the log head moved"):
            append_while_the_head_moves()
        with database.read(db) as session:
            assert session.scalar(text("SELECT size FROM log_head WHERE id = 1")) == 1
            assert session.scalar(select(func.count()).select_from(LogEntry)) == 1
            assert session.scalar(select(func.count()).select_from(Checkpoint)) == 1
    finally:
        db.engine.dispose()
