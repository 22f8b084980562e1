"""Shared fixtures, as in Flask's tutorial: `app`, `client`, `runner`, plus a fake clock."""

from datetime import UTC, datetime, timedelta

import pytest

from exchange import create_app, db, migrate

START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
PUBLIC_URL = "http://hotline.test"


class FakeClock:
    """The server's clock in tests: it moves only when a test says so."""

    def __init__(self, start: datetime = START) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'exchange.db'}"


@pytest.fixture
def app(tmp_path, database_url, clock):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": database_url,
            "KEY_PASSPHRASE": "server key passphrase for tests",
            "PUBLIC_URL": PUBLIC_URL,
            "CLOCK": clock,
            "TESTING": True,
        }
    )
    with app.app_context():
        migrate.upgrade(db.database().engine)
    yield app
    with app.app_context():
        db.database().engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
