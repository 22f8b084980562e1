"""Throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database per test.

`HOTLINE_TEST_DB` picks the backend of the whole run (`sqlite`, the default, or
`postgresql`). On PostgreSQL, a run migrates one template database once, then copies it
for each test with `CREATE DATABASE … TEMPLATE …`, far faster than migrating each time.
Every name carries the pid of the run that made it, so concurrent runs never share a
database and a later run can drop what a killed one left behind.
"""

from __future__ import annotations

import os
import re
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from exchange.storage import migrate

BACKENDS = ("sqlite", "postgresql")
BACKEND = os.environ.get("HOTLINE_TEST_DB", "sqlite").strip().lower() or "sqlite"
if BACKEND not in BACKENDS:
    raise SystemExit(f"HOTLINE_TEST_DB must be one of {', '.join(BACKENDS)}, not {BACKEND!r}")

# A maintenance database on the server the tests use; test databases are made beside it.
POSTGRES_URL = os.environ.get(
    "HOTLINE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

_PREFIX = "hotline_test_"
_OURS = re.compile(rf"{_PREFIX}(\d+)_[0-9a-f]+")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PostgresServer:
    """Creates and drops this run's databases through an autocommit maintenance engine.

    Copying the template takes a few hundred milliseconds, nearly all of it the server
    waiting for its disk; so copies are made ahead, and dropped afterwards, by one
    background thread while the tests run (`acquire`, `release`).
    """

    AHEAD = 2

    def __init__(self, url: str = POSTGRES_URL) -> None:
        self.url = make_url(url)
        # NullPool: no idle connection survives a statement, so none blocks a DROP.
        self.engine: Engine = create_engine(
            self.url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"connect_timeout": 3},
        )
        self.template: str | None = None
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-db")
        self._copies: list[Future[str]] = []

    def ping(self) -> None:
        """Raise SQLAlchemyError unless the server answers."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def _execute(self, statement: str) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql(statement)

    def create_database(self, template: str | None = None) -> str:
        """A new database named for this run; a copy of `template`, or empty."""
        name = f"{_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:16]}"
        source = template or "template0"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, ending any session still connected to it (PostgreSQL 13+)."""
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def acquire(self) -> str:
        """A fresh copy of the template, made ahead where possible."""
        if self.template is None:
            raise RuntimeError("create_template() first")
        while len(self._copies) <= self.AHEAD:
            self._copies.append(self._background.submit(self.create_database, self.template))
        return self._copies.pop(0).result()

    def release(self, name: str) -> None:
        """Drop a copy, in the background (its connections are ended by the drop)."""
        self._background.submit(self.drop_database, name)

    def create_template(self) -> str:
        """A migrated database that tests copy; nothing may stay connected to it."""
        name = self.create_database()
        engine = create_engine(self.url_for(name), poolclass=NullPool)
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        self.template = name
        return name

    def drop_abandoned(self) -> list[str]:
        """Drop the databases of earlier runs whose process no longer exists."""
        with self.engine.connect() as connection:
            names = connection.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :pattern"),
                {"pattern": _PREFIX.replace("_", r"\_") + "%"},
            ).scalars()
            abandoned = [
                name
                for name in names
                if (match := _OURS.fullmatch(name)) and not _alive(int(match.group(1)))
            ]
        for name in abandoned:
            self.drop_database(name)
        return abandoned

    def close(self) -> None:
        for copy in self._copies:
            self._background.submit(self.drop_database, copy.result())
        self._copies.clear()
        self._background.shutdown(wait=True)
        if self.template:
            self.drop_database(self.template)
            self.template = None
        self.engine.dispose()


def connect_postgres() -> PostgresServer:
    """The test server, checked reachable; raises SQLAlchemyError otherwise."""
    server = PostgresServer()
    try:
        server.ping()
    except SQLAlchemyError:
        server.engine.dispose()
        raise
    return server
