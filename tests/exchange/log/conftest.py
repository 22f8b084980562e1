"""Fixtures for the log tests: a populated exchange on SQLite, and PostgreSQL databases.

PostgreSQL tests get a throwaway database per module, migrated to head. Where the server
cannot be reached they are skipped with the reason, except in CI (`CI=true`), where they
fail: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from exchange import create_app, runtime
from exchange.log.keyring import LogSigner
from exchange.runtime import server_keys
from exchange.storage import database, migrate
from tests.conftest import PUBLIC_URL, FakeClock
from tests.exchange.log.scenario import busy
from tests.helpers.world import Official, World, standard_world

ORIGIN = "log.test/hotline"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def signer() -> LogSigner:
    # One per module: a database shared by a module's tests has one log key, as in life
    # (a second key would be refused as a rotated-out one, see checkpoints.seal_pending).
    return LogSigner(ORIGIN, Ed25519PrivateKey.generate())


def make_app(instance, url, clock):
    return create_app(
        {
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": url,
            "KEY_PASSPHRASE": "log tests",
            "PUBLIC_URL": PUBLIC_URL,
            "CLOCK": clock,
            "TESTING": True,
            "RATE_LIMIT_ENABLED": False,
        }
    )


class Exchange:
    """A populated exchange: its database file, instance folder (keys) and people."""

    def __init__(self, path, instance, verifier_key, world):
        self.path, self.instance = path, instance
        self.verifier_key, self.world = verifier_key, world

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def copy(self, target):
        shutil.copy(self.path, target)
        return target

    def reopen(self, path, clock: FakeClock | None = None) -> World:
        """The same exchange (keys, people) over another copy of its database."""
        clock = clock or FakeClock(self.world.clock())
        app = make_app(self.instance, f"sqlite:///{path}", clock)
        world = World(app, app.test_client(), clock)
        for person in self.world.officials.values():
            world.officials[person.id] = Official(
                world, person.org, person.id, person.role, person.identity
            )
        return world


@pytest.fixture(scope="module")
def exchange(tmp_path_factory):
    """Built once per module (HTTP through the real app); tests edit copies of the file."""
    root = tmp_path_factory.mktemp("exchange")
    path = root / "exchange.storage.database"
    clock = FakeClock(START)
    app = make_app(root / "instance", f"sqlite:///{path}", clock)
    with app.app_context():
        migrate.upgrade(runtime.get_database().engine)
        verifier_key = server_keys().log.verifier_key
    world = standard_world(app, app.test_client(), clock)
    busy(world)
    with app.app_context():
        runtime.get_database().engine.dispose()
    return Exchange(path, root / "instance", verifier_key, world)


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is unreachable in CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL at {POSTGRES} is unreachable: {reason}")


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL database for this module, migrated to head."""
    admin = create_engine(
        f"{POSTGRES}/postgres",
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 3},
    )
    name = f"hotline_log_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as exc:
        admin.dispose()
        _postgres_unavailable(str(exc.orig).strip()[:200])
    url = f"{POSTGRES}/{name}"
    engine = create_engine(url, poolclass=NullPool)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'log.db'}"
    db = database.make_database(url)
    migrate.upgrade(db.engine)
    db.engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def log_db_url(request):
    """Each test on a fresh SQLite file, and on this module's PostgreSQL database."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")
