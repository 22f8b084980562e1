"""The outbox's worker side: claim due notifications, record what each attempt did.

Several workers share the queue without sending a notification twice at once: a claim
takes due rows with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite serialises
writers, so its claim is exclusive anyway) and leases them for a while. A worker killed
mid-delivery leaves its lease to lapse, and the notification is claimed again: delivery is
at least once, and the receiver deduplicates by `webhook-id`.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from exchange.services.caller import Caller
from exchange.services.notifications import CANCELLED, DELIVERED, FAILED, PENDING
from exchange.storage.models import DeliveryAttempt, Notification, Subscription

MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, until `give_up_after` from the notification's birth."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(days=1)

    def delay(self, attempt: int, rng: random.Random) -> timedelta:
        ceiling = min(self.cap, self.base * (2 ** max(0, attempt - 1)))
        jittered: timedelta = ceiling * rng.uniform(0.5, 1.0)  # retries of many spread out
        return jittered


@dataclass(frozen=True)
class Claimed:
    id: str
    attempt: int
    event: str
    body: str
    created_at: datetime
    subscription_id: str
    channel: str
    target: str
    secret_sealed: bytes | None


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None
    error: str | None
    started_at: datetime
    duration_ms: int


def claim(session: Session, now: datetime, limit: int, lease: timedelta) -> list[Claimed]:
    """Take up to `limit` due notifications for `lease`; cancel those of removed targets."""
    query = (
        select(Notification)
        .where(
            Notification.status == PENDING,
            Notification.next_attempt_at <= now,
            or_(Notification.leased_until.is_(None), Notification.leased_until <= now),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for notification in session.scalars(query).all():
        subscription = session.get(Subscription, notification.subscription_id)
        if subscription is None or subscription.removed_at is not None:
            notification.status = CANCELLED
            notification.last_error = "the target was removed"
            continue
        notification.attempts += 1
        notification.leased_until = now + lease
        claimed.append(
            Claimed(
                notification.id,
                notification.attempts,
                notification.event,
                notification.body,
                notification.created_at,
                subscription.id,
                subscription.channel,
                subscription.target,
                subscription.secret_sealed,
            )
        )
    return claimed


def finish(
    session: Session,
    now: datetime,
    claimed: Claimed,
    outcome: Outcome,
    retry: RetryPolicy,
    rng: random.Random,
) -> str:
    """Record the attempt; mark the notification delivered, due again later, or failed."""
    notification = session.get(Notification, claimed.id, with_for_update=True)
    if notification is None or notification.status != PENDING:
        return notification.status if notification else CANCELLED
    error = outcome.error[:MAX_ERROR_CHARS] if outcome.error else None
    if outcome.delivered:
        result = DELIVERED
        notification.status, notification.delivered_at = DELIVERED, now
        notification.last_error = None
    else:
        next_at = now + retry.delay(claimed.attempt, rng)
        if next_at > notification.created_at + retry.give_up_after:
            result = FAILED
            notification.status = FAILED
        else:
            result = "retry"
            notification.next_attempt_at = next_at
        notification.last_error = error
    notification.leased_until = None
    session.add(
        DeliveryAttempt(
            notification_id=claimed.id,
            attempt=claimed.attempt,
            started_at=outcome.started_at,
            duration_ms=outcome.duration_ms,
            outcome=result,
            status_code=outcome.status_code,
            error=error,
        )
    )
    return result


def history(
    session: Session, caller: Caller, limit: int, before: str | None = None
) -> list[tuple[Notification, list[DeliveryAttempt]]]:
    """The caller's own notifications, newest first, each with its attempts."""
    query = select(Notification).where(Notification.official_id == caller.official_id)
    if before is not None:
        anchor = session.get(Notification, before)
        if anchor is not None:
            query = query.where(
                or_(
                    Notification.created_at < anchor.created_at,
                    (Notification.created_at == anchor.created_at) & (Notification.id < anchor.id),
                )
            )
    rows = session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ).all()
    attempts: dict[str, list[DeliveryAttempt]] = {row.id: [] for row in rows}
    if rows:
        for attempt in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.notification_id.in_(list(attempts)))
            .order_by(DeliveryAttempt.notification_id, DeliveryAttempt.attempt)
        ):
            attempts[attempt.notification_id].append(attempt)
    return [(row, attempts[row.id]) for row in rows]


def depth(session: Session) -> Sequence[tuple[str, int]]:
    """How many notifications are in each state (for /metrics)."""
    return [
        (status, int(count))
        for status, count in session.execute(
            select(Notification.status, func.count()).group_by(Notification.status)
        )
    ]


@dataclass(frozen=True)
class Stats:
    by_status: dict[str, int]
    oldest_pending_seconds: float
    attempts_last_hour: dict[str, int]  # by outcome: delivered, retry, failed
    latency_last_hour: list[float]  # seconds from queued to delivered, sorted


def stats(session: Session, now: datetime) -> Stats:
    """The queue as /metrics shows it: depth, age, recent failures and latency."""
    hour_ago = now - timedelta(hours=1)
    oldest = session.scalar(
        select(func.min(Notification.created_at)).where(Notification.status == PENDING)
    )
    attempts = {
        outcome: int(count)
        for outcome, count in session.execute(
            select(DeliveryAttempt.outcome, func.count())
            .where(DeliveryAttempt.started_at >= hour_ago)
            .group_by(DeliveryAttempt.outcome)
        )
    }
    latency = sorted(
        (delivered - created).total_seconds()
        for created, delivered in session.execute(
            select(Notification.created_at, Notification.delivered_at)
            .where(Notification.status == DELIVERED, Notification.delivered_at >= hour_ago)
            .limit(10_000)
        )
        if delivered is not None
    )
    return Stats(
        dict(depth(session)),
        (now - oldest).total_seconds() if oldest is not None else 0.0,
        attempts,
        latency,
    )
