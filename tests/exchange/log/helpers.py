"""Reading and editing a log database the way an outsider would: plain SQL on the tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from exchange.auditor.bundle import Bundle


def bundle_from_database(url: str, *, witnesses: bool = True) -> Bundle:
    """What the log publishes, read from its database: the latest checkpoint and the
    entries it covers (as GET /v1/log/entries serves them), and every earlier checkpoint
    (as receipts and /v1/log/checkpoint showed them over time)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT size, note, key_name FROM checkpoints ORDER BY size")
            ).all()
            size, note, key = rows[-1]
            entries = connection.scalars(
                text('SELECT leaf FROM log_entries WHERE "index" < :n ORDER BY "index"'),
                {"n": size},
            ).all()
    finally:
        engine.dispose()
    origin = key.split("+", 1)[0]
    earlier = tuple(row.note for row in rows[:-1]) if witnesses else ()
    return Bundle(origin, (key,), note, tuple(entries), earlier)


@contextmanager
def behind_the_back(path: Path) -> Iterator[sqlite3.Connection]:
    """Open the SQLite file directly, drop the append-only triggers, let the caller edit,
    and put the triggers back: what someone with access to the file can do."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        triggers = connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall()
        connection.execute("BEGIN")
        for name, _ in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        yield connection
        for _, sql in triggers:
            connection.execute(sql)
        connection.execute("COMMIT")
    finally:
        connection.close()


def leaf(connection: sqlite3.Connection, index: int) -> str:
    row = connection.execute('SELECT leaf FROM log_entries WHERE "index" = ?', (index,)).fetchone()
    return str(row[0])


def set_leaf(connection: sqlite3.Connection, index: int, value: str) -> None:
    connection.execute('UPDATE log_entries SET leaf = ? WHERE "index" = ?', (value, index))
