"""The transparency log: entries, the hashes of complete subtrees, and signed checkpoints.

All three tables are append-only (the ORM refuses changes, and database triggers refuse
them too). `log_head` is the one mutable row: the size, and the lock writers queue on.
"""

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from exchange.storage.models.base import Base


class LogEntry(Base):
    __tablename__ = "log_entries"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf: Mapped[str] = mapped_column(Text)  # the RFC 8785 JSON the leaf hash covers
    event: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    handoff_id: Mapped[str | None] = mapped_column(String(36))
    logged_at: Mapped[datetime]


class LogNode(Base):
    """The hash of the complete subtree of 2**level leaves from leaf index * 2**level."""

    __tablename__ = "log_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Checkpoint(Base):
    __tablename__ = "checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    key_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime]


class Cosignature(Base):
    """A witness's cosignature of the checkpoint of `size`, verified before it was stored."""

    __tablename__ = "cosignatures"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    line: Mapped[str] = mapped_column(Text)  # "— <witness> <base64>\n", as the witness sent it
    timestamp: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime]


class LogHead(Base):
    __tablename__ = "log_head"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    # The verifier key that signs the log's checkpoints now (null until the first one).
    key_name: Mapped[str | None] = mapped_column(String(200))


APPEND_ONLY_TABLES = ("log_entries", "log_nodes", "checkpoints")
