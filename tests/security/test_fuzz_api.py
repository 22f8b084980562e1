"""Schemathesis in the suite: every operation, every role, bounded (see fuzzing.py).

`make fuzz` runs the same checks with many more examples against a live server process
(live_fuzz.py).
"""

import pytest

from exchange import create_app, runtime
from tests.conftest import app_config
from tests.exchange.api.support import submit
from tests.helpers.world import World, standard_world
from tests.security import fuzzing

ROLES = {
    "agency officer": "officer-1",
    "platform official": "cs-reviewer",
    "platform lead": "cs-lead",
    "auditor": "auditor-1",
    "no token": None,
}


@pytest.fixture
def fuzz_world(tmp_path, database_url, clock):
    # Rate limits off: hundreds of requests a minute from one official is the fuzzer's
    # job, and the limiter is tested on its own (tests/exchange/ops/test_limits.py).
    app = create_app(app_config(tmp_path, database_url, clock, RATE_LIMIT_ENABLED=False))
    world = standard_world(app, app.test_client(), clock)
    yield world
    with app.app_context():
        runtime.get_database().engine.dispose()


def token_of(world: World, official_id: str | None) -> fuzzing.Token:
    if official_id is None:
        return lambda: None
    token = world.officials[official_id].headers()["Authorization"].split()[1]
    return lambda: token


def known_ids(world: World) -> dict[str, list[str]]:
    """Ids that exist: cases of two agencies at two platforms, organisations, keys."""
    cases = [
        submit(world, world.officials["officer-1"])[1]["case_id"],
        submit(world, world.officials["caseworker-1"], to="chatter")[1]["case_id"],
    ]
    return {
        "case_id": cases,
        "org_id": ["metro-police", "clipshare", "chatter", "regulator"],
        "kid": [p.identity.signing_kid for p in world.officials.values()],
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_conforms_for_every_role(fuzz_world, role):
    known = known_ids(fuzz_world)
    schema = fuzzing.load(fuzz_world.app)
    ran = fuzzing.fuzz(schema, token_of(fuzz_world, ROLES[role]), fuzzing.IN_SUITE, known)
    assert ran >= 2 * len(fuzzing.operations(schema))


def test_ids_of_one_organisation_are_missing_for_every_other(fuzz_world):
    """The two-token check: a case metro-police created, read with every generated query
    by its own officer (200) and by officials of another agency and another platform
    (404, as for a case that does not exist); nothing is logged for either. The other GET
    operations with a path id name organisations: the directory is shared by design
    (test_api01_object_authorization.py::read_organisation)."""
    world = fuzz_world
    _, statement = submit(world, world.officials["officer-1"])
    strangers = [token_of(world, o) for o in ("caseworker-1", "ch-lead", "ch-reviewer")]
    owner = token_of(world, "officer-1")
    before = world.log_size()
    checked = fuzzing.cross_organisation(
        fuzzing.load(world.app),
        owner,
        strangers,
        fuzzing.IN_SUITE,
        {"case_id": statement["case_id"]},
    )
    assert checked == ["GET /v1/cases/{case_id}"]
    assert world.log_size() == before
