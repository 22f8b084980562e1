"""Reads on record: the first time an official fetches a handoff is a `delivered` event.

A fetch is read first, in the request's read transaction; only a page that holds first
fetches then takes the log's write lock, and under it only records them (`record`). A
repeat pull, an empty poll or an auditor's read never queues behind the writers.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from exchange import log
from exchange.log import Actor
from exchange.protocol import workflow
from exchange.protocol.events import Event
from exchange.protocol.workflow import State
from exchange.services.caller import Caller
from exchange.storage.models import Case, Delivery, Handoff, table

# Core statements through the tables, built once: `record` runs under the log's write
# lock, where the ORM's bulk INSERT and UPDATE paths cost several times the statements.
_CASES: Final = table(Case)
_DELIVERIES: Final = table(Delivery)
_NEW_DELIVERIES: Final = insert(_DELIVERIES)
# Which of a page's handoffs the official has received already: read once per pull, and
# again under the write lock by `record`.
_DELIVERED: Final = select(_DELIVERIES.c.handoff_id).where(
    _DELIVERIES.c.official_id == bindparam("official"),
    _DELIVERIES.c.handoff_id.in_(bindparam("handoff_ids", expanding=True)),
)
_CASE_STATES: Final = select(_CASES.c.id, _CASES.c.state).where(
    _CASES.c.id.in_(bindparam("case_ids", expanding=True))
)
_MOVE_CASES: Final = (
    update(_CASES)
    .where(_CASES.c.id.in_(bindparam("case_ids", expanding=True)))
    .values(state=bindparam("new_state"), updated_at=bindparam("moved_at"))
)


@dataclass(frozen=True)
class Fetch:
    """A handoff as a page shows it: what decides whether showing it is a delivery."""

    handoff_id: str
    case_id: str
    kind: str
    sender_org: str


def fetches(handoffs: Iterable[Handoff]) -> list[Fetch]:
    return [Fetch(h.id, h.case_id, h.kind, h.sender_org) for h in handoffs]


def first_fetches(session: Session, caller: Caller, fetched: Sequence[Fetch]) -> list[Fetch]:
    """The fetched handoffs that the caller receives for the first time, in page order.

    Only handoffs from the other organisation are deliveries; auditors read the log, they
    do not receive handoffs. One query for the page, not one per handoff.
    """
    if caller.is_auditor:
        return []
    received = [f for f in fetched if f.sender_org != caller.org_id]
    if not received:
        return []
    already = set(
        session.scalars(
            _DELIVERED,
            {"official": caller.official_id, "handoff_ids": [f.handoff_id for f in received]},
        )
    )
    first: list[Fetch] = []
    for fetch in received:
        if fetch.handoff_id not in already:
            already.add(fetch.handoff_id)  # a page that names a handoff twice delivers it once
            first.append(fetch)
    return first


def record(
    session: Session, now: datetime, caller: Caller, fetched: Sequence[Fetch]
) -> dict[str, State]:
    """Log each handoff the caller receives for the first time; repeat fetches log nothing.

    Runs in a write transaction, and decides again under its lock which fetches are first
    ones (a concurrent pull of the same page may have recorded them meanwhile), from the
    cases' states as they are now. The platform's first fetch of a case moves it to
    delivered. Returns each case whose state moved, with its new state.
    """
    first = first_fetches(session, caller, fetched)
    if not first:
        return {}
    states = {
        case_id: State(state)
        for case_id, state in session.execute(
            _CASE_STATES, {"case_ids": sorted({f.case_id for f in first})}
        )
    }
    moved: dict[str, State] = {}
    rows: list[dict[str, Any]] = []
    for fetch in first:
        state = states[fetch.case_id]
        if fetch.kind == "case":
            state = workflow.after_delivery(state)
        appended = log.append(
            session,
            Event.DELIVERED,
            now,
            actor=Actor(caller.org_id, caller.official_id, caller.kid),
            case_id=fetch.case_id,
            handoff_id=fetch.handoff_id,
            details={"state": str(state)},
        )
        rows.append(
            {
                "handoff_id": fetch.handoff_id,
                "official_id": caller.official_id,
                "delivered_at": now,
                "log_index": appended.index,
            }
        )
        if state != states[fetch.case_id]:
            states[fetch.case_id] = moved[fetch.case_id] = state
    # One statement per new state (after_delivery knows one), one multi-row INSERT.
    for state in set(moved.values()):
        session.execute(
            _MOVE_CASES,
            {
                "case_ids": [case_id for case_id, new in moved.items() if new == state],
                "new_state": state,
                "moved_at": now,
            },
        )
    session.execute(_NEW_DELIVERIES, rows)
    return moved


def show_moved(cases: Iterable[Case], moved: Mapping[str, State], now: datetime) -> None:
    """Make cases read before `record` moved them say what the database now holds, for the
    answer (without marking them changed: `record` wrote the change already)."""
    for case in cases:
        state = moved.get(case.id)
        if state is not None:
            set_committed_value(case, "state", state)
            set_committed_value(case, "updated_at", now)
