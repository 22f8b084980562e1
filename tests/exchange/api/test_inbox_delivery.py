"""A first pull of an inbox page: every handoff delivered once, in one batch of writes."""

import json
from typing import Any

from sqlalchemy import event

from exchange import runtime
from schemas.api import InboxPageSchema
from schemas.common import format_utc
from tests.exchange.api.support import assignment, created, submit
from tests.helpers.world import World


def _pull_counting_writes(world: World, official_id: str) -> tuple[dict[str, Any], list[str]]:
    """Pull the whole inbox; return the page and the INSERT/UPDATE statements it issued."""
    official = world.officials[official_id]
    official.headers()  # signed in beforehand: the token's own writes are not the pull's
    writes: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE")):
            writes.append(statement.split("(")[0].split(" SET ")[0].strip())

    with world.app.app_context():
        engine = runtime.get_database().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = official.get("/v1/inbox?after=0&limit=50")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.get_json()
    return response.get_json(), writes


def test_a_first_pull_logs_each_handoff_once_in_writes_independent_of_its_size(world):
    officer = world.officials["officer-1"]
    sent = [submit(world, officer)[1] for _ in range(2)]
    mark = world.log_size()
    page, writes_for_two = _pull_counting_writes(world, "cs-reviewer")
    assert [item["handoff"]["handoff_id"] for item in page["items"]] == [
        statement["handoff_id"] for statement in sent
    ]
    sent += [submit(world, officer)[1] for _ in range(10)]
    page, writes_for_ten = _pull_counting_writes(world, "cs-reviewer")
    assert len(page["items"]) == 12

    delivered = [entry for entry in world.log_entries(mark) if entry["event"] == "delivered"]
    # Each handoff once, in inbox order, whichever pull first fetched it.
    assert [entry["handoff_id"] for entry in delivered] == [s["handoff_id"] for s in sent]
    assert {entry["actor"]["official"] for entry in delivered} == {"cs-reviewer"}
    assert {entry["details"]["state"] for entry in delivered} == {"delivered"}
    # Case states, deliveries, log entries and nodes go in one batch per table, not one
    # round of statements per handoff: 10 new handoffs cost what 2 did.
    assert (
        writes_for_two
        == writes_for_ten
        == [
            "UPDATE cases",
            "INSERT INTO deliveries",
            "UPDATE log_head",
            "INSERT INTO log_entries",
            "INSERT INTO log_nodes",
            "INSERT INTO checkpoints",
        ]
    )
    # A repeat pull is a read: nothing is written, nothing logged.
    size = world.log_size()
    assert _pull_counting_writes(world, "cs-reviewer")[1] == []
    assert world.log_size() == size


def test_a_case_assigned_away_and_back_is_delivered_once(world):
    """Reassignment puts a case's handoffs in an inbox again; they were delivered already."""
    officer, lead = world.officials["officer-1"], world.officials["cs-lead"]
    reviewer = world.officials["cs-reviewer"]
    world.enroll("clipshare", "cs-second", "platform_official")
    sealed, statement = submit(world, officer)
    _pull_counting_writes(world, "cs-reviewer")
    for assignee in ("cs-second", "cs-reviewer"):
        created(lead.send(assignment(world, lead, sealed, assignee)))
    mark = world.log_size()
    response = reviewer.get("/v1/inbox?after=0&limit=50")
    assert response.status_code == 200, response.get_json()
    handoffs = [item["handoff"]["handoff_id"] for item in response.get_json()["items"]]
    assert statement["handoff_id"] in handoffs
    delivered = [
        (entry["handoff_id"], entry["actor"]["official"])
        for entry in world.log_entries(mark)
        if entry["event"] == "delivered"
    ]
    # The case was delivered to cs-reviewer before; only the lead's assignments are new.
    assert (statement["handoff_id"], "cs-reviewer") not in delivered
    assert len(delivered) == len(set(delivered))


def test_a_page_is_in_its_schemas_form_and_carries_each_jwe_as_sent(world):
    """The page is printed once, with the stored JWE text spliced in: it must still be what
    the documented schema gives, and each JWE the sender's, member for member."""
    officer = world.officials["officer-1"]
    sealed = [submit(world, officer)[0] for _ in range(3)]
    response = world.officials["cs-reviewer"].get("/v1/inbox?after=0&limit=50")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    page = json.loads(response.data)
    assert InboxPageSchema().dump(page) == page
    assert [item["handoff"]["jwe"] for item in page["items"]] == [s.jwe for s in sealed]
    assert page["last_seq"] == 3
    # Keys sorted at every level, as Flask's own JSON provider prints them.
    assert response.data == json.dumps(page, sort_keys=True, separators=(",", ":")).encode()


def test_a_first_pull_shows_each_case_as_its_delivery_left_it(world):
    """The page is read before its deliveries are recorded; its cases are answered as
    recording them left them: delivered, updated now, and overdue by the new state."""
    officer = world.officials["officer-1"]
    first, second = (submit(world, officer)[1] for _ in range(2))
    reviewer = world.officials["cs-reviewer"]
    pulled_at = world.clock.advance(minutes=5)
    response = reviewer.get("/v1/inbox?after=0&limit=50")
    assert response.status_code == 200
    cases = {item["case"]["case_id"]: item["case"] for item in response.get_json()["items"]}
    assert set(cases) == {first["case_id"], second["case_id"]}
    for case in cases.values():
        assert case["state"] == "delivered"
        assert case["updated_at"] == format_utc(pulled_at)
        assert case["overdue"] is False
    # A second pull reads what the first one recorded: the same answer.
    world.clock.advance(minutes=5)
    again = reviewer.get("/v1/inbox?after=0&limit=50").get_json()["items"]
    assert {item["case"]["case_id"]: item["case"] for item in again} == cases
