"""Shared fixtures, as in Flask's tutorial: `app`, `client`, `runner`, plus a fake clock.

The database follows `HOTLINE_TEST_DB` (`sqlite`, the default, or `postgresql`): each
test gets a database of its own, migrated to head, and nothing else. Where PostgreSQL or
Redis cannot be reached, the tests that need it are skipped with the reason, except in CI
(`CI=true`), where they fail: CI must never pass by skipping them.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import pytest
from sqlalchemy.exc import SQLAlchemyError

from exchange import create_app, runtime
from exchange.storage import database, migrate
from tests.helpers import databases
from tests.helpers.databases import PostgresServer
from tests.helpers.gunicorn import GunicornServer

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
PUBLIC_URL = "http://hotline.test"
KEY_PASSPHRASE = "server key passphrase for tests"


class FakeClock:
    """The server's clock in tests: it moves only when a test says so."""

    def __init__(self, start: datetime = START) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


def unavailable(service: str, error: BaseException) -> NoReturn:
    """Skip the test, or fail it in CI, because a service it needs is not there."""
    cause = getattr(error, "orig", None) or error  # SQLAlchemy wraps the driver's error
    reason = f"{service} is unreachable ({str(cause).strip().splitlines()[0][:200]})"
    if databases.in_ci():
        pytest.fail(f"{reason}; CI must run these tests", pytrace=False)
    pytest.skip(reason)


def pytest_report_header(config: pytest.Config) -> str:
    where = databases.POSTGRES_URL if databases.BACKEND == "postgresql" else "a file per test"
    return f"hotline test database: {databases.BACKEND} ({where})"


# The fixtures through which a test reaches PostgreSQL: the database under test (which
# follows HOTLINE_TEST_DB), and the ones that ask for PostgreSQL by name.
_REACHES_POSTGRESQL = frozenset(
    {
        "database_url",
        "empty_database_url",
        "live_database_url",
        "postgres",
        "postgres_url",
        "postgresql_url",
    }
)


def reaches_postgresql(item: pytest.Item) -> bool:
    """Whether the test can touch PostgreSQL: through one of those fixtures, or by a
    parameter that names it (tests run on each backend in turn, `backend`, `log_db_url`)."""
    if _REACHES_POSTGRESQL.intersection(getattr(item, "fixturenames", ())):
        return True
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "postgresql" in [
        value for value in callspec.params.values() if isinstance(value, str)
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run leaves out the tests that never reach PostgreSQL: the protocol,
    the schemas, the keys, and the live servers on an SQLite file of their own. They would
    run exactly as they did in the SQLite run, which `make test` runs first."""
    if databases.BACKEND != "postgresql":
        return
    same_on_sqlite = [item for item in items if not reaches_postgresql(item)]
    if same_on_sqlite:
        config.hook.pytest_deselected(items=same_on_sqlite)
        items[:] = [item for item in items if reaches_postgresql(item)]


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """This run's PostgreSQL server, with a migrated template; dropped at the end."""
    try:
        server = databases.connect_postgres()
    except SQLAlchemyError as exc:
        unavailable(f"PostgreSQL at {databases.POSTGRES_URL}", exc)
    try:
        server.drop_abandoned()
        server.create_template()
        yield server
    finally:
        server.close()


@pytest.fixture
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh database at the current schema, for this test only."""
    if databases.BACKEND == "sqlite":
        url = f"sqlite:///{tmp_path / 'exchange.storage.database'}"
        engine = database.make_database(url).engine
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        yield url
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.acquire()
    try:
        yield server.url_for(name)
    finally:
        server.release(name)


@pytest.fixture
def empty_database_url(request, tmp_path) -> Iterator[str]:
    """A fresh database with no schema at all (for migrations and restores)."""
    if databases.BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.create_database()
    try:
        yield server.url_for(name)
    finally:
        server.release(name)


@pytest.fixture
def redis_url() -> str:
    """The test Redis server, checked reachable (skipped, or failed in CI, otherwise)."""
    import redis

    client = redis.Redis.from_url(databases.REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {databases.REDIS_URL}", exc)
    finally:
        client.close()
    return databases.REDIS_URL


@pytest.fixture
def gunicorn(tmp_path, database_url):
    """`gunicorn(workers=4, **EXCHANGE_settings)`: the production server (gunicorn.conf.py)
    on this test's database, started and migrated; stopped after the test."""
    started: list[GunicornServer] = []

    def start(workers: int = 4, **settings: str) -> GunicornServer:
        instance = tmp_path / f"gunicorn-{len(started)}" / "instance"
        started.append(GunicornServer(instance, database_url, workers, settings))
        return started[-1].start()

    yield start
    for server in started:
        server.stop()


def app_config(tmp_path, database_url, clock, **overrides):
    """The settings of a test app; tests that need another app start from these."""
    return {
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "KEY_PASSPHRASE": KEY_PASSPHRASE,
        "PUBLIC_URL": PUBLIC_URL,
        "CLOCK": clock,
        "TESTING": True,
        **overrides,
    }


@pytest.fixture
def app(tmp_path, database_url, clock):
    app = create_app(app_config(tmp_path, database_url, clock))
    yield app
    with app.app_context():
        runtime.get_database().engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
