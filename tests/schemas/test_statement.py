"""The statement: meta per kind, the digest binding, the receipt rule, and meta_for."""

from typing import Any

import pytest

from schemas.enums import SEALED_KINDS, SIGNED_ONLY_KINDS, Kind
from schemas.statement import META_SCHEMAS, StatementSchema, meta_for
from tests.schemas.examples import (
    RESPONSE_HANDOFF,
    assignment_statement,
    case_record,
    case_statement,
    digest,
    ncii_case_record,
    receipt_statement,
    records,
    response_body,
    statement_for,
    statements,
)
from tests.schemas.helpers import load_errors, loads

STATEMENT = StatementSchema()


def test_there_is_a_meta_schema_for_every_kind() -> None:
    assert set(META_SCHEMAS) == set(Kind)


@pytest.mark.parametrize("kind", sorted(statements()))
def test_the_examples_load_unchanged(kind: str) -> None:
    assert loads(STATEMENT, statements()[kind])


# --- meta_for -----------------------------------------------------------------------------------


def test_meta_of_a_case() -> None:
    assert meta_for(case_record()) == {
        "category": "sexual_deepfake",
        "priority": "urgent",
        "minor_involved": "no",
        "request_type": "removal_order",
        "item_count": 2,
        "issuer_case_ref": "MCU/2026/000417",
        "legal_basis": [
            {
                "jurisdiction": "EU",
                "instrument": "Regulation (EU) 2022/2065 (Digital Services Act)",
                "article": "Art. 9",
            },
            {"jurisdiction": "DE", "instrument": "Strafgesetzbuch (StGB)", "article": "§ 201a"},
        ],
    }
    assert meta_for(ncii_case_record()) == {
        "category": "ncii",
        "priority": "high",
        "minor_involved": "no",
        "request_type": "notice",
        "item_count": 2,
        "issuer_case_ref": "SHH-2026-1193",
        "legal_basis": [
            {
                "jurisdiction": "IE",
                "instrument": "Harassment, Harmful Communications and Related Offences Act 2020",
                "article": "s. 2",
            }
        ],
    }


def test_meta_of_a_response() -> None:
    assert meta_for(records()["response"]) == {"outcome": "actioned", "reason_code": None}
    refused = {
        **records()["response"],
        "body": {
            **response_body(),
            "outcome": "rejected_invalid",
            "actions_taken": [],
            "reason_code": "legal_basis_invalid",
            "explanation": "The cited article does not cover this content.",
        },
    }
    assert meta_for(refused) == {
        "outcome": "rejected_invalid",
        "reason_code": "legal_basis_invalid",
    }


@pytest.mark.parametrize("kind", ["supplement", "withdrawal", "closure"])
def test_meta_of_other_sealed_kinds_is_empty(kind: str) -> None:
    assert meta_for(records()[kind]) == {}


def test_meta_of_a_question_is_its_answer_by() -> None:
    assert meta_for(records()["question"]) == {"answer_by": "2026-03-04T12:00:00Z"}
    without = {**records()["question"], "body": {"questions": ["Which account?"]}}
    assert meta_for(without) == {}
    statement = statements()["question"]
    statement["meta"] = {"answer_by": "tomorrow"}
    assert load_errors(STATEMENT, statement) == {
        "meta": {"answer_by": ["Not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)."]}
    }


@pytest.mark.parametrize("kind", sorted(SIGNED_ONLY_KINDS))
def test_signed_only_kinds_have_no_record_to_derive_from(kind: str) -> None:
    with pytest.raises(ValueError, match="has no record"):
        meta_for({"kind": kind, "body": {}})


def test_meta_carries_nothing_sensitive() -> None:
    body = case_record()["body"]
    meta = meta_for(case_record())
    assert set(meta) <= set(body) | {"item_count"}
    for sensitive in (
        "statement_of_reasons",
        "escalation_reason",
        "keywords",
        "items",
        "on_behalf_of",
        "contact",
        "attachments",
    ):
        assert sensitive not in meta


@pytest.mark.parametrize("sensitive", ["statement_of_reasons", "keywords", "contact", "items"])
def test_case_meta_refuses_body_fields(sensitive: str) -> None:
    statement = case_statement()
    statement["meta"][sensitive] = case_record()["body"][sensitive]
    assert load_errors(STATEMENT, statement) == {"meta": {sensitive: ["Unknown field."]}}


# --- Meta per kind ------------------------------------------------------------------------------


def test_case_meta_item_count_bounds() -> None:
    statement = case_statement()
    statement["meta"]["item_count"] = 500
    assert loads(STATEMENT, statement)
    for bad in (0, 501):
        statement["meta"]["item_count"] = bad
        assert load_errors(STATEMENT, statement) == {
            "meta": {
                "item_count": ["Must be greater than or equal to 1 and less than or equal to 500."]
            }
        }
    statement["meta"]["item_count"] = "2"
    assert load_errors(STATEMENT, statement) == {"meta": {"item_count": ["Not a valid integer."]}}


def test_response_meta_needs_a_reason_unless_actioned() -> None:
    statement = statement_for(records()["response"])
    statement["meta"] = {"outcome": "not_actioned", "reason_code": None}
    assert load_errors(STATEMENT, statement) == {
        "meta": {"reason_code": ["Required unless outcome is actioned."]}
    }
    statement["meta"] = {"outcome": "actioned"}
    assert load_errors(STATEMENT, statement) == {
        "meta": {"reason_code": ["Missing data for required field."]}
    }


def test_an_interim_response_meta_needs_no_reason() -> None:
    statement = statement_for(records()["response"])
    for outcome in ("received", "under_legal_review", "needs_information"):
        statement["meta"] = {"outcome": outcome, "reason_code": None}
        assert loads(STATEMENT, statement)


@pytest.mark.parametrize(
    ("outcome", "reason_code", "items", "error"),
    [
        (
            "actioned",
            None,
            [{"item_id": "a", "outcome": "actioned"}, {"item_id": "b", "outcome": "not_actioned",
              "reason_code": "other"}],
            "Every item must be actioned when the outcome is actioned.",
        ),
        (
            "partially_actioned",
            "other",
            [{"item_id": "a", "outcome": "actioned"}],
            "Some items, not all, must be actioned when the outcome is partially_actioned.",
        ),
        (
            "not_actioned",
            "other",
            [{"item_id": "a", "outcome": "actioned"}],
            "No item can be actioned unless the outcome is actioned or partially_actioned.",
        ),
        (
            "actioned",
            None,
            [{"item_id": "a", "outcome": "actioned"}, {"item_id": "a", "outcome": "actioned"}],
            "Each item at most once.",
        ),
        (
            "received",
            None,
            [{"item_id": "a", "outcome": "actioned"}],
            "Only in a final response.",
        ),
    ],
)  # fmt: skip
def test_response_meta_item_outcomes_agree_with_the_outcome(outcome, reason_code, items, error):
    statement = statement_for(records()["response"])
    statement["meta"] = {"outcome": outcome, "reason_code": reason_code, "item_outcomes": items}
    assert load_errors(STATEMENT, statement) == {"meta": {"item_outcomes": [error]}}


def test_an_item_not_actioned_says_why() -> None:
    statement = statement_for(records()["response"])
    statement["meta"] = {
        "outcome": "not_actioned",
        "reason_code": "other",
        "item_outcomes": [{"item_id": "a", "outcome": "unable_to_locate"}],
    }
    assert load_errors(STATEMENT, statement) == {
        "meta": {"item_outcomes": {0: {"reason_code": ["Required unless outcome is actioned."]}}}
    }


@pytest.mark.parametrize("kind", ["supplement", "withdrawal", "closure"])
def test_empty_metas_allow_no_member(kind: str) -> None:
    statement = statements()[kind]
    assert statement["meta"] == {}
    statement["meta"] = {"questions": 1}
    assert load_errors(STATEMENT, statement) == {"meta": {"questions": ["Unknown field."]}}


def test_meta_is_required_and_an_object() -> None:
    statement = case_statement()
    del statement["meta"]
    assert load_errors(STATEMENT, statement) == {"meta": ["Missing data for required field."]}
    assert load_errors(STATEMENT, {**case_statement(), "meta": None}) == {
        "meta": ["Field may not be null."]
    }
    assert load_errors(STATEMENT, {**case_statement(), "meta": "case"}) == {
        "meta": {"_schema": ["Invalid input type."]}
    }


def test_meta_is_dispatched_on_kind() -> None:
    statement = {**assignment_statement(), "meta": receipt_statement()["meta"]}
    errors = load_errors(STATEMENT, statement)
    assert errors["meta"]["assignee"] == ["Missing data for required field."]
    assert errors["meta"]["handoff_id"] == ["Unknown field."]


# --- Digests and receipts -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SEALED_KINDS))
def test_sealed_kinds_need_both_digests(kind: str) -> None:
    statement = statements()[kind]
    assert load_errors(STATEMENT, {**statement, "jwe_sha256": None, "record_sha256": None}) == {
        "jwe_sha256": ["Required for sealed kinds."],
        "record_sha256": ["Required for sealed kinds."],
    }
    assert load_errors(STATEMENT, {**statement, "record_sha256": None}) == {
        "record_sha256": ["Required for sealed kinds."]
    }


@pytest.mark.parametrize("kind", sorted(SIGNED_ONLY_KINDS))
def test_signed_only_kinds_carry_no_digest(kind: str) -> None:
    statement = statements()[kind]
    with_digests = {**statement, "jwe_sha256": digest("a"), "record_sha256": digest("b")}
    assert load_errors(STATEMENT, with_digests) == {
        "jwe_sha256": ["Must be null for signed-only kinds."],
        "record_sha256": ["Must be null for signed-only kinds."],
    }


def test_digests_are_always_present() -> None:
    statement = receipt_statement()
    del statement["jwe_sha256"]
    assert load_errors(STATEMENT, statement) == {"jwe_sha256": ["Missing data for required field."]}


def test_digests_are_validated() -> None:
    statement = {**case_statement(), "jwe_sha256": "sha256:abc"}
    assert load_errors(STATEMENT, statement) == {"jwe_sha256": ["Length must be 43."]}


def test_a_receipt_replies_to_the_handoff_it_acknowledges() -> None:
    statement = {**receipt_statement(), "in_reply_to": RESPONSE_HANDOFF}
    assert load_errors(STATEMENT, statement) == {"in_reply_to": ["Must equal meta.handoff_id."]}


def test_statement_header_rules_apply() -> None:
    assert load_errors(STATEMENT, {**assignment_statement(), "in_reply_to": None}) == {
        "in_reply_to": ["Required unless kind is case."]
    }
    assert load_errors(STATEMENT, {**case_statement(), "typ": "hotline.record/v1"}) == {
        "typ": ['Must be "hotline.handoff/v1".']
    }
    assert load_errors(STATEMENT, {**case_statement(), "body": {}}) == {"body": ["Unknown field."]}


def test_unknown_kind() -> None:
    errors: dict[str, Any] = load_errors(STATEMENT, {**case_statement(), "kind": "memo"})
    assert set(errors) == {"kind", "meta"}
    assert errors["meta"] == ["Cannot be validated without a valid kind."]
