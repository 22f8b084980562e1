"""Fixtures of the API tests: a populated exchange behind the Flask test client."""

import pytest

from tests.helpers.world import World, standard_world


@pytest.fixture
def world(app, client, clock) -> World:
    return standard_world(app, client, clock)
