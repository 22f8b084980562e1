"""Fixtures of the adversarial tests: the standard populated exchange, as in the API tests."""

import pytest

from tests.helpers.world import World, standard_world


@pytest.fixture
def world(app, client, clock) -> World:
    return standard_world(app, client, clock)
