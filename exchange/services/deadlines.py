"""The deadline sweep: lateness becomes a fact in the log, once per case and deadline."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from exchange import log
from exchange.protocol.events import Event
from exchange.protocol.workflow import AWAITING_ACK, AWAITING_ACTION
from exchange.services import notifications
from exchange.storage.models import Case, DeadlineBreach
from schemas.common import format_utc

ACK = "ack"
ACTION = "action"


def _overdue(session: Session, now: datetime, deadline: str) -> Sequence[Case]:
    due, states = (
        (Case.ack_due_at, AWAITING_ACK)
        if deadline == ACK
        else (Case.action_due_at, AWAITING_ACTION)
    )
    already = exists().where(
        and_(DeadlineBreach.case_id == Case.id, DeadlineBreach.deadline == deadline)
    )
    return session.scalars(
        select(Case)
        .where(Case.state.in_([str(s) for s in states]), due <= now, ~already)
        .order_by(due, Case.id)
    ).all()


def sweep(session: Session, now: datetime) -> list[tuple[str, str]]:
    """Append a `deadline_breached` event for every newly missed deadline; return them.

    Safe to run concurrently: it runs in a serialised write transaction, and the
    (case, deadline) primary key refuses a second record of the same breach.
    """
    breached: list[tuple[str, str]] = []
    for deadline in (ACK, ACTION):
        for case in _overdue(session, now, deadline):
            due_at = case.ack_due_at if deadline == ACK else case.action_due_at
            appended = log.append(
                session,
                Event.DEADLINE_BREACHED,
                now,
                case_id=case.id,
                details={
                    "deadline": deadline,
                    "due_at": format_utc(due_at),
                    "platform": case.platform_org,
                    "state": case.state,
                },
            )
            session.add(
                DeadlineBreach(case_id=case.id, deadline=deadline, log_index=appended.index)
            )
            notifications.for_breach(session, now, case, deadline, appended.index)
            breached.append((case.id, deadline))
    return breached
