"""Cases, the handoffs that make them, and each official's gap-free inbox."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from exchange.storage.models.base import Base


class Case(Base):
    """The server's view of a case: clear metadata from signed statements, never content."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    issuer_official: Mapped[str] = mapped_column(ForeignKey("officials.id"))
    issuer_case_ref: Mapped[str] = mapped_column(String(64))
    platform_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    category: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    minor_involved: Mapped[str] = mapped_column(String(8))
    request_type: Mapped[str] = mapped_column(String(32))
    item_count: Mapped[int]
    state: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32))
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("officials.id"))
    submitted_at: Mapped[datetime]
    ack_due_at: Mapped[datetime]
    action_due_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    responded_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # The deadline policy resolved when the case was opened (its log entry says the same).
    # Null only for cases opened before policies existed.
    policy_name: Mapped[str | None] = mapped_column(String(64))
    policy_version: Mapped[int | None]
    answer_within_seconds: Mapped[int | None]
    # When the platform must acknowledge the agency's withdrawal (set by the withdrawal).
    withdrawal_ack_due_at: Mapped[datetime | None]
    # The agency's verification that reopened the case, and the new answer's deadline.
    reopened_by: Mapped[str | None] = mapped_column(String(36))
    reopened_due_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("issuer_org", "issuer_case_ref"),
        Index("ix_cases_platform_state", "platform_org", "state"),
        Index("ix_cases_issuer_submitted", "issuer_org", "submitted_at"),
        Index("ix_cases_assignee", "assignee_id"),
    )


class Handoff(Base):
    """One accepted envelope, stored as received: the statement verbatim, the JWE as JSON."""

    __tablename__ = "handoffs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    sender_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    sender_official: Mapped[str] = mapped_column(ForeignKey("officials.id"))
    kid: Mapped[str] = mapped_column(String(43))
    in_reply_to: Mapped[str | None] = mapped_column(String(36))
    issued_at: Mapped[datetime]
    received_at: Mapped[datetime]
    statement: Mapped[str] = mapped_column(Text)
    jwe: Mapped[str | None] = mapped_column(Text)
    jwe_sha256: Mapped[str | None] = mapped_column(String(43))
    record_sha256: Mapped[str | None] = mapped_column(String(43))
    envelope_sha256: Mapped[str] = mapped_column(String(43))
    state_after: Mapped[str] = mapped_column(String(32))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)


class Delivery(Base):
    """The first time an official fetched a handoff; the log holds the same fact, signed."""

    __tablename__ = "deliveries"

    handoff_id: Mapped[str] = mapped_column(ForeignKey("handoffs.id"), primary_key=True)
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), primary_key=True)
    delivered_at: Mapped[datetime]
    log_index: Mapped[int] = mapped_column(BigInteger)


class InboxItem(Base):
    __tablename__ = "inbox_items"

    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    handoff_id: Mapped[str] = mapped_column(ForeignKey("handoffs.id"))
    created_at: Mapped[datetime]


class InboxHead(Base):
    """The last sequence number given in an official's inbox: the next is exactly one more."""

    __tablename__ = "inbox_heads"

    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class DeadlineBreach(Base):
    """One row per case and deadline, so each breach is logged exactly once.

    `deadline` is `ack`, `action`, `withdrawal_ack`, `answer:<question handoff id>` or
    `reopened:<verification handoff id>`.
    """

    __tablename__ = "deadline_breaches"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    deadline: Mapped[str] = mapped_column(String(64), primary_key=True)
    log_index: Mapped[int] = mapped_column(BigInteger)


class Question(Base):
    """A question of either side, until the other side answers it (or the case ends)."""

    __tablename__ = "questions"

    handoff_id: Mapped[str] = mapped_column(ForeignKey("handoffs.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    asked_by_org: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    due_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    answer_handoff_id: Mapped[str | None] = mapped_column(String(36))
