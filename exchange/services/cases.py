"""Reading cases: the list a caller may see, and one case with its timeline."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from exchange.errors import InvalidCursorError
from exchange.protocol.workflow import AWAITING_ACK, AWAITING_ACTION, WITHDRAWING, State
from exchange.services.caller import Caller
from exchange.services.visibility import case_filter, visible_case
from exchange.storage.models import Case, Handoff
from keys.b64 import b64url_decode, b64url_encode
from schemas.common import format_utc, parse_utc


@dataclass(frozen=True)
class CaseFilters:
    state: str | None = None
    category: str | None = None
    priority: str | None = None
    overdue: bool | None = None
    updated_since: datetime | None = None


def is_overdue(case: Case, now: datetime) -> bool:
    """Derived, never stored: a deadline of the platform has passed and its answer has not
    come (the case's acknowledgement or action, a withdrawal's acknowledgement, or the new
    answer of a reopened case)."""
    if case.closed_at is not None:
        return False
    if case.state == State.WITHDRAWN:
        return case.withdrawal_ack_due_at is not None and case.withdrawal_ack_due_at <= now
    if case.state == State.REOPENED:
        return case.reopened_due_at is not None and case.reopened_due_at <= now
    if case.state in WITHDRAWING:
        return False
    return (case.state in AWAITING_ACK and case.ack_due_at <= now) or (
        case.state in AWAITING_ACTION and case.action_due_at <= now
    )


def _overdue_clause(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Case.state.in_([str(s) for s in AWAITING_ACK]), Case.ack_due_at <= now),
        and_(Case.state.in_([str(s) for s in AWAITING_ACTION]), Case.action_due_at <= now),
        and_(Case.state == str(State.WITHDRAWN), Case.withdrawal_ack_due_at <= now),
        and_(Case.state == str(State.REOPENED), Case.reopened_due_at <= now),
    )


def encode_cursor(case: Case) -> str:
    raw = json.dumps([format_utc(case.updated_at), case.id]).encode()
    return b64url_encode(raw)


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        updated, case_id = json.loads(b64url_decode(cursor))
        return parse_utc(updated), str(case_id)
    except (ValueError, TypeError) as exc:
        raise InvalidCursorError("pass next_cursor exactly as a previous page gave it") from exc


def list_cases(
    session: Session,
    caller: Caller,
    now: datetime,
    filters: CaseFilters,
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[Case], str | None]:
    """A page of visible cases, oldest update first; the cursor resumes after the last."""
    query: Select[Case] = select(Case).where(case_filter(caller))
    if filters.state:
        query = query.where(Case.state == filters.state)
    if filters.category:
        query = query.where(Case.category == filters.category)
    if filters.priority:
        query = query.where(Case.priority == filters.priority)
    if filters.updated_since:
        query = query.where(Case.updated_at >= filters.updated_since)
    if filters.overdue is not None:
        clause = _overdue_clause(now)
        query = query.where(clause if filters.overdue else ~clause)
    if cursor:
        after_updated, after_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                Case.updated_at > after_updated,
                and_(Case.updated_at == after_updated, Case.id > after_id),
            )
        )
    rows = session.scalars(query.order_by(Case.updated_at, Case.id).limit(limit + 1)).all()
    page = rows[:limit]
    return page, (encode_cursor(page[-1]) if len(rows) > limit else None)


def get_case(session: Session, caller: Caller, case_id: str) -> Case:
    return visible_case(session, caller, case_id)


def timeline(session: Session, case: Case) -> Sequence[Handoff]:
    return session.scalars(
        select(Handoff).where(Handoff.case_id == case.id).order_by(Handoff.log_index)
    ).all()
