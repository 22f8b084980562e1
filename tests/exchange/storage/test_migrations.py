"""Alembic migrations, on the backend of the run: upgrade, downgrade to nothing, upgrade again."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from exchange.storage import database, migrate
from exchange.storage.models import APPEND_ONLY_TABLES, Base
from exchange.storage.models.directory import DIRECTORY_TABLES

EXPECTED_TABLES = set(Base.metadata.tables) | {"alembic_version"}


@pytest.fixture
def engine(empty_database_url):
    engine = database.make_database(empty_database_url).engine
    yield engine
    engine.dispose()


def tables(engine):
    return set(inspect(engine).get_table_names())


def triggers(engine):
    """The append-only triggers, by name, as the database itself lists them."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = (
                "SELECT tgname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid "
                "WHERE NOT tgisinternal"
            )
        return set(connection.execute(text(query)).scalars())


def expected_triggers(dialect):
    """The append-only triggers (0001) and the directory version's (0007)."""
    if dialect == "sqlite":
        return {
            f"{t}_no_{action}" for t in APPEND_ONLY_TABLES for action in ("update", "delete")
        } | {
            f"{t}_{action}_directory_version"
            for t in DIRECTORY_TABLES
            for action in ("insert", "update", "delete")
        }
    return {f"{t}_append_only" for t in APPEND_ONLY_TABLES} | {
        f"{t}_directory_version" for t in DIRECTORY_TABLES
    }


def assert_at_head(engine):
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    assert tables(engine) == EXPECTED_TABLES
    assert triggers(engine) == expected_triggers(engine.dialect.name)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id, size FROM log_head")).all() == [(1, 0)]
        version = text("SELECT id, version FROM directory_version")
        assert connection.execute(version).all() == [(1, 0)]


def assert_empty(engine):
    assert migrate.current_revision(engine) is None
    assert tables(engine) <= {"alembic_version"}
    assert triggers(engine) == set()


def test_upgrade_downgrade_and_upgrade_again(engine):
    assert_empty(engine)

    migrate.upgrade(engine)
    assert_at_head(engine)

    migrate.downgrade(engine, "base")
    assert_empty(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            functions = connection.execute(
                text(
                    "SELECT proname FROM pg_proc WHERE proname IN "
                    "('hotline_append_only', 'hotline_directory_version')"
                )
            ).all()
        assert functions == []

    migrate.upgrade(engine)
    assert_at_head(engine)


def test_upgrading_twice_changes_nothing(engine):
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    assert_at_head(engine)


ROWS = {
    "log_entries": (
        'INSERT INTO log_entries ("index", leaf, event, logged_at) '
        "VALUES (0, '{}', 'case', :moment)",
        "UPDATE log_entries SET leaf = 'forged'",
    ),
    "log_nodes": (
        'INSERT INTO log_nodes (level, "index", hash) VALUES (0, 0, :digest)',
        "UPDATE log_nodes SET hash = :digest",
    ),
    "checkpoints": (
        "INSERT INTO checkpoints (size, root, note, key_name, signed_at) "
        "VALUES (1, :digest, 'note', 'key', :moment)",
        "UPDATE checkpoints SET note = 'forged'",
    ),
}


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_the_triggers_refuse_changes_to_log_tables_even_in_raw_sql(engine, table):
    migrate.upgrade(engine)
    insert, update = ROWS[table]
    values = {"digest": bytes(32), "moment": datetime(2026, 1, 1, tzinfo=UTC)}
    with engine.begin() as connection:
        connection.execute(text(insert), values)
    delete = f"DELETE FROM {table}"  # noqa: S608 - table names from APPEND_ONLY_TABLES
    for statement in (update, delete):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement), values)
    with engine.connect() as connection:
        count = text(f"SELECT count(*) FROM {table}")  # noqa: S608 - as above
        assert connection.execute(count).scalar_one() == 1
