"""The directory's version (migration 0007): every change of a directory table moves it,
made by the application or by hand in SQL, and nothing else does."""

import pytest
from sqlalchemy import text

from exchange import runtime
from exchange.services import addressing
from exchange.storage.models import Case
from exchange.storage.models.directory import DIRECTORY_TABLES
from tests.exchange.api.support import submit
from tests.helpers.world import World, standard_world


@pytest.fixture
def world(app, client, clock) -> World:
    return standard_world(app, client, clock)


def version(world: World) -> int:
    with world.app.app_context(), runtime.read() as session:
        return addressing.directory_version(session)


def in_sql(world: World, *statements: str) -> None:
    with world.app.app_context(), runtime.write() as session:
        for statement in statements:
            session.execute(text(statement))


# One change of one row of each directory table, as an operator could type it.
BY_HAND = {
    "organisations": ["UPDATE organisations SET name = 'Clip Share' WHERE id = 'clipshare'"],
    "officials": ["UPDATE officials SET title = 'Reviewer' WHERE id = 'cs-reviewer'"],
    "official_keys": [
        "UPDATE official_keys SET status = status WHERE kid = "
        "(SELECT min(kid) FROM official_keys WHERE official_id = 'cs-lead')"
    ],
    "routes": ["UPDATE routes SET official_id = 'cs-lead' WHERE platform_id = 'clipshare'"],
    "deadline_policies": [
        "INSERT INTO deadline_policies (name, version, ack_seconds, action_seconds, "
        "answer_seconds, retired, changed_at, log_index) "
        "VALUES ('by-hand', 1, 60, 60, 60, false, '2026-03-03 09:00:00+00:00', 999999)"
    ],
    "subscriptions": [
        "INSERT INTO subscriptions (id, org_id, official_id, channel, target, scope, events, "
        "priorities, created_at, created_log_index) VALUES ('by-hand', 'clipshare', 'cs-lead', "
        "'webhook', 'https://example.org/hook', 'own', '[]', '[]', "
        "'2026-03-03 09:00:00+00:00', 999999)"
    ],
}


def test_every_directory_table_is_covered():
    assert set(BY_HAND) == set(DIRECTORY_TABLES)


@pytest.mark.parametrize("table", DIRECTORY_TABLES)
def test_a_change_made_by_hand_in_sql_moves_the_version(world, table):
    before = version(world)
    in_sql(world, *BY_HAND[table])
    assert version(world) == before + 1


def test_the_directory_services_move_it_and_handoffs_do_not(world):
    before = version(world)
    submit(world, world.officials["officer-1"])
    assert version(world) == before
    world.deactivate("officer-2")
    assert version(world) > before


def test_a_submit_after_a_directory_change_is_addressed_as_the_directory_now_says(world):
    officer = world.officials["officer-1"]
    _, first = submit(world, officer)
    world.route("clipshare", "sexual_deepfake", "cs-lead")
    _, second = submit(world, officer)
    with world.app.app_context(), runtime.read() as session:
        assignees = [
            session.get(Case, statement["case_id"]).assignee_id for statement in (first, second)
        ]
    assert assignees == ["cs-reviewer", "cs-lead"]
