"""What must hold of an exchange's database whatever happened to it, checked from outside.

`assert_consistent(url, verifier_key)` reads the tables (as an operator or a backup would)
and asserts that nothing is half-written or out of order:

* the log: indexes 0..n-1 without a gap, the head and the newest checkpoint at n; every
  checkpoint's signature verifies and its root is that of the first `size` entries; and
  the full audit (`exchange.auditor.verify_log`: every statement, key event and case
  replayed) passes over all of them;
* every handoff has its log entry (same index, event, ids, statement and JWE digest) and
  every handoff or delivery entry has its row; every case has its opening handoff;
* every official's inbox is numbered 1..N, N being its head;
* every case's state, and each handoff's `state_after`, is what replaying the case's
  handoffs and deliveries in log order through `exchange.protocol.workflow` gives.

It returns what it counted, for tests to compare with what their clients saw.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from exchange.auditor import verify_log
from exchange.auditor.tree import CompactRange
from exchange.protocol import merkle, workflow
from exchange.protocol.checkpoint import verify_checkpoint
from exchange.protocol.events import HANDOFF_EVENTS, Event
from exchange.storage import database
from exchange.storage.models import (
    Case,
    Checkpoint,
    Delivery,
    Handoff,
    InboxHead,
    InboxItem,
    LogEntry,
    LogHead,
)
from keys import b64url_decode


@dataclass(frozen=True)
class Counts:
    log_size: int
    checkpoints: int
    cases: dict[str, str]  # case id: state
    handoffs: dict[str, int]  # handoff id: log index
    inboxes: dict[str, int]  # official: last seq
    audited_signatures: int
    leaf_hashes: list[bytes]  # by log index
    checkpoint_notes: frozenset[str]


def origin_of(verifier_key: str) -> str:
    return verifier_key.split("+", 1)[0]


def statement_payload(statement: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(b64url_decode(statement.split(".")[1]))
    return payload


def assert_consistent(url: str, verifier_key: str) -> Counts:
    db = database.make_database(url)
    try:
        with database.read(db) as session:
            entries = session.scalars(select(LogEntry).order_by(LogEntry.index)).all()
            head = session.get(LogHead, 1)
            checkpoints = session.scalars(select(Checkpoint).order_by(Checkpoint.size)).all()
            cases = {case.id: case for case in session.scalars(select(Case))}
            handoffs = {handoff.id: handoff for handoff in session.scalars(select(Handoff))}
            deliveries = session.scalars(select(Delivery)).all()
            items = session.scalars(
                select(InboxItem).order_by(InboxItem.official_id, InboxItem.seq)
            ).all()
            heads = {h.official_id: h.last_seq for h in session.scalars(select(InboxHead))}
            leaves = [entry.leaf for entry in entries]
            _check_log(entries, head, checkpoints, verifier_key)
            _check_handoffs(entries, cases, handoffs, deliveries)
            _check_inboxes(items, heads, handoffs)
            _check_case_states(cases, handoffs, deliveries)
            states = {case_id: case.state for case_id, case in cases.items()}
            indexes = {handoff_id: h.log_index for handoff_id, h in handoffs.items()}
            notes = frozenset(checkpoint.note for checkpoint in checkpoints)
    finally:
        db.engine.dispose()
    newest = checkpoints[-1].note if checkpoints else None
    assert newest is not None, "the log has no checkpoint"
    origin = origin_of(verifier_key)
    report = verify_log(leaves, newest, [verifier_key], origin, workers=0)
    assert report.entries == len(leaves)
    return Counts(
        len(leaves),
        len(checkpoints),
        states,
        indexes,
        heads,
        report.signatures,
        [merkle.leaf_hash(leaf.encode()) for leaf in leaves],
        notes,
    )


def _check_log(entries: Any, head: LogHead | None, checkpoints: Any, verifier_key: str) -> None:
    size = len(entries)
    assert [entry.index for entry in entries] == list(range(size)), "the log has a gap"
    assert head is not None
    assert head.size == size, f"log_head says {head.size}, the log holds {size}"
    assert checkpoints, "no checkpoint"
    assert checkpoints[-1].size == size, "the newest checkpoint does not cover the whole log"
    # Every checkpoint verifies, and signs the root of exactly the first `size` entries.
    origin = origin_of(verifier_key)
    signed_at = {c.size: c for c in checkpoints}
    assert len(signed_at) == len(checkpoints)
    tree = CompactRange()
    if 0 in signed_at:
        raise AssertionError("a checkpoint of the empty log")
    for entry in entries:
        tree.append(merkle.leaf_hash(entry.leaf.encode()))
        checkpoint = signed_at.get(tree.size)
        if checkpoint is not None:
            signed = verify_checkpoint(checkpoint.note, [verifier_key], origin)
            assert (signed.size, signed.root) == (checkpoint.size, checkpoint.root)
            assert signed.root == tree.root(), f"checkpoint {checkpoint.size} signs another tree"
    for entry in entries:
        leaf = json.loads(entry.leaf)
        assert leaf["index"] == entry.index
        assert (leaf["event"], leaf["case_id"], leaf["handoff_id"]) == (
            entry.event,
            entry.case_id,
            entry.handoff_id,
        )


def _check_handoffs(
    entries: Any, cases: dict[str, Case], handoffs: dict[str, Handoff], deliveries: Any
) -> None:
    by_index = {entry.index: entry for entry in entries}
    for handoff in handoffs.values():
        entry = by_index.get(handoff.log_index)
        assert entry is not None, f"handoff {handoff.id} has no log entry"
        leaf = json.loads(entry.leaf)
        assert (entry.event, entry.case_id, entry.handoff_id) == (
            handoff.kind,
            handoff.case_id,
            handoff.id,
        ), f"log entry {entry.index} is not handoff {handoff.id}"
        assert leaf["statement"] == handoff.statement
        assert leaf["jwe_sha256"] == handoff.jwe_sha256
        assert handoff.case_id in cases
    logged_handoffs = [entry for entry in entries if entry.event in HANDOFF_EVENTS]
    assert len(logged_handoffs) == len(handoffs), "log entries without their handoff"
    for entry in logged_handoffs:
        assert handoffs[entry.handoff_id].log_index == entry.index
    delivered = {(d.handoff_id, d.log_index) for d in deliveries}
    logged_deliveries = {
        (entry.handoff_id, entry.index) for entry in entries if entry.event == Event.DELIVERED
    }
    assert delivered == logged_deliveries, "deliveries and their log entries differ"
    opened = {h.case_id for h in handoffs.values() if h.kind == "case"}
    assert opened == set(cases), "a case without its opening handoff, or the reverse"


def _check_inboxes(items: Any, heads: dict[str, int], handoffs: dict[str, Handoff]) -> None:
    seqs: dict[str, list[int]] = defaultdict(list)
    for item in items:
        seqs[item.official_id].append(item.seq)
        assert item.handoff_id in handoffs
    assert set(seqs) <= set(heads)
    for official, last in heads.items():
        assert seqs.get(official, []) == list(range(1, last + 1)), f"{official}'s inbox"


def _check_case_states(
    cases: dict[str, Case], handoffs: dict[str, Handoff], deliveries: Any
) -> None:
    events: dict[str, list[tuple[int, Handoff | None]]] = defaultdict(list)
    for handoff in handoffs.values():
        events[handoff.case_id].append((handoff.log_index, handoff))
    for delivery in deliveries:
        delivered = handoffs[delivery.handoff_id]
        if delivered.kind == "case":  # the platform's first fetch: submitted → delivered
            events[delivered.case_id].append((delivery.log_index, None))
    for case_id, case in cases.items():
        state: workflow.State | None = None
        for _, handoff in sorted(events[case_id], key=lambda event: event[0]):
            if handoff is None:
                assert state is not None
                state = workflow.after_delivery(state)
                continue
            side = (
                workflow.Side.AGENCY
                if handoff.sender_org == case.issuer_org
                else workflow.Side.PLATFORM
            )
            replied = handoffs.get(handoff.in_reply_to or "")
            meta = statement_payload(handoff.statement).get("meta") or {}
            state = workflow.transition(
                state,
                handoff.kind,
                side,
                acknowledged_kind=replied.kind if replied else None,
                outcome=meta.get("outcome"),
            )
            assert handoff.state_after == state, f"handoff {handoff.id} of case {case_id}"
        assert case.state == state, f"case {case_id} is {case.state}, its handoffs say {state}"
