"""The database: one engine per app, and the only two ways to open a transaction.

`write()` is the transaction at the route edge: it serialises writers (BEGIN IMMEDIATE on
SQLite, a row lock on the log head on PostgreSQL) so that a state change, its log entry
and the checkpoint over them commit together or not at all, and concurrent requests
never interleave inside the log. `read()` is a plain read-only transaction.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from exchange import checkpoints
from exchange.models.log import LogHead

_EXTENSION = "exchange.db"
_WRITE_OPTION = "exchange_write"


@dataclass(frozen=True)
class Database:
    engine: Engine
    reads: sessionmaker[Session]
    writes: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"


def make_database(url: str, busy_timeout_ms: int = 5000) -> Database:
    # hide_parameters: an error message never carries a statement or a JWE into a log.
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout_ms)
    writer = engine.execution_options(**{_WRITE_OPTION: True})
    return Database(
        engine,
        sessionmaker(engine, expire_on_commit=False),
        sessionmaker(writer, expire_on_commit=False),
    )


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that upgrades
        # later fails with SQLITE_BUSY instead of waiting its turn.
        immediate = connection.get_execution_options().get(_WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = make_database(
        app.config["DATABASE_URL"], app.config["SQLITE_BUSY_TIMEOUT_MS"]
    )


def database() -> Database:
    db: Database = current_app.extensions[_EXTENSION]
    return db


@contextmanager
def write(db: Database | None = None) -> Iterator[Session]:
    """One serialised read-write transaction; its log appends are checkpointed at commit."""
    db = db or database()
    with db.writes() as session, session.begin():
        if not db.is_sqlite:
            session.execute(select(LogHead).where(LogHead.id == 1).with_for_update())
        yield session
        checkpoints.seal_pending(session)


@contextmanager
def read(db: Database | None = None) -> Iterator[Session]:
    db = db or database()
    with db.reads() as session, session.begin():
        yield session


def ping(db: Database) -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
