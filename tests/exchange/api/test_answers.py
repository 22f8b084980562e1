"""Interim and final answers over the API: what stops the action deadline, what does not,
a refusal taken back by acting, and per-item outcomes in the clear meta."""

from typing import Any

import pytest

from exchange import runtime
from exchange.protocol.envelope.errors import SealError
from exchange.services import deadlines
from tests.exchange.api.support import (
    created,
    receipt,
    response_body,
    sealed_reply,
    submit,
)
from tests.helpers.world import World, statement_of


def interim(outcome: str, reason_code: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"outcome": outcome, "actions_taken": [], "automated_detection": False}
    if reason_code:
        body["reason_code"] = reason_code
        body["explanation"] = "Our legal team is reviewing the order."
    return body


def sweep(world: World) -> list[tuple[str, str]]:
    with world.app.app_context(), runtime.write() as session:
        return deadlines.sweep(session, world.clock())


def acknowledged_case(world: World):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, statement = submit(world, officer)
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    return reviewer, case, statement["case_id"]


def test_interim_answers_stop_nothing(world, clock):
    reviewer, case, case_id = acknowledged_case(world)
    for body in (
        interim("received"),
        interim("under_legal_review"),
        # The gamed answer: a "final" refusal that only says "not yet".
        interim("not_actioned", "pending_legal_review"),
    ):
        before = world.log_size()
        created(
            reviewer.send(sealed_reply(world, reviewer, case, "response", body, "metro-police"))
        )
        [entry] = world.log_entries(before)
        assert entry["details"] == {"to": ["metro-police"], "state": "acknowledged"}
    seen = reviewer.get(f"/v1/cases/{case_id}").get_json()
    assert (seen["state"], seen["outcome"], seen["responded_at"]) == ("acknowledged", None, None)
    clock.advance(hours=24)  # urgent: 24 h to act
    assert sweep(world) == [(case_id, "action")]


def test_the_first_final_answer_meets_the_deadline_and_a_refusal_can_be_taken_back(world, clock):
    reviewer, case, case_id = acknowledged_case(world)
    clock.advance(hours=1)
    refusal = response_body("not_actioned")
    created(reviewer.send(sealed_reply(world, reviewer, case, "response", refusal, "metro-police")))
    refused_at = reviewer.get(f"/v1/cases/{case_id}").get_json()["responded_at"]
    clock.advance(hours=30)
    before = world.log_size()
    acted = sealed_reply(world, reviewer, case, "response", response_body(), "metro-police")
    created(reviewer.send(acted))
    [entry] = world.log_entries(before)
    assert entry["details"] == {
        "to": ["metro-police"],
        "state": "actioned",
        "supersedes": "not_actioned",
    }
    seen = reviewer.get(f"/v1/cases/{case_id}").get_json()
    # The outcome is the latest; the deadline was met by the first final answer.
    assert (seen["state"], seen["outcome"], seen["responded_at"]) == (
        "actioned",
        "actioned",
        refused_at,
    )
    assert sweep(world) == []


def test_per_item_outcomes_ride_in_the_signed_meta(world):
    reviewer, case, _ = acknowledged_case(world)
    body = response_body("partially_actioned")
    body["actions_taken"] = body["actions_taken"][:1]
    body["reason_code"] = "not_illegal_in_jurisdiction"
    body["item_outcomes"] = [
        {"item_id": "video-1", "outcome": "actioned"},
        {
            "item_id": "channel-1",
            "outcome": "not_actioned",
            "reason_code": "not_illegal_in_jurisdiction",
        },
    ]
    sealed = sealed_reply(world, reviewer, case, "response", body, "metro-police")
    created(reviewer.send(sealed))
    assert statement_of(sealed)["meta"] == {
        "outcome": "partially_actioned",
        "reason_code": "not_illegal_in_jurisdiction",
        "item_outcomes": [
            {"item_id": "video-1", "outcome": "actioned"},
            {
                "item_id": "channel-1",
                "outcome": "not_actioned",
                "reason_code": "not_illegal_in_jurisdiction",
            },
        ],
    }


def test_item_outcomes_that_contradict_the_outcome_are_refused(world):
    reviewer, case, _ = acknowledged_case(world)
    body = response_body()  # actioned, yet one item was not
    body["item_outcomes"] = [
        {"item_id": "video-1", "outcome": "actioned"},
        {"item_id": "channel-1", "outcome": "unable_to_locate", "reason_code": "content_not_found"},
    ]
    # The SDK will not seal it; the server's statement schema refuses the same in the meta
    # (tests/schemas/test_statement.py), whoever signed it.
    with pytest.raises(SealError, match="every item must be actioned when the outcome is actioned"):
        sealed_reply(world, reviewer, case, "response", body, "metro-police")


def test_the_auditor_refuses_a_response_entry_that_hides_what_it_supersedes(
    world, clock, database_url
):
    from exchange import log
    from exchange.auditor import CaseReplayError, verify_log
    from exchange.log import Actor
    from exchange.protocol.events import Event
    from tests.exchange.log.helpers import bundle_from_database

    reviewer, case, _ = acknowledged_case(world)
    refusal = response_body("not_actioned")
    created(reviewer.send(sealed_reply(world, reviewer, case, "response", refusal, "metro-police")))
    acted = sealed_reply(world, reviewer, case, "response", response_body(), "metro-police")
    payload = statement_of(acted)
    with world.app.app_context(), runtime.write() as session:
        forged = log.append(
            session,
            Event.RESPONSE,
            clock(),
            actor=Actor(reviewer.org, reviewer.id, reviewer.identity.signing_kid),
            case_id=payload["case_id"],
            handoff_id=payload["handoff_id"],
            statement=acted.statement,
            jwe_sha256=payload["jwe_sha256"],
            details={"to": ["metro-police"], "state": "actioned"},  # no "supersedes"
        ).index
        verifier = runtime.server_keys().log.verifier_key
    bundle = bundle_from_database(database_url)
    with pytest.raises(CaseReplayError) as refused:
        verify_log(bundle.entries, bundle.checkpoint, [verifier], bundle.origin)
    assert refused.value.index == forged
    assert refused.value.reason == (
        "the entry records supersedes=None, the replay gives 'not_actioned'"
    )
