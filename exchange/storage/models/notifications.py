"""Notification targets, the outbox of notifications, and every delivery attempt."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from exchange.storage.models.base import Base


class Subscription(Base):
    """A target an official registered (by a signed statement in the log)."""

    __tablename__ = "subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(String(16))
    events: Mapped[list[str]] = mapped_column(JSON)
    priorities: Mapped[list[str]] = mapped_column(JSON)
    # The webhook's signing secret, sealed with a key derived from the server's passphrase
    # (exchange.services.webhook_secrets): a database dump alone forges no webhook.
    secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    created_log_index: Mapped[int] = mapped_column(BigInteger)
    removed_at: Mapped[datetime | None]
    removed_log_index: Mapped[int | None] = mapped_column(BigInteger)


class Notification(Base):
    """One message to one subscription: the outbox row, written in the transaction of the
    change that causes it. `body` is fixed at that moment, so every retry sends the same
    bytes under the same `webhook-id` (its `id`)."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("subscriptions.id"))
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"))
    event: Mapped[str] = mapped_column(String(32))
    # What makes it unique for its subscription (e.g. "handoff:<id>"): a re-run of the
    # scheduler or a replayed request never queues the same message twice.
    dedupe_key: Mapped[str] = mapped_column(String(120))
    case_id: Mapped[str | None] = mapped_column(String(36))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    # A worker's claim: until then no other worker takes it; a killed worker's claim lapses.
    leased_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16))  # pending, delivered, failed
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (
        UniqueConstraint("subscription_id", "dedupe_key"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
        Index("ix_notifications_official", "official_id", "created_at"),
    )


class DeliveryAttempt(Base):
    """One try at delivering a notification, whatever came of it."""

    __tablename__ = "delivery_attempts"

    # BIGINT, but INTEGER on SQLite, where only that is an auto-incrementing rowid.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id"), index=True)
    attempt: Mapped[int]
    started_at: Mapped[datetime]
    duration_ms: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(16))  # delivered, retry, failed
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
