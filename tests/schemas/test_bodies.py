"""The bodies after the case: receipt, response, question, supplement, withdrawal, closure,
assignment."""

from typing import Any

import pytest

from schemas.assignment import AssignmentSchema
from schemas.closure import ClosureSchema
from schemas.question import QuestionSchema
from schemas.receipt import ReceiptSchema
from schemas.response import ActionTakenSchema, PreservationSchema, ResponseSchema
from schemas.supplement import SupplementSchema
from schemas.withdrawal import WithdrawalSchema
from tests.schemas.examples import (
    closure_body,
    deepfake_video_item,
    digest,
    question_body,
    response_body,
    supplement_body,
    withdrawal_body,
)
from tests.schemas.helpers import load_errors, loads

RESPONSE = ResponseSchema()
QUESTION = QuestionSchema()
SUPPLEMENT = SupplementSchema()


def test_receipt() -> None:
    schema = ReceiptSchema()
    receipt = {
        "handoff_id": "0b6f3c2e-5d1a-4f8e-9c3b-2a7d6e4f1a90",
        "record_sha256": digest("record"),
        "received_at": "2026-03-03T05:12:10Z",
    }
    assert loads(schema, receipt)
    assert load_errors(schema, {**receipt, "note": "ok"}) == {"note": ["Unknown field."]}
    assert load_errors(schema, {**receipt, "received_at": "2026-03-03T06:12:10+01:00"}) == {
        "received_at": ["Not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)."]
    }


# --- Response -----------------------------------------------------------------------------------


def not_actioned(**changes: Any) -> dict[str, Any]:
    return {
        "outcome": "not_actioned",
        "actions_taken": [],
        "reason_code": "not_illegal_in_jurisdiction",
        "explanation": "Satire of a public figure; lawful under the applicable law.",
        "automated_detection": False,
        **changes,
    }


def test_response_example() -> None:
    assert loads(RESPONSE, response_body())


def test_actioned_needs_actions_but_no_reason() -> None:
    assert "reason_code" not in response_body()
    assert "explanation" not in response_body()
    assert loads(RESPONSE, {**response_body(), "reason_code": None})
    assert loads(RESPONSE, {**response_body(), "reason_code": "other", "explanation": "Partly."})
    assert load_errors(RESPONSE, {**response_body(), "actions_taken": []}) == {
        "actions_taken": ["Must not be empty when outcome is actioned or partially_actioned."]
    }


def test_partially_actioned_needs_actions_and_a_reason() -> None:
    partial = {**response_body(), "outcome": "partially_actioned"}
    assert load_errors(RESPONSE, partial) == {
        "reason_code": ["Required unless outcome is actioned."],
        "explanation": ["Required unless outcome is actioned."],
    }
    partial.update(reason_code="outside_territorial_scope", explanation="Geo-blocked in EU only.")
    assert loads(RESPONSE, partial)
    assert load_errors(RESPONSE, {**partial, "actions_taken": []}) == {
        "actions_taken": ["Must not be empty when outcome is actioned or partially_actioned."]
    }


@pytest.mark.parametrize(
    "outcome",
    [
        "not_actioned",
        "unable_to_locate",
        "already_unavailable",
        "rejected_invalid",
        "referred_to_regulator",
    ],
)
def test_other_outcomes_need_a_reason_and_take_no_actions(outcome: str) -> None:
    assert loads(RESPONSE, not_actioned(outcome=outcome))
    assert load_errors(RESPONSE, not_actioned(outcome=outcome, reason_code=None)) == {
        "reason_code": ["Required unless outcome is actioned."]
    }
    without = not_actioned(outcome=outcome)
    del without["reason_code"], without["explanation"]
    assert load_errors(RESPONSE, without) == {
        "reason_code": ["Required unless outcome is actioned."],
        "explanation": ["Required unless outcome is actioned."],
    }
    acted = not_actioned(outcome=outcome, actions_taken=response_body()["actions_taken"])
    assert load_errors(RESPONSE, acted) == {
        "actions_taken": ["Must be empty unless outcome is actioned or partially_actioned."]
    }


def test_response_required_and_enums() -> None:
    assert load_errors(RESPONSE, {"outcome": "done"}) == {
        "outcome": [
            "Must be one of: actioned, partially_actioned, not_actioned, unable_to_locate, "
            "already_unavailable, rejected_invalid, referred_to_regulator, received, "
            "under_legal_review, needs_information."
        ],
        "actions_taken": ["Missing data for required field."],
        "automated_detection": ["Missing data for required field."],
    }
    assert list(load_errors(RESPONSE, not_actioned(reason_code="because"))) == ["reason_code"]


def test_response_text_caps() -> None:
    assert loads(RESPONSE, not_actioned(explanation="e" * 5000, notes="n" * 5000))
    assert load_errors(RESPONSE, not_actioned(explanation="e" * 5001, notes="n" * 5001)) == {
        "explanation": ["Length must be between 1 and 5000."],
        "notes": ["Length must be between 1 and 5000."],
    }


def test_actions_taken_cap() -> None:
    action = response_body()["actions_taken"][0]
    assert loads(RESPONSE, {**response_body(), "actions_taken": [action] * 500})
    assert load_errors(RESPONSE, {**response_body(), "actions_taken": [action] * 501}) == {
        "actions_taken": ["Longer than maximum length 500."]
    }


def test_action_taken_scope_is_codes_or_null_for_worldwide() -> None:
    schema = ActionTakenSchema()
    action = response_body()["actions_taken"][0]
    assert loads(schema, {**action, "territorial_scope": None})
    assert loads(schema, {**action, "territorial_scope": ["EU", "CH"]})
    assert load_errors(schema, {**action, "territorial_scope": []}) == {
        "territorial_scope": ["Length must be between 1 and 250."]
    }
    missing = {k: v for k, v in action.items() if k != "territorial_scope"}
    assert load_errors(schema, missing) == {
        "territorial_scope": ["Missing data for required field."]
    }


def test_preservation_until_iff_preserved() -> None:
    schema = PreservationSchema()
    assert loads(schema, {"preserved": True, "until": "2026-09-03T00:00:00Z"})
    assert loads(schema, {"preserved": False})
    assert load_errors(schema, {"preserved": True}) == {
        "until": ["Required when preserved is true."]
    }
    assert load_errors(schema, {"preserved": False, "until": "2026-09-03T00:00:00Z"}) == {
        "until": ["Only allowed when preserved is true."]
    }
    assert load_errors(RESPONSE, {**response_body(), "preservation": {"preserved": True}}) == {
        "preservation": {"until": ["Required when preserved is true."]}
    }


# --- Question, supplement, withdrawal, closure, assignment ------------------------------------


def test_question() -> None:
    assert loads(QUESTION, question_body())
    assert loads(QUESTION, {"questions": ["q" * 2000] * 20})
    assert loads(QUESTION, {"questions": ["Which items?"], "item_ids": []})
    assert load_errors(QUESTION, {"questions": ["q"] * 21}) == {
        "questions": ["Length must be between 1 and 20."]
    }
    assert load_errors(QUESTION, {"questions": []}) == {
        "questions": ["Length must be between 1 and 20."]
    }
    assert load_errors(QUESTION, {"questions": ["q" * 2001]}) == {
        "questions": {0: ["Length must be between 1 and 2000."]}
    }


def test_question_item_ids() -> None:
    ids = [f"item-{n}" for n in range(500)]
    assert loads(QUESTION, {"questions": ["?"], "item_ids": ids})
    assert load_errors(QUESTION, {"questions": ["?"], "item_ids": [*ids, "item-500"]}) == {
        "item_ids": ["Longer than maximum length 500."]
    }
    assert load_errors(QUESTION, {"questions": ["?"], "item_ids": ["a", "b", "a"]}) == {
        "item_ids": {2: ["Duplicate value."]}
    }


def test_supplement_needs_something() -> None:
    assert loads(SUPPLEMENT, supplement_body())
    assert loads(SUPPLEMENT, {"text": "More."})
    assert loads(SUPPLEMENT, {"items": [deepfake_video_item()]})
    verified = {"item_id": "video-1", "checked_at": "2026-03-03T09:00:00Z", "reachable": False}
    assert loads(SUPPLEMENT, {"verification": [verified]})
    empty = ["A supplement needs text, items, attachments or verification."]
    assert load_errors(SUPPLEMENT, {}) == {"_schema": empty}
    assert load_errors(SUPPLEMENT, {"items": [], "attachments": []}) == {"_schema": empty}
    assert load_errors(SUPPLEMENT, {"text": ""}) == {
        "text": ["Length must be between 1 and 10000."]
    }


def test_supplement_items_follow_the_case_rules() -> None:
    item = deepfake_video_item()
    assert load_errors(SUPPLEMENT, {"items": [item, item]}) == {
        "items": {1: {"item_id": ["Duplicate value."]}}
    }
    assert load_errors(SUPPLEMENT, {"items": [{**item, "locators": [], "hashes": []}]}) == {
        "items": {0: {"_schema": ["An item needs at least one locator or hash."]}}
    }


def test_withdrawal() -> None:
    schema = WithdrawalSchema()
    assert loads(schema, withdrawal_body())
    assert loads(schema, {"reason": "issued_in_error"})
    assert list(load_errors(schema, {"reason": "changed_mind"})) == ["reason"]
    assert load_errors(schema, {"reason": "other", "explanation": "e" * 2001}) == {
        "explanation": ["Length must be between 1 and 2000."]
    }


def test_closure() -> None:
    schema = ClosureSchema()
    assert loads(schema, closure_body())
    assert loads(schema, {"reason": "duplicate"})
    assert load_errors(schema, {"reason": "completed", "note": "typo"}) == {
        "note": ["Unknown field."]
    }


def test_assignment() -> None:
    schema = AssignmentSchema()
    assert loads(schema, {"assignee": "ts-reviewer-17"})
    assert load_errors(schema, {"assignee": "TS Reviewer"}) == {
        "assignee": ["Not a valid official id."]
    }
    assert load_errors(schema, {}) == {"assignee": ["Missing data for required field."]}
