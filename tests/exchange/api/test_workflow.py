"""The case workflow end to end, through HTTP, with real keys, envelopes and database.

Each step is checked three ways: the answer, the case as the parties then see it, and the
log entry the step appended (event, actor, the statement verbatim, details).
"""

from datetime import timedelta
from typing import Any

import rfc8785

from schemas.common import format_utc
from tests.exchange.api.support import (
    assignment,
    created,
    receipt,
    response_body,
    sealed_reply,
)
from tests.helpers.world import Official, World, statement_of
from tests.schemas import examples


def actor(person: Official) -> dict[str, str]:
    return {"org": person.org, "official": person.id, "kid": person.identity.signing_kid}


def appended(world: World, since: int) -> list[dict[str, Any]]:
    return world.log_entries(since)


def assert_handoff_entry(
    entry: dict[str, Any], sealed: Any, sender: Official, details: dict[str, Any]
) -> None:
    statement = statement_of(sealed)
    assert entry["event"] == statement["kind"]
    assert entry["actor"] == actor(sender)
    assert entry["case_id"] == statement["case_id"]
    assert entry["handoff_id"] == statement["handoff_id"]
    assert entry["statement"] == sealed.statement  # verbatim, byte for byte
    assert entry["jwe_sha256"] == statement["jwe_sha256"]
    assert entry["details"] == details


def assert_delivery_entry(entry: dict[str, Any], reader: Official, sealed: Any, state: str) -> None:
    statement = statement_of(sealed)
    assert entry["event"] == "delivered"
    assert entry["actor"] == actor(reader)
    assert entry["case_id"] == statement["case_id"]
    assert entry["handoff_id"] == statement["handoff_id"]
    assert entry["statement"] is None
    assert entry["jwe_sha256"] is None
    assert entry["details"] == {"state": state}


def inbox(person: Official, after: int = 0) -> dict[str, Any]:
    response = person.get(f"/v1/inbox?after={after}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def case_of(person: Official, case_id: str) -> dict[str, Any]:
    response = person.get(f"/v1/cases/{case_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def send(world: World, person: Official, sealed: Any, state: str) -> dict[str, Any]:
    """Send a handoff, check the answer and that exactly one entry was appended."""
    before = world.log_size()
    answer = created(person.send(sealed))
    statement = statement_of(sealed)
    assert answer["handoff_id"] == statement["handoff_id"]
    assert answer["case_id"] == statement["case_id"]
    assert answer["kind"] == statement["kind"]
    assert answer["state"] == state
    assert answer["log"]["index"] == before
    assert answer["log"]["tree_size"] == before + 1
    assert world.log_size() == before + 1
    return answer


def test_an_urgent_sexual_deepfake_case_from_submission_to_closure(world, clock):
    officer = world.officials["officer-1"]
    colleague = world.officials["officer-2"]
    reviewer = world.officials["cs-reviewer"]
    lead = world.officials["cs-lead"]
    submitted_at = clock()

    # The agency submits: routed to the designated official for sexual deepfakes.
    start = world.log_size()
    case = world.seal_case(officer, "clipshare")
    case_statement = statement_of(case)
    case_id = case_statement["case_id"]
    assert case_statement["meta"]["priority"] == "urgent"
    assert case_statement["meta"]["category"] == "sexual_deepfake"
    send(world, officer, case, "submitted")
    ack_due = format_utc(submitted_at + timedelta(hours=1))
    action_due = format_utc(submitted_at + timedelta(hours=24))
    [entry] = appended(world, start)
    assert_handoff_entry(
        entry,
        case,
        officer,
        {
            "to": ["clipshare"],
            "state": "submitted",
            "assignee": "cs-reviewer",
            "ack_due_at": ack_due,
            "action_due_at": action_due,
            # No logged policy covers it: the settings' urgent periods, fixed in the log.
            "deadline_policy": {
                "name": "settings",
                "version": 0,
                "ack_within": 3600,
                "action_within": 86400,
                "answer_within": 86400,
            },
        },
    )
    assert entry["logged_at"] == format_utc(submitted_at)

    seen = case_of(officer, case_id)  # the agency reads its own case: nothing is logged
    assert world.log_size() == start + 1
    assert seen["state"] == "submitted"
    assert seen["assignee"] == "cs-reviewer"
    assert seen["issuer_org"] == "metro-police"
    assert seen["issuer_official"] == "officer-1"
    assert seen["platform_org"] == "clipshare"
    assert seen["priority"] == "urgent"
    assert seen["category"] == "sexual_deepfake"
    assert seen["item_count"] == 2
    assert seen["submitted_at"] == format_utc(submitted_at)
    assert seen["ack_due_at"] == ack_due
    assert seen["action_due_at"] == action_due
    assert seen["overdue"] is False
    [first] = seen["timeline"]
    assert first["statement"] == case.statement
    assert first["jwe"] == case.jwe
    assert first["log_index"] == start

    # The designated official pulls the inbox: the read is on record, the case delivered.
    clock.advance(minutes=4)
    mark = world.log_size()
    page = inbox(reviewer)
    assert page["last_seq"] == 1
    [item] = page["items"]
    assert item["seq"] == 1
    assert item["handoff"]["statement"] == case.statement
    assert item["handoff"]["jwe"] == case.jwe
    assert item["case"]["case_id"] == case_id
    opened = reviewer.open(item["handoff"])
    assert opened.record["body"]["issuer_case_ref"] == case_statement["meta"]["issuer_case_ref"]
    [entry] = appended(world, mark)
    assert_delivery_entry(entry, reviewer, case, "delivered")
    assert case_of(reviewer, case_id)["state"] == "delivered"
    assert inbox(reviewer, after=1) == {"items": [], "last_seq": 1}
    inbox(reviewer)  # fetching again logs nothing
    assert world.log_size() == mark + 1

    # The official acknowledges with a receipt that binds the record as decrypted.
    clock.advance(minutes=6)
    ack = world.reply(
        reviewer,
        case_id,
        "receipt",
        case_statement["handoff_id"],
        "metro-police",
        meta={
            "handoff_id": case_statement["handoff_id"],
            "record_sha256": opened.record_sha256,
            "received_at": format_utc(clock()),
        },
    )
    mark = world.log_size()
    send(world, reviewer, ack, "acknowledged")
    [entry] = appended(world, mark)
    assert_handoff_entry(entry, ack, reviewer, {"to": ["metro-police"], "state": "acknowledged"})
    # Reading the case is reading its handoffs: the receipt is now delivered to the officer.
    mark = world.log_size()
    seen = case_of(officer, case_id)
    assert seen["state"] == "acknowledged"
    assert seen["acknowledged_at"] == format_utc(clock())
    [entry] = appended(world, mark)
    assert_delivery_entry(entry, officer, ack, "acknowledged")

    # ... and asks a question.
    clock.advance(minutes=20)
    question = sealed_reply(
        world, reviewer, case, "question", examples.question_body(), "metro-police"
    )
    mark = world.log_size()
    send(world, reviewer, question, "needs_info")
    [entry] = appended(world, mark)
    # The question's respond_by (later than the policy's 24 h) is the agency's deadline.
    assert_handoff_entry(
        entry,
        question,
        reviewer,
        {"to": ["metro-police"], "state": "needs_info", "answer_due_at": "2026-03-04T12:00:00Z"},
    )

    # The agency reads its inbox: the officer's own gap-free sequence.
    mark = world.log_size()
    page = inbox(officer)
    assert [i["seq"] for i in page["items"]] == [1, 2]
    assert [i["handoff"]["kind"] for i in page["items"]] == ["receipt", "question"]
    assert page["items"][0]["handoff"]["jwe"] is None
    asked = officer.open(page["items"][1]["handoff"])
    assert asked.record["body"] == examples.question_body()
    [entry] = appended(world, mark)  # the receipt was delivered already
    assert_delivery_entry(entry, officer, question, "needs_info")

    # The agency supplements.
    clock.advance(minutes=15)
    supplement = sealed_reply(
        world, officer, question, "supplement", examples.supplement_body(), "clipshare"
    )
    mark = world.log_size()
    send(world, officer, supplement, "supplemented")
    [entry] = appended(world, mark)
    assert_handoff_entry(entry, supplement, officer, {"to": ["clipshare"], "state": "supplemented"})
    page = inbox(reviewer, after=1)
    assert [i["seq"] for i in page["items"]] == [2]
    assert (
        reviewer.open(page["items"][0]["handoff"]).record["body"]["text"]
        == (examples.supplement_body()["text"])
    )

    # The official responds: actioned.
    clock.advance(hours=2)
    response = sealed_reply(world, reviewer, case, "response", response_body(), "metro-police")
    mark = world.log_size()
    send(world, reviewer, response, "actioned")
    [entry] = appended(world, mark)
    assert_handoff_entry(entry, response, reviewer, {"to": ["metro-police"], "state": "actioned"})
    seen = case_of(officer, case_id)
    assert seen["state"] == "actioned"
    assert seen["outcome"] == "actioned"
    assert seen["responded_at"] == format_utc(clock())

    # The agency closes the case.
    clock.advance(hours=1)
    closure = sealed_reply(
        world, officer, response, "closure", examples.closure_body(), "clipshare"
    )
    mark = world.log_size()
    send(world, officer, closure, "closed")
    [entry] = appended(world, mark)
    assert_handoff_entry(entry, closure, officer, {"to": ["clipshare"], "state": "closed"})

    final = case_of(officer, case_id)
    assert final["state"] == "closed"
    assert final["closed_at"] == format_utc(clock())
    assert final["overdue"] is False
    assert [(h["kind"], h["state_after"]) for h in final["timeline"]] == [
        ("case", "submitted"),
        ("receipt", "acknowledged"),
        ("question", "needs_info"),
        ("supplement", "supplemented"),
        ("response", "actioned"),
        ("closure", "closed"),
    ]
    sent = [case, ack, question, supplement, response, closure]
    assert [h["statement"] for h in final["timeline"]] == [s.statement for s in sent]
    assert [h["handoff_id"] for h in final["timeline"]] == [
        statement_of(s)["handoff_id"] for s in sent
    ]

    # Every inbox is gap-free, per official, and holds exactly what was addressed to them.
    def kinds(person: Official) -> list[tuple[int, str]]:
        return [(i["seq"], i["handoff"]["kind"]) for i in inbox(person)["items"]]

    assert kinds(reviewer) == [(1, "case"), (2, "supplement"), (3, "closure")]
    assert kinds(lead) == [(1, "case"), (2, "supplement"), (3, "closure")]
    assert kinds(officer) == [(1, "receipt"), (2, "question"), (3, "response")]
    assert kinds(colleague) == [(1, "receipt"), (2, "question"), (3, "response")]
    for other in ("ch-lead", "ch-reviewer", "caseworker-1"):
        assert inbox(world.officials[other]) == {"items": [], "last_seq": 0}

    # The log over HTTP is the same bytes as in the database.
    served = officer.get(f"/v1/log/entries?start={start}&end={world.log_size()}").get_json()
    assert [e["index"] for e in served["entries"]] == list(range(start, world.log_size()))
    assert [e["entry"] for e in served["entries"]] == [
        _canonical(e) for e in world.log_entries(start)
    ]


def _canonical(entry: dict[str, Any]) -> str:
    return rfc8785.dumps(entry).decode()


def test_an_unrouted_case_waits_in_the_leads_queue_until_assigned(world, clock):
    officer = world.officials["officer-1"]
    lead = world.officials["cs-lead"]
    reviewer = world.officials["cs-reviewer"]
    case = world.seal_case(officer, "clipshare", category="ncii", priority="normal")
    case_id = statement_of(case)["case_id"]
    send(world, officer, case, "submitted")
    seen = case_of(officer, case_id)
    assert seen["assignee"] is None
    assert seen["ack_due_at"] == format_utc(clock() + timedelta(hours=24))
    assert seen["action_due_at"] == format_utc(clock() + timedelta(days=7))

    # Not the official's: not in their inbox, list or by id.
    assert inbox(reviewer) == {"items": [], "last_seq": 0}
    assert reviewer.get("/v1/cases").get_json()["cases"] == []
    assert reviewer.get(f"/v1/cases/{case_id}").status_code == 404

    # The lead sees it in the platform's queue and assigns it.
    page = inbox(lead)
    assert [(i["seq"], i["handoff"]["kind"]) for i in page["items"]] == [(1, "case")]
    assert [c["case_id"] for c in lead.get("/v1/cases").get_json()["cases"]] == [case_id]
    clock.advance(minutes=30)
    assigned = assignment(world, lead, case, "cs-reviewer")
    mark = world.log_size()
    send(world, lead, assigned, "delivered")
    [entry] = appended(world, mark)
    assert_handoff_entry(
        entry,
        assigned,
        lead,
        {"to": ["clipshare"], "state": "delivered", "assignee": "cs-reviewer"},
    )
    assert entry["jwe_sha256"] is None

    # Now the official sees it: the assignment arrives in their inbox, the case is theirs.
    page = inbox(reviewer)
    assert [(i["seq"], i["handoff"]["kind"]) for i in page["items"]] == [(1, "assignment")]
    assert page["items"][0]["case"]["assignee"] == "cs-reviewer"
    detail = case_of(reviewer, case_id)
    assert detail["assignee"] == "cs-reviewer"
    assert [h["kind"] for h in detail["timeline"]] == ["case", "assignment"]
    assert reviewer.open(detail["timeline"][0]).record["body"]["category"] == "ncii"
    assert [c["case_id"] for c in reviewer.get("/v1/cases").get_json()["cases"]] == [case_id]
    # The assignment came from the official's own platform: only the case was a delivery.
    deliveries = [e for e in world.log_entries(mark) if e["event"] == "delivered"]
    assert [(e["actor"]["official"], e["handoff_id"]) for e in deliveries] == [
        ("cs-reviewer", statement_of(case)["handoff_id"])
    ]
    # The agency is not told of internal assignments.
    assert inbox(officer) == {"items": [], "last_seq": 0}


def test_a_withdrawal_is_acknowledged_then_closed(world, clock):
    officer = world.officials["officer-1"]
    reviewer = world.officials["cs-reviewer"]
    case = world.seal_case(officer, "clipshare")
    send(world, officer, case, "submitted")
    clock.advance(minutes=5)

    withdrawal = sealed_reply(
        world, officer, case, "withdrawal", examples.withdrawal_body(), "clipshare"
    )
    mark = world.log_size()
    send(world, officer, withdrawal, "withdrawn")
    [entry] = appended(world, mark)
    # The platform owes the withdrawal's acknowledgement within the case's 1 h.
    assert_handoff_entry(
        entry,
        withdrawal,
        officer,
        {
            "to": ["clipshare"],
            "state": "withdrawn",
            "ack_due_at": format_utc(clock() + timedelta(hours=1)),
        },
    )
    seen = case_of(officer, statement_of(case)["case_id"])
    assert seen["withdrawn_at"] == format_utc(clock())
    assert seen["overdue"] is False

    page = inbox(reviewer)
    assert [i["handoff"]["kind"] for i in page["items"]] == ["case", "withdrawal"]
    assert reviewer.open(page["items"][1]["handoff"]).record["body"] == (examples.withdrawal_body())
    clock.advance(minutes=5)
    ack = receipt(world, reviewer, withdrawal, "metro-police")
    mark = world.log_size()
    send(world, reviewer, ack, "withdrawal_acknowledged")
    [entry] = appended(world, mark)
    assert_handoff_entry(
        entry, ack, reviewer, {"to": ["metro-police"], "state": "withdrawal_acknowledged"}
    )
    # The withdrawal's receipt does not acknowledge the case itself.
    assert case_of(officer, statement_of(case)["case_id"])["acknowledged_at"] is None

    closure = sealed_reply(world, officer, ack, "closure", examples.closure_body(), "clipshare")
    send(world, officer, closure, "closed")
    final = case_of(officer, statement_of(case)["case_id"])
    assert [(h["kind"], h["state_after"]) for h in final["timeline"]] == [
        ("case", "submitted"),
        ("withdrawal", "withdrawn"),
        ("receipt", "withdrawal_acknowledged"),
        ("closure", "closed"),
    ]


def test_every_response_outcome_is_a_state_and_the_agency_may_still_ask(world, clock):
    officer = world.officials["officer-1"]
    reviewer = world.officials["cs-reviewer"]
    for outcome in (
        "partially_actioned",
        "not_actioned",
        "unable_to_locate",
        "already_unavailable",
        "rejected_invalid",
        "referred_to_regulator",
    ):
        case = world.seal_case(officer, "clipshare")
        send(world, officer, case, "submitted")
        send(world, reviewer, receipt(world, reviewer, case, "metro-police"), "acknowledged")
        answer = sealed_reply(
            world, reviewer, case, "response", response_body(outcome), "metro-police"
        )
        send(world, reviewer, answer, outcome)
        # A question after an outcome keeps the outcome (the agency asks for more detail).
        asked = sealed_reply(
            world, officer, answer, "question", examples.question_body(), "clipshare"
        )
        send(world, officer, asked, outcome)
        assert case_of(officer, statement_of(case)["case_id"])["outcome"] == outcome
