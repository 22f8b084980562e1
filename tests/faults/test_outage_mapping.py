"""Which database errors are a passing outage (503) and which stay a bug (500).

The errors are the drivers' own: SQLite's raised by SQLite itself, PostgreSQL's built from
psycopg's SQLSTATE classes (the server is not needed to know what a code means), each
wrapped by SQLAlchemy as the app meets it. The live behaviour of each outage is tested
beside this file.
"""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg.errors
import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from exchange.api import problems
from exchange.api.problems import (
    DATABASE_BUSY,
    DATABASE_READ_ONLY,
    DATABASE_UNAVAILABLE,
    STORAGE_FULL,
    database_outage,
)
from tests.exchange.api.support import assert_problem


def wrapped(error: Exception, driver_base: type[Exception]) -> DBAPIError:
    """The error as SQLAlchemy raises it to the app."""
    return DBAPIError.instance("SELECT 1", None, error, driver_base)


def sqlite_error(tmp_path, cause: str) -> sqlite3.Error:
    path = tmp_path / "probe.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS t (a INTEGER PRIMARY KEY)")
        setup.execute("INSERT OR IGNORE INTO t VALUES (1)")
    causes = {
        "busy": lambda: _busy(path),
        "read-only": lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute(
            "INSERT INTO t VALUES (2)"
        ),
        "full": lambda: _full(path),
        "cannot-open": lambda: sqlite3.connect(tmp_path / "missing" / "x.db"),
        "no-such-table": lambda: sqlite3.connect(path).execute("SELECT * FROM nothing"),
        "constraint": lambda: sqlite3.connect(path).execute("INSERT INTO t VALUES (1)"),
    }
    with pytest.raises(sqlite3.Error) as raised:
        causes[cause]()
    return raised.value


def _busy(path) -> None:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        sqlite3.connect(path, timeout=0, isolation_level=None).execute("BEGIN IMMEDIATE")
    finally:
        holder.execute("ROLLBACK")


def _full(path) -> None:
    connection = sqlite3.connect(path)
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    connection.execute("CREATE TABLE big (b BLOB)")
    connection.execute("INSERT INTO big VALUES (zeroblob(100000))")


@pytest.mark.parametrize(
    ("cause", "outage"),
    [
        ("busy", DATABASE_BUSY),
        ("read-only", DATABASE_READ_ONLY),
        ("full", STORAGE_FULL),
        ("cannot-open", DATABASE_UNAVAILABLE),
        ("no-such-table", None),
        ("constraint", None),
    ],
)
def test_sqlite_errors_by_their_result_code(tmp_path, cause, outage):
    error = sqlite_error(tmp_path, cause)
    assert database_outage(wrapped(error, sqlite3.Error)) is outage


@pytest.mark.parametrize(
    ("sqlstate", "outage"),
    [
        ("08006", DATABASE_UNAVAILABLE),  # connection_failure
        ("57P01", DATABASE_UNAVAILABLE),  # admin_shutdown: pg_terminate_backend, a restart
        ("57P03", DATABASE_UNAVAILABLE),  # cannot_connect_now
        ("53300", DATABASE_UNAVAILABLE),  # too_many_connections
        ("53100", STORAGE_FULL),  # disk_full
        ("25006", DATABASE_READ_ONLY),  # read_only_sql_transaction
        ("40001", DATABASE_BUSY),  # serialization_failure
        ("40P01", DATABASE_BUSY),  # deadlock_detected
        ("55P03", DATABASE_BUSY),  # lock_not_available
        ("57014", DATABASE_BUSY),  # query_canceled
        ("23505", None),  # unique_violation: a bug of ours, never a 503
        ("42P01", None),  # undefined_table
        ("22P02", None),  # invalid_text_representation
        ("XX000", None),  # internal_error
    ],
)
def test_postgresql_errors_by_their_sqlstate(sqlstate, outage):
    error = psycopg.errors.lookup(sqlstate)("as the server says it")
    assert database_outage(wrapped(error, psycopg.Error)) is outage


def test_a_connection_that_failed_before_the_server_spoke_is_unavailable():
    refused = psycopg.OperationalError("connection failed: Connection refused")
    assert refused.sqlstate is None
    assert database_outage(wrapped(refused, psycopg.Error)) is DATABASE_UNAVAILABLE
    # The same without a code, but not operational (a misuse of the driver): a bug.
    misuse = psycopg.ProgrammingError("the query has 2 placeholders but 1 parameter")
    assert database_outage(wrapped(misuse, psycopg.Error)) is None


def test_every_outage_is_a_503_with_retry_after_in_the_catalogue():
    catalogue = problems.catalogue()
    for outage in (DATABASE_BUSY, DATABASE_UNAVAILABLE, DATABASE_READ_ONLY, STORAGE_FULL):
        assert catalogue[f"urn:hotline:problem:{outage.slug}"] == {
            "status": 503,
            "title": outage.title,
        }
        assert 1 <= outage.retry_after <= 60


def test_a_pool_with_no_connection_to_spare_is_busy(app):
    """Every connection of the process is taken (threads > pool size): a 503, not a 500."""
    exhausted = PoolTimeoutError("QueuePool limit of size 5 overflow 10 reached")
    with app.test_request_context("/v1/cases"):
        response = app.handle_user_exception(exhausted)
    body = assert_problem(response, 503, "database-busy")
    assert response.headers["Retry-After"] == "1"
    assert "QueuePool" not in response.get_data(as_text=True)
    assert body["detail"] == DATABASE_BUSY.detail
