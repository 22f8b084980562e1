"""Fixtures of the operations tests: apps with chosen settings on this test's database."""

import uuid

import pytest

from exchange import create_app, runtime
from tests.conftest import app_config


@pytest.fixture
def make_app(tmp_path, database_url, clock):
    """`make_app(**settings)`: an app on this test's database; disposed of afterwards."""
    made = []

    def make(**settings):
        made.append(create_app(app_config(tmp_path, database_url, clock, **settings)))
        return made[-1]

    yield make
    for app in made:
        with app.app_context():
            runtime.get_database().engine.dispose()


@pytest.fixture
def key_prefix(redis_url):
    """A Redis key prefix of this test's own, so runs sharing a Redis never meet; the
    test's counters are deleted afterwards."""
    import redis

    prefix = f"hotline-test-{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        stale = list(client.scan_iter(match=f"*{prefix}*"))
        if stale:
            client.delete(*stale)
    finally:
        client.close()
