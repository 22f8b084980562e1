"""A missed deadline is on record whenever it is noticed: by the sweep, or by the next
handoff of the case, in the same transaction, exactly once per case and deadline."""

from datetime import timedelta
from typing import Any

from exchange import runtime
from exchange.auditor import verify_log
from exchange.services import deadlines
from schemas.common import format_utc
from tests.exchange.api.support import created, receipt, response_body, sealed_reply, submit
from tests.exchange.log.helpers import bundle_from_database
from tests.helpers.world import World, statement_of
from tests.schemas import examples


def sweep(world: World) -> list[tuple[str, str]]:
    with world.app.app_context(), runtime.write() as session:
        return deadlines.sweep(session, world.clock())


def events(entries: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(e["event"], e["details"].get("deadline")) for e in entries]


def audit(world: World, database_url: str) -> int:
    with world.app.app_context():
        verifier = runtime.server_keys().log.verifier_key
    bundle = bundle_from_database(database_url)
    return verify_log(bundle.entries, bundle.checkpoint, [verifier], bundle.origin).entries


def test_an_answer_one_minute_late_records_its_own_lateness(world, clock, database_url):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    submitted_at = clock()
    case, statement = submit(world, officer)  # urgent: 1 h to acknowledge, 24 h to act
    case_id = statement["case_id"]
    clock.advance(hours=1, minutes=1)
    before = world.log_size()
    ack = receipt(world, reviewer, case, "metro-police")
    created(reviewer.send(ack))
    breach, answer = world.log_entries(before)
    assert breach == {
        **breach,
        "event": "deadline_breached",
        "actor": None,
        "case_id": case_id,
        "handoff_id": None,
        "logged_at": format_utc(clock()),
        "details": {
            "deadline": "ack",
            "due_at": format_utc(submitted_at + timedelta(hours=1)),
            "platform": "clipshare",
            "state": "submitted",
        },
    }
    assert (answer["event"], answer["handoff_id"]) == ("receipt", statement_of(ack)["handoff_id"])
    assert answer["index"] == breach["index"] + 1
    assert sweep(world) == []  # already on record: the sweep adds nothing

    clock.advance(hours=23)  # the action deadline passes; the final answer comes late
    before = world.log_size()
    created(reviewer.send(sealed_reply(world, reviewer, case, "response", response_body(),
                                       "metro-police")))  # fmt: skip
    assert events(world.log_entries(before)) == [
        ("deadline_breached", "action"),
        ("response", None),
    ]
    assert world.log_entries(before)[0]["details"]["state"] == "acknowledged"
    assert sweep(world) == []
    assert audit(world, database_url) == world.log_size()


def test_a_breach_the_sweep_logged_is_not_logged_again(world, clock):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, statement = submit(world, officer)
    clock.advance(hours=2)
    assert sweep(world) == [(statement["case_id"], "ack")]
    before = world.log_size()
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    assert events(world.log_entries(before)) == [("receipt", None)]


def test_an_interim_answer_after_the_deadline_notices_the_breach(world, clock):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, _ = submit(world, officer)
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    clock.advance(hours=25)
    before = world.log_size()
    body = {"outcome": "under_legal_review", "actions_taken": [], "automated_detection": False}
    created(reviewer.send(sealed_reply(world, reviewer, case, "response", body, "metro-police")))
    assert events(world.log_entries(before)) == [
        ("deadline_breached", "action"),
        ("response", None),
    ]


def test_closing_after_a_missed_deadline_keeps_the_breach_on_record(world, clock):
    """Before, a case closed after its deadline but before the sweep had no breach entry,
    and a closed case is never swept."""
    officer = world.officials["officer-1"]
    case, _ = submit(world, officer)
    clock.advance(hours=30)
    before = world.log_size()
    closure = sealed_reply(world, officer, case, "closure", examples.closure_body(), "clipshare")
    created(officer.send(closure))
    assert events(world.log_entries(before)) == [
        ("deadline_breached", "ack"),
        ("deadline_breached", "action"),
        ("closure", None),
    ]


def test_a_handoff_in_time_records_nothing(world, clock):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, _ = submit(world, officer)
    clock.advance(minutes=59, seconds=59)
    before = world.log_size()
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    assert events(world.log_entries(before)) == [("receipt", None)]
