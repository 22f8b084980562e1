"""Client-assertion replay protection: every `jti` is accepted once until it expires."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from exchange.storage.models.base import Base


class UsedAssertion(Base):
    __tablename__ = "used_assertions"

    issuer: Mapped[str] = mapped_column(String(63), primary_key=True)
    jti: Mapped[str] = mapped_column(String(255), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
