"""Questions both ways carry a deadline; an unanswered one past it is a logged breach,
once per question, and the auditor replays it. The withdrawal's acknowledgement too."""

from datetime import timedelta
from typing import Any

import pytest

from exchange import log, runtime
from exchange.auditor import CaseReplayError, verify_log
from exchange.protocol.events import Event
from exchange.services import deadlines
from schemas.common import format_utc
from tests.exchange.api.support import created, receipt, response_body, sealed_reply, submit
from tests.exchange.log.helpers import bundle_from_database
from tests.helpers.world import World, statement_of
from tests.schemas import examples


def sweep(world: World) -> list[tuple[str, str]]:
    with world.app.app_context(), runtime.write() as session:
        return deadlines.sweep(session, world.clock())


def audit(world: World, database_url: str) -> int:
    with world.app.app_context():
        verifier = runtime.server_keys().log.verifier_key
    bundle = bundle_from_database(database_url)
    return verify_log(bundle.entries, bundle.checkpoint, [verifier], bundle.origin).entries


def question(respond_by: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"questions": ["Is the uploader in the EU?"]}
    if respond_by:
        body["respond_by"] = respond_by
    return body


def breaches(world: World, since: int = 0) -> list[dict[str, Any]]:
    return [e for e in world.log_entries(since) if e["event"] == "deadline_breached"]


def acknowledged(world: World):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, statement = submit(world, officer, priority="normal")  # answer within 72 h
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    return officer, reviewer, case, statement["case_id"]


def test_an_unanswered_platform_question_is_the_agency_s_breach(world, clock, database_url):
    officer, reviewer, case, case_id = acknowledged(world)
    asked_at = clock()
    sealed = sealed_reply(world, reviewer, case, "question", question(), "metro-police")
    before = world.log_size()
    created(reviewer.send(sealed))
    [entry] = world.log_entries(before)
    assert entry["details"]["answer_due_at"] == format_utc(asked_at + timedelta(hours=72))
    clock.advance(hours=72)
    before = world.log_size()
    assert sweep(world) == [(case_id, "answer")]
    [breach] = world.log_entries(before)
    assert breach["details"] == {
        "deadline": "answer",
        "due_at": format_utc(asked_at + timedelta(hours=72)),
        "platform": "clipshare",
        "state": "needs_info",
        "question": statement_of(sealed)["handoff_id"],
        "asked_by": "clipshare",
    }
    assert sweep(world) == []
    # The late answer is still accepted, and adds no second breach.
    supplement = sealed_reply(
        world, officer, sealed, "supplement", examples.supplement_body(), "clipshare"
    )
    created(officer.send(supplement))
    assert len(breaches(world)) == 1
    assert audit(world, database_url) == world.log_size()


def test_an_agency_question_answered_late_records_the_breach_first(world, clock):
    officer, reviewer, case, _ = acknowledged(world)
    clock.advance(days=6)
    sealed = sealed_reply(world, officer, case, "question", question(), "clipshare")
    created(officer.send(sealed))
    clock.advance(hours=72, minutes=1)
    before = world.log_size()
    answer = sealed_reply(world, reviewer, sealed, "response", response_body(), "metro-police")
    created(reviewer.send(answer))
    # The action deadline (7 d) and the question's passed: both on record, before it.
    assert [(e["event"], e["details"].get("deadline")) for e in world.log_entries(before)] == [
        ("deadline_breached", "action"),
        ("deadline_breached", "answer"),
        ("response", None),
    ]


def test_an_answer_in_time_and_a_moot_question_breach_nothing(world, clock):
    officer, reviewer, case, _ = acknowledged(world)
    answered = sealed_reply(world, officer, case, "question", question(), "clipshare")
    created(officer.send(answered))
    clock.advance(hours=1)
    reply = sealed_reply(
        world, reviewer, answered, "supplement", {"text": "Yes, in Berlin."}, "metro-police"
    )
    created(reviewer.send(reply))
    created(reviewer.send(sealed_reply(world, reviewer, case, "response", response_body(),
                                       "metro-police")))  # fmt: skip
    moot = sealed_reply(world, officer, case, "question", question(), "clipshare")
    created(officer.send(moot))
    created(officer.send(sealed_reply(world, officer, case, "closure",
                                      examples.closure_body(), "clipshare")))  # fmt: skip
    clock.advance(days=10)
    assert sweep(world) == []
    assert breaches(world) == []


def test_answer_by_may_give_more_time_than_the_policy_never_less(world, clock):
    officer, _, case, _ = acknowledged(world)
    now = clock()
    later = format_utc(now + timedelta(days=5))
    sooner = format_utc(now + timedelta(minutes=5))
    floor = format_utc(now + timedelta(hours=72))
    for respond_by, expected in ((later, later), (sooner, floor)):
        sealed = sealed_reply(world, officer, case, "question", question(respond_by), "clipshare")
        assert statement_of(sealed)["meta"] == {"answer_by": respond_by}
        before = world.log_size()
        created(officer.send(sealed))
        [entry] = world.log_entries(before)
        assert entry["details"]["answer_due_at"] == expected


def test_an_unacknowledged_withdrawal_is_a_breach(world, clock, database_url):
    officer = world.officials["officer-1"]
    case, statement = submit(world, officer)
    clock.advance(minutes=10)
    withdrawal = sealed_reply(
        world, officer, case, "withdrawal", examples.withdrawal_body(), "clipshare"
    )
    withdrawn_at = clock()
    created(officer.send(withdrawal))
    seen = officer.get(f"/v1/cases/{statement['case_id']}").get_json()
    due = format_utc(withdrawn_at + timedelta(hours=1))
    assert (seen["withdrawal_ack_due_at"], seen["overdue"]) == (due, False)
    clock.advance(hours=1)
    assert officer.get(f"/v1/cases/{statement['case_id']}").get_json()["overdue"] is True
    overdue = officer.get("/v1/cases?overdue=true").get_json()["cases"]
    assert [c["case_id"] for c in overdue] == [statement["case_id"]]
    before = world.log_size()
    assert sweep(world) == [(statement["case_id"], "withdrawal_ack")]
    [breach] = world.log_entries(before)
    assert breach["details"] == {
        "deadline": "withdrawal_ack",
        "due_at": format_utc(withdrawn_at + timedelta(hours=1)),
        "platform": "clipshare",
        "state": "withdrawn",
    }
    assert audit(world, database_url) == world.log_size()


def test_the_auditor_refuses_a_breach_of_an_answered_question(world, clock, database_url):
    officer, reviewer, case, case_id = acknowledged(world)
    sealed = sealed_reply(world, officer, case, "question", question(), "clipshare")
    created(officer.send(sealed))
    answer = sealed_reply(
        world, reviewer, sealed, "supplement", {"text": "Yes, in Berlin."}, "metro-police"
    )
    created(reviewer.send(answer))
    clock.advance(days=2)
    with world.app.app_context(), runtime.write() as session:
        forged = log.append(
            session,
            Event.DEADLINE_BREACHED,
            clock(),
            case_id=case_id,
            details={
                "deadline": "answer",
                "due_at": format_utc(clock()),
                "platform": "clipshare",
                "state": "acknowledged",
                "question": statement_of(sealed)["handoff_id"],
                "asked_by": "metro-police",
            },
        ).index
    with pytest.raises(CaseReplayError) as refusal:
        audit(world, database_url)
    assert refusal.value.index == forged
    assert (
        refusal.value.reason == f"question {statement_of(sealed)['handoff_id']} was answered before"
    )


def test_the_auditor_refuses_an_answer_breach_naming_no_question(world, clock, database_url):
    _, _, case, case_id = acknowledged(world)
    with world.app.app_context(), runtime.write() as session:
        forged = log.append(
            session,
            Event.DEADLINE_BREACHED,
            clock(),
            case_id=case_id,
            details={
                "deadline": "answer",
                "due_at": format_utc(clock()),
                "platform": "clipshare",
                "state": "acknowledged",
                "question": statement_of(case)["handoff_id"],  # the case, not a question
                "asked_by": "metro-police",
            },
        ).index
    with pytest.raises(CaseReplayError) as refusal:
        audit(world, database_url)
    assert refusal.value.index == forged
    assert refusal.value.reason == "an answer breach names a question of its case"
