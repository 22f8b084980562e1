"""Queueing notifications: the outbox rows, written in the transaction of their cause.

A handoff, a breach or a removal commits with the notifications it causes, or neither
does: a rolled-back handoff notifies nobody, a committed one is never forgotten. A
notification carries metadata only (ids, kind, priority, category, deadlines, the log
index), never case content: the receiver pulls and decrypts with the SDK as before.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from exchange.protocol.envelope.canonical import canonical
from exchange.protocol.workflow import AWAITING_ACK, AWAITING_ACTION
from exchange.storage.models import Case, Handoff, Notification, Official, Subscription
from schemas.common import format_utc
from schemas.enums import Kind, Role
from schemas.subscriptions import NotifyEvent, Scope

PENDING, DELIVERED, FAILED, CANCELLED = "pending", "delivered", "failed", "cancelled"
ACK, ACTION = "ack", "action"


def new_id() -> str:
    """A notification's id, sent as `webhook-id` (stable across retries)."""
    return f"msg_{uuid.uuid4().hex}"


def body(event: str, now: datetime, data: Mapping[str, Any]) -> str:
    """The Standard Webhooks body: {type, timestamp, data}, canonical JSON."""
    return canonical({"type": event, "timestamp": format_utc(now), "data": dict(data)}).decode()


def case_data(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "priority": case.priority,
        "category": case.category,
        "state": case.state,
        "platform": case.platform_org,
        "ack_due_at": format_utc(case.ack_due_at),
        "action_due_at": format_utc(case.action_due_at),
    }


@dataclass(frozen=True)
class Target:
    """What queueing a notification needs of a subscription, read once, outside the session."""

    id: str
    official_id: str
    events: tuple[str, ...]
    priorities: tuple[str, ...]


class _Subscribed(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def official_id(self) -> str: ...
    @property
    def events(self) -> Sequence[str]: ...
    @property
    def priorities(self) -> Sequence[str]: ...


def targets(session: Session, officials: Iterable[str], org_id: str | None) -> list[Target]:
    """`_subscriptions`, as plain values that outlive the session they were read in."""
    return [
        Target(row.id, row.official_id, tuple(row.events), tuple(row.priorities))
        for row in _subscriptions(session, officials, org_id)
    ]


def _subscriptions(
    session: Session, officials: Iterable[str], org_id: str | None
) -> Sequence[Subscription]:
    """Active targets of these officials, and the organisation-wide ones of `org_id`."""
    wanted: ColumnElement[bool] = Subscription.official_id.in_(sorted(set(officials)))
    if org_id is not None:
        wanted = or_(
            wanted, (Subscription.org_id == org_id) & (Subscription.scope == Scope.ORGANISATION)
        )
    return session.scalars(
        select(Subscription)
        .join(Official, Official.id == Subscription.official_id)
        .where(wanted, Subscription.removed_at.is_(None), Official.active.is_(True))
        .order_by(Subscription.id)
    ).all()


def _queue(
    session: Session,
    now: datetime,
    subscriptions: Iterable[_Subscribed],
    event: str,
    priority: str,
    dedupe_key: str,
    case_id: str | None,
    data: Mapping[str, Any],
    exclude: str | None = None,
) -> list[Notification]:
    queued = []
    text = body(event, now, data)
    for subscription in subscriptions:
        if subscription.official_id == exclude:
            continue
        if event != NotifyEvent.TEST and (
            event not in subscription.events or priority not in subscription.priorities
        ):
            continue
        notification = Notification(
            id=new_id(),
            subscription_id=subscription.id,
            official_id=subscription.official_id,
            event=event,
            dedupe_key=dedupe_key,
            case_id=case_id,
            body=text,
            created_at=now,
            next_attempt_at=now,
            leased_until=None,
            attempts=0,
            status=PENDING,
            delivered_at=None,
            last_error=None,
        )
        session.add(notification)
        queued.append(notification)
    return queued


def for_handoff(
    session: Session,
    now: datetime,
    case: Case,
    handoff: Handoff,
    recipients: Sequence[str],
    addressed: Sequence[Target] | None = None,
) -> list[Notification]:
    """Tell the handoff's recipients (and a platform lead's organisation-wide targets).

    `addressed`: the targets, if already read (`services.addressing`)."""
    if handoff.kind == Kind.CASE:
        event = NotifyEvent.CASE
    elif handoff.kind == Kind.WITHDRAWAL:
        event = NotifyEvent.WITHDRAWAL
    else:
        event = NotifyEvent.HANDOFF
    to_platform = handoff.sender_org != case.platform_org
    data = {
        **case_data(case),
        "handoff_id": handoff.id,
        "kind": handoff.kind,
        "log_index": handoff.log_index,
    }
    return _queue(
        session,
        now,
        (
            addressed
            if addressed is not None
            else _subscriptions(session, recipients, case.platform_org if to_platform else None)
        ),
        event,
        case.priority,
        f"handoff:{handoff.id}",
        case.id,
        data,
        exclude=handoff.sender_official,
    )


def _platform_people(session: Session, case: Case) -> list[str]:
    """The case's assignee and the platform's leads: who hears of a missed deadline."""
    leads = session.scalars(
        select(Official.id).where(
            Official.org_id == case.platform_org,
            Official.role == Role.PLATFORM_LEAD,
            Official.active.is_(True),
        )
    )
    return sorted({*leads, *([case.assignee_id] if case.assignee_id else [])})


def for_breach(
    session: Session,
    now: datetime,
    case: Case,
    deadline: str,
    key: str,
    due_at: datetime,
    log_index: int,
) -> list[Notification]:
    """A missed deadline escalates: the assignee and every lead of the platform hear of it.

    `key` names the breach within its case (one per question for answers), as in the log.
    """
    data = {**case_data(case), "deadline": deadline, "due_at": format_utc(due_at)}
    data["log_index"] = log_index
    return _queue(
        session,
        now,
        _subscriptions(session, _platform_people(session, case), case.platform_org),
        NotifyEvent.DEADLINE_BREACHED,
        case.priority,
        f"breach:{case.id}:{key}",
        case.id,
        data,
    )


def for_approaching(
    session: Session, now: datetime, lead_times: Sequence[timedelta]
) -> list[Notification]:
    """Warn the assignee (the platform's leads while there is none) before a deadline.

    Once per case, deadline and lead time: the (subscription, dedupe key) unique key and
    the check below make a re-run of the scheduler queue nothing new.
    """
    queued: list[Notification] = []
    for deadline, due, states in (
        (ACK, Case.ack_due_at, AWAITING_ACK),
        (ACTION, Case.action_due_at, AWAITING_ACTION),
    ):
        for lead in sorted(lead_times, reverse=True):
            cases = session.scalars(
                select(Case)
                .where(Case.state.in_([str(s) for s in states]), due > now, due <= now + lead)
                .order_by(due, Case.id)
            ).all()
            for case in cases:
                key = f"approaching:{case.id}:{deadline}:{int(lead.total_seconds())}"
                if session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
                    continue
                people = [case.assignee_id] if case.assignee_id else _platform_people(session, case)
                due_at = case.ack_due_at if deadline == ACK else case.action_due_at
                data = {**case_data(case), "deadline": deadline, "due_at": format_utc(due_at)}
                queued += _queue(
                    session,
                    now,
                    _subscriptions(session, people, None),
                    NotifyEvent.DEADLINE_APPROACHING,
                    case.priority,
                    key,
                    case.id,
                    data,
                )
    return queued


def for_test(session: Session, now: datetime, subscription: Subscription) -> Notification:
    """A test message to one target, on its owner's request."""
    data = {"subscription_id": subscription.id, "message": "a test from Hotline Exchange"}
    return _queue(
        session,
        now,
        [subscription],
        NotifyEvent.TEST,
        "",
        f"test:{uuid.uuid4().hex}",
        None,
        data,
    )[0]
