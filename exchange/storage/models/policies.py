"""Deadline policies: every version the operator set, the newest of each name in force."""

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from exchange.storage.models.base import Base


class DeadlinePolicyVersion(Base):
    """One version of a named policy, as its `deadline_policy_changed` entry logged it.

    Rows are only ever added: a change is the next version, a retirement a version with
    `retired` set, so the policy any past case was opened under stays readable here too.
    """

    __tablename__ = "deadline_policies"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    jurisdiction: Mapped[str | None] = mapped_column(String(2))
    instrument: Mapped[str | None] = mapped_column(String(200))
    article: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(16))
    ack_seconds: Mapped[int]
    action_seconds: Mapped[int]
    answer_seconds: Mapped[int]
    retired: Mapped[bool]
    changed_at: Mapped[datetime]
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
