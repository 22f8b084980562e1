"""Reads on record: the first time an official fetches a handoff is a `delivered` event."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from exchange import log
from exchange.log import Actor
from exchange.protocol import workflow
from exchange.protocol.events import Event
from exchange.protocol.workflow import State
from exchange.services.caller import Caller
from exchange.storage.models import Case, Delivery, Handoff


def record(
    session: Session, now: datetime, caller: Caller, fetched: Iterable[tuple[Handoff, Case]]
) -> None:
    """Log each handoff the caller receives for the first time; repeat fetches log nothing.

    Only handoffs from the other organisation are deliveries; auditors read the log, they
    do not receive handoffs. The platform's first fetch of the case moves it to delivered.
    """
    if caller.is_auditor:
        return
    received = [(h, c) for h, c in fetched if h.sender_org != caller.org_id]
    # One query for the page, not one per handoff: a per-handoff lookup would also flush
    # the previous handoff's rows each time, where one flush at commit batches them.
    already = set(
        session.scalars(
            select(Delivery.handoff_id).where(
                Delivery.official_id == caller.official_id,
                Delivery.handoff_id.in_([handoff.id for handoff, _ in received]),
            )
        )
    )
    rows: list[dict[str, Any]] = []
    for handoff, case in received:
        if handoff.id in already:
            continue
        already.add(handoff.id)  # a page that names a handoff twice delivers it once
        state = State(case.state)
        if handoff.kind == "case":
            state = workflow.after_delivery(state)
        appended = log.append(
            session,
            Event.DELIVERED,
            now,
            actor=Actor(caller.org_id, caller.official_id, caller.kid),
            case_id=case.id,
            handoff_id=handoff.id,
            details={"state": str(state)},
        )
        rows.append(
            {
                "handoff_id": handoff.id,
                "official_id": caller.official_id,
                "delivered_at": now,
                "log_index": appended.index,
            }
        )
        if state != case.state:
            case.state = state
            case.updated_at = now
    if rows:  # one multi-row INSERT for the page, not an ORM object per handoff
        session.execute(insert(Delivery), rows)
