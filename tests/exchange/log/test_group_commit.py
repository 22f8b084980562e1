"""Group commit: concurrent units of one process share a transaction and a checkpoint,
each is answered only with its own result or its own error, and the log stays whole.

Real threads, a real database (SQLite and PostgreSQL), real signatures. A first unit holds
the leadership until the others have queued, so the batch they form is known exactly.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange import log
from exchange.auditor import verify_log
from exchange.log import transaction
from exchange.log.group_commit import GroupCommit
from exchange.log.keyring import LogSigner
from exchange.protocol import merkle
from exchange.protocol.checkpoint import verify_checkpoint
from exchange.protocol.events import Event
from exchange.storage import database
from exchange.storage.models import Checkpoint, LogEntry, LogHead, Organisation
from tests.exchange.log.helpers import bundle_from_database

ORIGIN = "log.test/hotline"  # the module's signer (conftest)
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


class RefusedError(Exception):
    """A unit's own domain error."""


def organisation(name: str, refuse: bool = False) -> Callable[[Session, datetime], int]:
    """A unit that creates an organisation and logs it, then (if told to) refuses."""

    def work(session: Session, now: datetime) -> int:
        session.add(Organisation(id=name, kind="agency", name=name, active=True, created_at=now))
        appended = log.append(
            session,
            Event.ORGANISATION_CREATED,
            now,
            details={"org": name, "kind": "agency", "name": name},
        )
        if refuse:
            raise RefusedError(name)
        return appended.index

    return work


def receipt(session: Session, index: int) -> tuple[int, int, str]:
    """The unit's answer: its index and the checkpoint sealed over its batch."""
    sealed = transaction.sealed_so_far(session)
    assert sealed is not None
    assert sealed.checkpoint is not None
    return index, sealed.checkpoint.size, sealed.checkpoint.note


@dataclass
class Committer:
    group: GroupCommit
    db: database.Database
    signer: LogSigner
    sizes: list[int]  # of every batch that committed
    start: int  # the log's size before the test (PostgreSQL's database is the module's)
    prefix: str  # of this test's organisation ids

    def names(self, session: Session) -> list[str]:
        ids = session.scalars(
            select(Organisation.id).where(Organisation.id.startswith(self.prefix))
        )
        return sorted(name.removeprefix(self.prefix) for name in ids)


@pytest.fixture
def committer(log_db_url, signer):
    db = database.make_database(log_db_url)
    sizes: list[int] = []
    with database.read(db) as session:
        head = session.get(LogHead, 1)
        assert head is not None
        start = head.size
    yield Committer(
        GroupCommit(db, lambda: signer, lambda: NOW, observe=sizes.append),
        db,
        signer,
        sizes,
        start,
        f"{uuid.uuid4().hex[:8]}-",
    )
    db.engine.dispose()


def in_one_batch(c: Committer, units: list[Callable[[Session, datetime], int]]):
    """Run `units` from threads of their own, all queued behind one leader, so that they
    form exactly one batch; return each thread's answer or error, in order."""
    leading, release = threading.Event(), threading.Event()

    def blocker(session: Session, now: datetime) -> int:
        leading.set()
        assert release.wait(30)
        return organisation(f"{c.prefix}first")(session, now)

    outcomes: list[Any] = [None] * len(units)

    def call(slot: int, unit: Callable[[Session, datetime], int] | None) -> None:
        try:
            result = c.group.run(unit or blocker, receipt)
        except Exception as error:  # the assertion is on what each caller received
            result = error
        if slot >= 0:
            outcomes[slot] = result

    first = threading.Thread(target=call, args=(-1, None))
    first.start()
    assert leading.wait(30)  # the blocker's unit runs: it leads, and the queue is empty
    threads = [threading.Thread(target=call, args=(n, unit)) for n, unit in enumerate(units)]
    for thread in threads:
        thread.start()
    while c.group.queued < len(units):
        time.sleep(0.001)
    release.set()
    for thread in [first, *threads]:
        thread.join(30)
    return outcomes


def test_queued_units_commit_as_one_batch_under_one_checkpoint(committer):
    c = committer
    outcomes = in_one_batch(c, [organisation(f"{c.prefix}{n}") for n in range(5)])
    assert c.sizes == [1, 5]
    # Queue order, after the blocker's entry; one checkpoint over the whole batch, the
    # same bytes in every answer.
    assert [outcome[:2] for outcome in outcomes] == [
        (c.start + n, c.start + 6) for n in range(1, 6)
    ]
    assert len({note for _index, _size, note in outcomes}) == 1
    with database.read(c.db) as session:
        sizes = session.scalars(select(Checkpoint.size).where(Checkpoint.size > c.start)).all()
        leaves = session.scalars(select(LogEntry.leaf).order_by(LogEntry.index)).all()
        assert c.names(session) == ["0", "1", "2", "3", "4", "first"]
    assert sorted(sizes) == [c.start + 1, c.start + 6]
    signed = verify_checkpoint(outcomes[0][2], [c.signer.verifier_key], ORIGIN)
    assert signed.root == merkle.root([merkle.leaf_hash(leaf.encode()) for leaf in leaves])


def test_a_refused_unit_is_undone_alone_and_its_error_goes_to_its_caller(committer, log_db_url):
    c = committer
    refused = organisation(f"{c.prefix}b", refuse=True)
    outcomes = in_one_batch(
        c, [organisation(f"{c.prefix}a"), refused, organisation(f"{c.prefix}c")]
    )
    assert type(outcomes[1]) is RefusedError
    assert str(outcomes[1]) == f"{c.prefix}b"
    # The others took the indexes in order, with no gap where b's entry was undone.
    assert [outcomes[0][:2], outcomes[2][:2]] == [
        (c.start + 1, c.start + 3),
        (c.start + 2, c.start + 3),
    ]
    assert c.sizes == [1, 2]
    with database.read(c.db) as session:
        assert c.names(session) == ["a", "c", "first"]
        leaves = session.scalars(
            select(LogEntry.leaf).where(LogEntry.index >= c.start).order_by(LogEntry.index)
        ).all()
    assert [
        f'"org":"{c.prefix}{name}"' in leaf
        for leaf, name in zip(leaves, ["first", "a", "c"], strict=True)
    ] == [True] * 3
    bundle = bundle_from_database(log_db_url)
    report = verify_log(
        bundle.entries,
        bundle.checkpoint,
        [c.signer.verifier_key],
        ORIGIN,
        witnesses=bundle.checkpoints,
    )
    assert report.entries == c.start + 3


def test_a_batch_that_cannot_commit_fails_every_caller_and_leaves_nothing(committer):
    c = committer

    def broken_answer(_session: Session, _index: int) -> None:
        raise RuntimeError("the answer could not be built")

    errors: list[BaseException] = []

    def call(unit: Callable[[Session, datetime], int]) -> None:
        try:
            c.group.run(unit, broken_answer)
        except RuntimeError as error:
            errors.append(error)

    threads = [
        threading.Thread(target=call, args=(organisation(f"{c.prefix}{name}"),)) for name in "xy"
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [str(error) for error in errors] == ["the answer could not be built"] * 2
    assert c.sizes == []  # nothing committed
    with database.read(c.db) as session:
        assert session.scalars(select(LogEntry.index).where(LogEntry.index >= c.start)).all() == []
        assert c.names(session) == []


def test_a_refused_first_unit_leaves_the_log_head_to_the_next(committer):
    """The first unit of a batch reads the log head; undone, the next reads it afresh."""
    c = committer
    outcomes = in_one_batch(
        c, [organisation(f"{c.prefix}x", refuse=True), organisation(f"{c.prefix}y")]
    )
    assert type(outcomes[0]) is RefusedError
    assert outcomes[1][:2] == (c.start + 1, c.start + 2)
    assert c.sizes == [1, 1]
    with database.read(c.db) as session:
        assert c.names(session) == ["first", "y"]


def test_the_accepted_handoffs_metric_counts_only_the_committed_units(committer):
    """`hotline_handoffs_accepted_total` counts the handoff entries of the sealed batch: a
    unit refused inside the batch took its entries back with its savepoint, and is not
    counted; the batch's other entries (an organisation) are no handoffs."""
    from prometheus_client import CollectorRegistry, Counter

    from exchange.observability.metrics import count_handoffs

    c = committer
    registry = CollectorRegistry()
    counter = Counter("accepted", "handoffs", ["kind"], registry=registry)
    count_handoffs(c.db, counter)

    def handoff(kind: Event, refuse: bool = False) -> Callable[[Session, datetime], int]:
        def work(session: Session, now: datetime) -> int:
            appended = log.append(
                session, kind, now, case_id=str(uuid.uuid4()), handoff_id=str(uuid.uuid4())
            )
            if refuse:
                raise RefusedError(kind)
            return appended.index

        return work

    outcomes = in_one_batch(
        c,
        [handoff(Event.CASE), handoff(Event.CASE, refuse=True), handoff(Event.RECEIPT)],
    )
    assert isinstance(outcomes[1], RefusedError)
    assert c.sizes[-1] == 2  # the batch answered two units
    assert registry.get_sample_value("accepted_total", {"kind": "case"}) == 1
    assert registry.get_sample_value("accepted_total", {"kind": "receipt"}) == 1
    assert registry.get_sample_value("accepted_total", {"kind": "organisation_created"}) is None
