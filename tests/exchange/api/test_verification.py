"""The agency verifies a reported action item by item; "still reachable" reopens the case
for a new final answer, by a new deadline, breached on record if missed."""

from datetime import timedelta
from typing import Any

import pytest

from exchange import runtime
from exchange.auditor import verify_log
from exchange.protocol.envelope.errors import SealError
from exchange.services import deadlines
from schemas.common import format_utc
from tests.exchange.api.support import (
    assert_problem,
    created,
    receipt,
    response_body,
    sealed_reply,
    submit,
)
from tests.exchange.log.helpers import bundle_from_database
from tests.helpers.world import World, statement_of


def verification(checked_at: str, **reachable: bool) -> dict[str, Any]:
    return {
        "verification": [
            {"item_id": item.replace("_", "-"), "checked_at": checked_at, "reachable": value}
            for item, value in reachable.items()
        ]
    }


def sweep(world: World) -> list[tuple[str, str]]:
    with world.app.app_context(), runtime.write() as session:
        return deadlines.sweep(session, world.clock())


def audit(world: World, database_url: str) -> int:
    with world.app.app_context():
        verifier = runtime.server_keys().log.verifier_key
    bundle = bundle_from_database(database_url)
    return verify_log(bundle.entries, bundle.checkpoint, [verifier], bundle.origin).entries


def actioned(world: World):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, statement = submit(world, officer)  # urgent: 24 h to act
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    response = sealed_reply(world, reviewer, case, "response", response_body(), "metro-police")
    created(reviewer.send(response))
    return officer, reviewer, response, statement["case_id"]


def test_verified_removals_change_nothing(world, clock, database_url):
    officer, _, response, _ = actioned(world)
    clock.advance(hours=2)
    body = verification(format_utc(clock()), video_1=False, channel_1=False)
    sealed = sealed_reply(world, officer, response, "supplement", body, "clipshare")
    assert statement_of(sealed)["meta"] == body  # in the clear, signed
    before = world.log_size()
    created(officer.send(sealed))
    [entry] = world.log_entries(before)
    assert entry["details"] == {"to": ["clipshare"], "state": "actioned"}
    assert audit(world, database_url) == world.log_size()


def test_a_still_reachable_item_reopens_the_case_with_a_new_deadline(world, clock, database_url):
    officer, reviewer, response, case_id = actioned(world)
    clock.advance(hours=2)
    checked = format_utc(clock())
    sealed = sealed_reply(
        world, officer, response, "supplement",
        verification(checked, video_1=True, channel_1=False), "clipshare",
    )  # fmt: skip
    before = world.log_size()
    created(officer.send(sealed))
    [entry] = world.log_entries(before)
    reopened_due = format_utc(clock() + timedelta(hours=24))
    assert entry["details"] == {
        "to": ["clipshare"],
        "state": "reopened",
        "reopened_due_at": reopened_due,
    }
    seen = officer.get(f"/v1/cases/{case_id}").get_json()
    assert (seen["state"], seen["outcome"]) == ("reopened", "actioned")
    assert (seen["reopened_due_at"], seen["overdue"]) == (reopened_due, False)
    # An interim answer does not close it; the new deadline passes; the breach is logged.
    interim = {"outcome": "received", "actions_taken": [], "automated_detection": False}
    created(reviewer.send(sealed_reply(world, reviewer, sealed, "response", interim,
                                       "metro-police")))  # fmt: skip
    clock.advance(hours=24)
    assert officer.get(f"/v1/cases/{case_id}").get_json()["overdue"] is True
    before = world.log_size()
    assert sweep(world) == [(case_id, "reopened")]
    [breach] = world.log_entries(before)
    assert breach["details"] == {
        "deadline": "reopened",
        "due_at": reopened_due,
        "platform": "clipshare",
        "state": "reopened",
        "verification": statement_of(sealed)["handoff_id"],
    }
    # The platform's new final answer ends it; nothing more is due.
    created(reviewer.send(sealed_reply(world, reviewer, sealed, "response", response_body(),
                                       "metro-police")))  # fmt: skip
    assert officer.get(f"/v1/cases/{case_id}").get_json()["state"] == "actioned"
    clock.advance(days=5)
    assert sweep(world) == []
    assert audit(world, database_url) == world.log_size()


def test_only_a_reported_action_is_verified_and_only_by_the_agency(world):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, _ = submit(world, officer)
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    body = verification("2026-03-03T09:00:00Z", video_1=True)
    before = world.log_size()
    early = sealed_reply(world, officer, case, "supplement", body, "clipshare")
    problem = assert_problem(officer.send(early), 409, "invalid-transition")
    assert problem["detail"] == "a verification follows a reported action, not a case acknowledged"
    by_platform = sealed_reply(world, reviewer, case, "supplement", body, "metro-police")
    problem = assert_problem(reviewer.send(by_platform), 409, "invalid-transition")
    assert problem["detail"] == "only the agency records verification results"
    assert world.log_size() == before


def test_an_item_is_verified_once_per_supplement(world):
    officer, _, response, _ = actioned(world)
    body = verification("2026-03-03T09:00:00Z", video_1=True)
    body["verification"].append(dict(body["verification"][0]))
    with pytest.raises(SealError, match="item_id duplicate value"):
        sealed_reply(world, officer, response, "supplement", body, "clipshare")
