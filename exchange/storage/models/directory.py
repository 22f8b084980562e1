"""Who takes part: organisations, their officials, officials' keys, and category routing."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange.storage.models.base import Base
from schemas.enums import KeyStatus


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class Official(Base):
    __tablename__ = "officials"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200), default="")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    contact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    enrolled: Mapped[bool] = mapped_column(default=False)
    # Approved by a current lead of the organisation (or bootstrapped as its first lead):
    # only then does the official receive its cases, sign, or read.
    approved: Mapped[bool] = mapped_column(default=False)
    lead: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None]


class EnrollmentCode(Base):
    """A one-time code; only its SHA-256 is stored, so a database leak enrolls nobody."""

    __tablename__ = "enrollment_codes"

    code_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"), index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class OfficialKey(Base):
    """A public key of an official. Keys are never deleted: retired and revoked keys still
    verify the statements they signed while they were valid."""

    __tablename__ = "official_keys"

    kid: Mapped[str] = mapped_column(String(43), primary_key=True)
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"))
    use: Mapped[str] = mapped_column(String(3))
    jwk: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=KeyStatus.ACTIVE.value)
    registered_at: Mapped[datetime]
    registered_log_index: Mapped[int]
    retired_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_official_keys_official_status", "official_id", "status"),)


class Route(Base):
    """Which designated official of a platform receives new cases of a category."""

    __tablename__ = "routes"

    platform_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"))


class LeadReplacement(Base):
    """The operator's replacement of all of an organisation's leads, pending its wait."""

    __tablename__ = "lead_replacements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    official_id: Mapped[str] = mapped_column(ForeignKey("officials.id"))
    started_at: Mapped[datetime]
    effective_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # pending, objected, completed


class MembershipStatement(Base):
    """Each lead-signed membership statement, once: a replay is refused by its id."""

    __tablename__ = "membership_statements"

    statement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    log_index: Mapped[int]


# Every table that addressing a handoff reads (`exchange.services.addressing`): a change to
# any of them moves the directory's version.
DIRECTORY_TABLES = (
    "organisations",
    "officials",
    "official_keys",
    "routes",
    "deadline_policies",
    "subscriptions",
)


class DirectoryVersion(Base):
    """One row whose number the database's own triggers move on at every change of the
    directory tables that addressing a handoff reads (migration 0007)."""

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
