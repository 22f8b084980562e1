"""Lateness becomes a fact in the log, once per case and deadline: noticed by the sweep
(cron) or by the next handoff of the case, whichever comes first.

The deadlines: `ack` (acknowledge the case), `action` (a final answer), `withdrawal_ack`
(acknowledge the agency's withdrawal), `reopened` (a new final answer after the agency
found an item still reachable; keyed by the verification) and `answer` (answer a
question of the other side; one per question, keyed `answer:<question handoff id>`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from exchange import log
from exchange.protocol.events import Event
from exchange.protocol.workflow import AWAITING_ACK, AWAITING_ACTION, WITHDRAWING, State
from exchange.services import notifications
from exchange.storage.models import Case, DeadlineBreach, Question
from schemas.common import format_utc

ACK = "ack"
ACTION = "action"
WITHDRAWAL_ACK = "withdrawal_ack"
ANSWER = "answer"
REOPENED = "reopened"
# A question is moot once the case is withdrawn or closed.
_QUESTIONS_END = [str(s) for s in WITHDRAWING | {State.CLOSED}]


@dataclass(frozen=True)
class _Due:
    deadline: str
    key: str
    due_at: datetime
    extra: dict[str, Any]


def answer_key(question_id: str) -> str:
    return f"{ANSWER}:{question_id}"


def _case_deadlines(case: Case) -> list[_Due]:
    due = []
    if case.state in AWAITING_ACK:
        due.append(_Due(ACK, ACK, case.ack_due_at, {}))
    if case.state in AWAITING_ACTION:
        due.append(_Due(ACTION, ACTION, case.action_due_at, {}))
    if case.state == State.WITHDRAWN and case.withdrawal_ack_due_at is not None:
        due.append(_Due(WITHDRAWAL_ACK, WITHDRAWAL_ACK, case.withdrawal_ack_due_at, {}))
    if case.state == State.REOPENED and case.reopened_due_at and case.reopened_by:
        due.append(
            _Due(
                REOPENED,
                f"{REOPENED}:{case.reopened_by}",
                case.reopened_due_at,
                {"verification": case.reopened_by},
            )
        )
    return due


def _question_due(question: Question) -> _Due:
    return _Due(
        ANSWER,
        answer_key(question.handoff_id),
        question.due_at,
        {"question": question.handoff_id, "asked_by": question.asked_by_org},
    )


def _overdue_cases(session: Session, now: datetime) -> Sequence[Case]:
    """Cases with a case-level deadline passed and possibly not on record (checked after)."""
    return session.scalars(
        select(Case)
        .where(
            (Case.state.in_([str(s) for s in AWAITING_ACK]) & (Case.ack_due_at <= now))
            | (Case.state.in_([str(s) for s in AWAITING_ACTION]) & (Case.action_due_at <= now))
            | ((Case.state == str(State.WITHDRAWN)) & (Case.withdrawal_ack_due_at <= now))
            | ((Case.state == str(State.REOPENED)) & (Case.reopened_due_at <= now))
        )
        .order_by(Case.submitted_at, Case.id)
    ).all()


def _overdue_questions(session: Session, now: datetime) -> Sequence[tuple[Question, Case]]:
    already = exists().where(
        and_(
            DeadlineBreach.case_id == Question.case_id,
            DeadlineBreach.deadline == ANSWER + ":" + Question.handoff_id,
        )
    )
    rows = session.execute(
        select(Question, Case)
        .join(Case, Case.id == Question.case_id)
        .where(
            Question.answered_at.is_(None),
            Question.due_at <= now,
            Case.state.not_in(_QUESTIONS_END),
            ~already,
        )
        .order_by(Question.due_at, Question.handoff_id)
    ).all()
    return [(question, case) for question, case in rows]


def sweep(session: Session, now: datetime) -> list[tuple[str, str]]:
    """Append a `deadline_breached` event for every newly missed deadline; return them.

    Safe to run concurrently: it runs in a serialised write transaction, and the
    (case, deadline) primary key refuses a second record of the same breach.
    """
    found: list[tuple[int, datetime, str, str]] = []
    for case in _overdue_cases(session, now):
        for due in _case_deadlines(case):
            if due.due_at <= now and _record_once(session, now, case, due):
                found.append((_ORDER[due.deadline], due.due_at, case.id, due.deadline))
    for question, case in _overdue_questions(session, now):
        if _record_once(session, now, case, _question_due(question)):
            found.append((_ORDER[ANSWER], question.due_at, case.id, ANSWER))
    return [(case_id, deadline) for _, _, case_id, deadline in sorted(found)]


_ORDER = {ACK: 0, ACTION: 1, WITHDRAWAL_ACK: 2, REOPENED: 3, ANSWER: 4}


def record_passed(session: Session, now: datetime, case: Case) -> list[str]:
    """Log the deadlines of `case` that passed unanswered and are not on record yet.

    Called before a handoff of the case is applied, in its transaction: a platform that
    answers one minute late, or an agency that closes a case whose deadline passed, leaves
    the breach on record even if no sweep ran in between, and the entry comes before the
    handoff's, while the case still awaited the answer.
    """
    passed = []
    dues = [d for d in _case_deadlines(case) if d.due_at <= now]
    if case.state not in _QUESTIONS_END:
        dues += [
            _question_due(q)
            for q in session.scalars(
                select(Question).where(
                    Question.case_id == case.id,
                    Question.answered_at.is_(None),
                    Question.due_at <= now,
                )
            )
        ]
    for due in sorted(dues, key=lambda d: (d.due_at, d.key)):
        if _record_once(session, now, case, due):
            passed.append(due.deadline)
    return passed


def _record_once(session: Session, now: datetime, case: Case, due: _Due) -> bool:
    if session.get(DeadlineBreach, (case.id, due.key)) is not None:
        return False
    appended = log.append(
        session,
        Event.DEADLINE_BREACHED,
        now,
        case_id=case.id,
        details={
            "deadline": due.deadline,
            "due_at": format_utc(due.due_at),
            "platform": case.platform_org,
            "state": case.state,
            **due.extra,
        },
    )
    session.add(DeadlineBreach(case_id=case.id, deadline=due.key, log_index=appended.index))
    # The escalation: the assignee and every lead of the platform hear of it.
    notifications.for_breach(session, now, case, due.deadline, due.key, due.due_at, appended.index)
    # Flushed at once, so that a second look in the same transaction finds it.
    session.flush()
    return True
