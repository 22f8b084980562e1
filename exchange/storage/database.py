"""The database: its engine and the only two ways to open a transaction.

`write()` opens a serialised read-write transaction (BEGIN IMMEDIATE on SQLite, behind a
queue of this database's writers) and commits it when the block ends, or rolls it back;
`read()` is a plain read-only transaction. Nothing here knows the log: the log's unit of
work (`exchange.log.transaction`) wraps `write()` with its own steps.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session, sessionmaker

from exchange.storage import append_only
from exchange.storage.writers import SqliteWriters

_WRITE_OPTION = "exchange_write"
_READ_ONLY_SQL_TRANSACTION = "25006"  # PostgreSQL's SQLSTATE for a write in a read-only one
# Each session's `info` holds this one dict of the database's process-wide state (caches
# of immutable rows, for instance): sessionmaker copies `info` shallowly into every session.
_SHARED = "exchange.storage.shared"


@dataclass(frozen=True)
class Database:
    engine: Engine
    reads: sessionmaker[Session]
    writes: sessionmaker[Session]
    writers: SqliteWriters | None = field(default=None, compare=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"


# Reads of the first GiB of an SQLite file go through a memory map: a proof's node lookups
# in a log of millions of entries then cost page-cache reads, not a read(2) per page (about
# a third less time at 10^6 entries, see bench/log.py). Writes still go through write(2).
# The price (SQLite's mmap.html): an I/O error while reading the file stops the worker
# with SIGBUS rather than failing one request; gunicorn starts another.
DEFAULT_SQLITE_MMAP_BYTES = 1 << 30


def make_database(
    url: str, busy_timeout_ms: int = 5000, mmap_bytes: int = DEFAULT_SQLITE_MMAP_BYTES
) -> Database:
    # hide_parameters: an error message never carries a statement or a JWE into a log.
    options: dict[str, Any] = {}
    if url.startswith("postgresql"):
        # A writer waits this long for a lock, then gets database-busy (503), rather than
        # waiting until gunicorn kills its worker.
        # synchronous_commit=on whatever the server's or database's default: a 201 means
        # the entry and its checkpoint are on disk (see _configure_sqlite).
        options["connect_args"] = {
            "options": f"-c lock_timeout={int(busy_timeout_ms)} -c synchronous_commit=on"
        }
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True, **options)
    event.listen(engine, "handle_error", _drop_read_only_connections)
    writers = None
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        in_memory = not path or path == ":memory:"
        writers = SqliteWriters(None if in_memory else path, busy_timeout_ms / 1000)
        _configure_sqlite(engine, busy_timeout_ms, mmap_bytes)
    writer = engine.execution_options(**{_WRITE_OPTION: True})
    info: dict[str, Any] = {_SHARED: {}}
    reads = sessionmaker(engine, expire_on_commit=False, info=info)
    writes = sessionmaker(writer, expire_on_commit=False, info=info)
    for factory in (reads, writes):
        append_only.guard(factory)
    return Database(engine, reads, writes, writers)


def shared(session: Session) -> dict[str, Any]:
    """The process-wide state of the session's database, shared by all its sessions."""
    state: dict[str, Any] = session.info.setdefault(_SHARED, {})
    return state


def _drop_read_only_connections(context: ExceptionContext) -> None:
    """Treat "this connection cannot write" like a lost connection: the pool then opens
    fresh ones, so the service writes again by itself once the database can. SQLite opens
    a file it may not write read-only and stays so; a PostgreSQL server demoted to a
    standby by a failover stays read-only for its sessions."""
    cause = context.original_exception
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if (isinstance(sqlite_code, int) and sqlite_code & 0xFF == sqlite3.SQLITE_READONLY) or (
        getattr(cause, "sqlstate", None) == _READ_ONLY_SQL_TRANSACTION
    ):
        context.is_disconnect = True


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, mmap_bytes: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # FULL, not WAL's usual NORMAL: NORMAL may lose the last commits on power failure,
        # and a client may already hold a signed checkpoint for them; the next entry at
        # that index would make the log sign two trees of one size (a fork).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA mmap_size={int(mmap_bytes)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that upgrades
        # later fails with SQLITE_BUSY instead of waiting its turn.
        immediate = connection.get_execution_options().get(_WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write(db: Database) -> Iterator[Session]:
    """One serialised read-write transaction, committed when the block ends without error."""
    with (
        db.writers.turn() if db.writers else nullcontext(),
        db.writes() as session,
        session.begin(),
    ):
        yield session


@contextmanager
def read(db: Database) -> Iterator[Session]:
    with db.reads() as session, session.begin():
        yield session


def ping(db: Database) -> None:
    with db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
