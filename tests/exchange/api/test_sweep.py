"""The deadline sweep: each missed deadline becomes one `deadline_breached` entry, once."""

from datetime import timedelta
from typing import Any

from exchange import runtime
from exchange.services import deadlines
from schemas.common import format_utc
from tests.exchange.api.support import created, receipt, response_body, sealed_reply, submit
from tests.helpers.world import World
from tests.schemas import examples


def sweep(world: World) -> list[tuple[str, str]]:
    with world.app.app_context(), runtime.write() as session:
        return deadlines.sweep(session, world.clock())


def breaches(world: World, since: int = 0) -> list[dict[str, Any]]:
    return [e for e in world.log_entries(since) if e["event"] == "deadline_breached"]


def test_each_missed_deadline_is_logged_once(world, clock):
    officer = world.officials["officer-1"]
    submitted_at = clock()
    _, statement = submit(world, officer)  # urgent: 1 h to acknowledge, 24 h to act
    case_id = statement["case_id"]
    clock.advance(minutes=59, seconds=59)
    assert sweep(world) == []
    clock.advance(seconds=1)
    before = world.log_size()
    assert sweep(world) == [(case_id, "ack")]
    [entry] = world.log_entries(before)
    assert entry["event"] == "deadline_breached"
    assert entry["actor"] is None
    assert entry["case_id"] == case_id
    assert entry["handoff_id"] is None
    assert entry["logged_at"] == format_utc(clock())
    assert entry["details"] == {
        "deadline": "ack",
        "due_at": format_utc(submitted_at + timedelta(hours=1)),
        "platform": "clipshare",
        "state": "submitted",
    }
    assert sweep(world) == []  # the second run finds nothing new
    assert world.log_size() == before + 1

    clock.advance(hours=23)
    assert sweep(world) == [(case_id, "action")]
    assert sweep(world) == []
    assert [(e["case_id"], e["details"]["deadline"]) for e in breaches(world)] == [
        (case_id, "ack"),
        (case_id, "action"),
    ]


def test_an_answered_deadline_is_not_breached(world, clock):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, _ = submit(world, officer)
    clock.advance(minutes=30)
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    clock.advance(hours=2)
    assert sweep(world) == []
    response = sealed_reply(world, reviewer, case, "response", response_body(), "metro-police")
    created(reviewer.send(response))
    clock.advance(days=30)
    assert sweep(world) == []
    assert breaches(world) == []


def test_withdrawn_cases_have_no_deadlines_but_acknowledging_the_withdrawal(world, clock):
    """Withdrawn: the case's own deadlines are released; the platform still owes the
    withdrawal's acknowledgement, within the case's acknowledgement period (urgent: 1 h)."""
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, statement = submit(world, officer)
    withdrawal = sealed_reply(
        world, officer, case, "withdrawal", examples.withdrawal_body(), "clipshare"
    )
    created(officer.send(withdrawal))
    clock.advance(days=8)
    assert sweep(world) == [(statement["case_id"], "withdrawal_ack")]
    assert sweep(world) == []
    created(reviewer.send(receipt(world, reviewer, withdrawal, "metro-police")))
    clock.advance(days=8)
    assert sweep(world) == []


def test_overdue_cases_are_flagged_and_the_sweep_agrees(world, clock):
    officer = world.officials["officer-1"]
    _, urgent = submit(world, officer)
    _, normal = submit(world, officer, priority="normal")
    clock.advance(hours=1)
    overdue = officer.get("/v1/cases?overdue=true").get_json()["cases"]
    assert [c["case_id"] for c in overdue] == [urgent["case_id"]]
    assert overdue[0]["overdue"] is True
    assert sweep(world) == [(urgent["case_id"], "ack")]
    clock.advance(hours=23)
    assert sweep(world) == [(normal["case_id"], "ack"), (urgent["case_id"], "action")]


def test_the_sweep_command_prints_what_it_logged(world, runner, clock):
    officer = world.officials["officer-1"]
    _, statement = submit(world, officer)
    clock.advance(hours=1)
    result = runner.invoke(args=["admin", "sweep"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"deadline_breached {statement['case_id']} ack\n1 new breach(es) logged\n"
    )
    again = runner.invoke(args=["admin", "sweep"])
    assert again.output == "0 new breach(es) logged\n"
    assert len(breaches(world)) == 1
