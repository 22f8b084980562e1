"""Fixtures of the fault-injection tests: a database of each kind whatever the run's
backend (a fault of SQLite's is tested on SQLite, one of PostgreSQL's on PostgreSQL, in
both runs), apps on it, and a snapshot of everything a write can change, to show that a
refused write changed nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from exchange import create_app, runtime
from exchange.runtime import server_keys
from exchange.storage import database, migrate
from exchange.storage.models import (
    Case,
    Checkpoint,
    Delivery,
    Handoff,
    InboxItem,
    LogEntry,
    LogHead,
)
from tests.conftest import app_config
from tests.helpers.databases import PostgresServer

_COUNTED = (Case, Handoff, Delivery, InboxItem, LogEntry, Checkpoint)


def snapshot(app) -> dict[str, int]:
    """How many rows each table a write touches holds, and the log head."""
    with app.app_context(), runtime.read() as session:
        counts = {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in _COUNTED
        }
        head = session.get(LogHead, 1)
        counts["log_head"] = head.size if head else 0
    return counts


def verifier_key(app) -> str:
    with app.app_context():
        return server_keys().log.verifier_key


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A SQLite file at the current schema, for this test only."""
    url = f"sqlite:///{tmp_path / 'exchange.storage.database'}"
    engine = database.make_database(url).engine
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def postgresql_url(postgres: PostgresServer) -> Iterator[str]:
    """A PostgreSQL database at the current schema, for this test only (skipped with the
    reason where PostgreSQL is unreachable, failed in CI)."""
    name = postgres.acquire()
    try:
        yield postgres.url_for(name)
    finally:
        postgres.release(name)


@pytest.fixture
def make_app(tmp_path, clock):
    """`make_app(url, **settings)`: an app on the database at `url`; disposed of after."""
    made = []

    def make(url: str, **settings):
        made.append(create_app(app_config(tmp_path, url, clock, **settings)))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            runtime.get_database().engine.dispose()
