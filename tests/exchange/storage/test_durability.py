"""A committed transaction is on disk before the request is answered.

A client may already hold a signed checkpoint for an entry; if a power failure lost that
entry, the next one at its index would make the log sign two trees of one size (a fork).
So every connection the server opens waits for the disk at commit, whatever the database
server's or the database's own default says.
"""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from exchange.storage import database
from tests.helpers import databases


def _setting(session_or_connection, dialect: str) -> str:
    query = "PRAGMA synchronous" if dialect == "sqlite" else "SHOW synchronous_commit"
    return str(session_or_connection.execute(text(query)).scalar_one())


def test_both_kinds_of_transaction_wait_for_the_disk(empty_database_url):
    db = database.make_database(empty_database_url)
    try:
        dialect = db.engine.dialect.name
        # SQLite reports FULL as 2; PostgreSQL reports "on".
        durable = "2" if dialect == "sqlite" else "on"
        with database.write(db) as session:
            assert _setting(session, dialect) == durable
        with database.read(db) as session:
            assert _setting(session, dialect) == durable
    finally:
        db.engine.dispose()


@pytest.mark.skipif(databases.BACKEND != "postgresql", reason="a PostgreSQL database setting")
def test_a_database_that_defaults_to_asynchronous_commits_is_overridden(
    empty_database_url, postgres
):
    name = make_url(empty_database_url).database
    postgres._execute(f'ALTER DATABASE "{name}" SET synchronous_commit TO off')
    plain = create_engine(empty_database_url)
    try:
        with plain.connect() as connection:
            # What a connection without our options gets: the database's default.
            assert _setting(connection, "postgresql") == "off"
    finally:
        plain.dispose()
    db = database.make_database(empty_database_url)
    try:
        with database.write(db) as session:
            assert _setting(session, "postgresql") == "on"
    finally:
        db.engine.dispose()


@pytest.mark.skipif(databases.BACKEND != "sqlite", reason="an SQLite connection setting")
def test_sqlite_reads_through_a_memory_map_of_the_configured_size(empty_database_url):
    for size, expected in ((None, database.DEFAULT_SQLITE_MMAP_BYTES), (0, 0), (4096, 4096)):
        db = (
            database.make_database(empty_database_url)
            if size is None
            else database.make_database(empty_database_url, mmap_bytes=size)
        )
        try:
            with database.read(db) as session:
                assert session.execute(text("PRAGMA mmap_size")).scalar_one() == expected
        finally:
            db.engine.dispose()
