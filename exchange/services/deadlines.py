"""Lateness becomes a fact in the log, once per case and deadline: noticed by the sweep
(cron) or by the next handoff of the case, whichever comes first."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from exchange import log
from exchange.protocol.events import Event
from exchange.protocol.workflow import AWAITING_ACK, AWAITING_ACTION
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
            _record(session, now, case, deadline)
            breached.append((case.id, deadline))
    return breached


def record_passed(session: Session, now: datetime, case: Case) -> list[str]:
    """Log the deadlines of `case` that passed unanswered and are not on record yet.

    Called before a handoff of the case is applied, in its transaction: a platform that
    answers one minute late, or an agency that closes a case whose deadline passed, leaves
    the breach on record even if no sweep ran in between, and the entry comes before the
    handoff's, while the case still awaited the answer.
    """
    passed = []
    for deadline, due_at, states in (
        (ACK, case.ack_due_at, AWAITING_ACK),
        (ACTION, case.action_due_at, AWAITING_ACTION),
    ):
        if (
            due_at <= now
            and case.state in states
            and session.get(DeadlineBreach, (case.id, deadline)) is None
        ):
            _record(session, now, case, deadline)
            passed.append(deadline)
    return passed


def _record(session: Session, now: datetime, case: Case, deadline: str) -> None:
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
    session.add(DeadlineBreach(case_id=case.id, deadline=deadline, log_index=appended.index))
    # Flushed at once, so that a second look in the same transaction finds it.
    session.flush()
