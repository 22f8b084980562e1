"""Append-only in depth: the ORM refuses changes to log rows, and so does the database.

On SQLite and on PostgreSQL: ORM updates and deletes of loaded rows, bulk UPDATE/DELETE
statements, and raw SQL (which only the triggers stop).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from exchange import log
from exchange.log import transaction
from exchange.protocol.events import Event
from exchange.storage import database
from exchange.storage.append_only import AppendOnlyError
from exchange.storage.models import Checkpoint, LogEntry, LogNode

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
MODELS = [LogEntry, LogNode, Checkpoint]
TABLES = ["log_entries", "log_nodes", "checkpoints"]


@pytest.fixture
def db(log_db_url, signer):
    """A log with at least a few entries, nodes and checkpoints."""
    db = database.make_database(log_db_url)
    for number in range(3):
        with transaction.write(db, signer) as session:
            log.append(
                session,
                Event.ORGANISATION_CREATED,
                NOW,
                details={"org": f"org-{number}", "kind": "agency", "name": "Org"},
            )
    yield db
    db.engine.dispose()


def _first(session, model):
    return session.scalars(select(model).limit(1)).one()


def _edit_loaded_row(db, model):
    with database.write(db) as session:
        row = _first(session, model)
        if model is LogEntry:
            row.leaf = row.leaf.replace("Org", "Grr")
        elif model is LogNode:
            row.hash = bytes(32)
        else:
            row.note = row.note + "x"
        session.flush()


def _delete_loaded_row(db, model):
    with database.write(db) as session:
        session.delete(_first(session, model))
        session.flush()


@pytest.mark.parametrize("model", MODELS, ids=TABLES)
def test_the_orm_refuses_to_update_a_loaded_row(db, model):
    with pytest.raises(AppendOnlyError, match="never updated"):
        _edit_loaded_row(db, model)


@pytest.mark.parametrize("model", MODELS, ids=TABLES)
def test_the_orm_refuses_to_delete_a_loaded_row(db, model):
    before = _count(db, model.__tablename__)
    with pytest.raises(AppendOnlyError, match="never deleted"):
        _delete_loaded_row(db, model)
    assert _count(db, model.__tablename__) == before


@pytest.mark.parametrize("model", MODELS, ids=TABLES)
def test_the_orm_refuses_bulk_updates(db, model):
    column = {LogEntry: "event", LogNode: "level", Checkpoint: "key_name"}[model]
    value = {LogEntry: "forged", LogNode: 9, Checkpoint: "forged"}[model]
    with pytest.raises(AppendOnlyError), database.write(db) as session:
        session.execute(update(model).values({column: value}))


@pytest.mark.parametrize("model", MODELS, ids=TABLES)
def test_the_orm_refuses_bulk_deletes(db, model):
    with pytest.raises(AppendOnlyError), database.write(db) as session:
        session.execute(delete(model))


def _count(db, table):
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()  # noqa: S608 - our table names


@pytest.mark.parametrize("table", TABLES)
def test_the_database_refuses_raw_updates(db, table):
    column = {"log_entries": "event", "log_nodes": "level", "checkpoints": "key_name"}[table]
    value = {"log_entries": "'forged'", "log_nodes": "9", "checkpoints": "'forged'"}[table]
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE {table} SET {column} = {value}")  # noqa: S608
    with db.engine.connect() as connection:
        query = f"SELECT DISTINCT {column} FROM {table}"  # noqa: S608 - our table names
        values = connection.exec_driver_sql(query).scalars()
        assert "forged" not in list(values)


@pytest.mark.parametrize("table", TABLES)
def test_the_database_refuses_raw_deletes(db, table):
    before = _count(db, table)
    assert before > 0
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608 - our table names
    assert _count(db, table) == before


def test_postgresql_refuses_truncate(postgres_url, signer):
    db = database.make_database(postgres_url)
    try:
        with transaction.write(db, signer) as session:
            log.append(
                session,
                Event.ORGANISATION_CREATED,
                NOW,
                details={"org": "truncated", "kind": "agency", "name": "Org"},
            )
        for table in TABLES:
            with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as c:
                c.exec_driver_sql(f"TRUNCATE {table}")
            assert _count(db, table) > 0
    finally:
        db.engine.dispose()


def test_appending_still_works_after_a_refusal(db, signer):
    with pytest.raises(AppendOnlyError), database.write(db) as session:
        session.execute(delete(LogEntry))
    with transaction.write(db, signer) as session:
        index = log.append(
            session,
            Event.ORGANISATION_CREATED,
            NOW,
            details={"org": "after", "kind": "agency", "name": "Org"},
        ).index
    assert _count(db, "log_entries") == index + 1
