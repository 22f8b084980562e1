"""The record: its header rules and the dispatch of its body on `kind`."""

from typing import Any

import pytest

from schemas.enums import SEALED_KINDS, Kind
from schemas.record import BODY_SCHEMAS, RecordSchema
from tests.schemas.examples import (
    CASE_HANDOFF,
    case_record,
    ncii_case_record,
    question_body,
    records,
)
from tests.schemas.helpers import load_errors, loads

RECORD = RecordSchema()
SEALED = ", ".join(kind.value for kind in Kind if kind in SEALED_KINDS)


def test_there_is_a_body_schema_for_every_sealed_kind_and_no_other() -> None:
    assert set(BODY_SCHEMAS) == SEALED_KINDS


@pytest.mark.parametrize("kind", sorted(records()))
def test_the_examples_load_unchanged(kind: str) -> None:
    assert loads(RECORD, records()[kind])


def test_the_ncii_example_loads_unchanged() -> None:
    assert loads(RECORD, ncii_case_record())


def test_unknown_fields_are_refused_in_header_and_body() -> None:
    record = {**case_record(), "meta": {}}
    record["body"]["case_id"] = record["case_id"]
    record["sender"]["role"] = "agency_officer"
    assert load_errors(RECORD, record) == {
        "meta": ["Unknown field."],
        "body": {"case_id": ["Unknown field."]},
        "sender": {"role": ["Unknown field."]},
    }


def test_typ() -> None:
    assert load_errors(RECORD, {**case_record(), "typ": "hotline.handoff/v1"}) == {
        "typ": ['Must be "hotline.record/v1".']
    }
    record = case_record()
    del record["typ"]
    assert load_errors(RECORD, record) == {"typ": ["Missing data for required field."]}


@pytest.mark.parametrize("kind", ["receipt", "assignment"])
def test_signed_only_kinds_have_no_record(kind: str) -> None:
    assert load_errors(RECORD, {**records()["response"], "kind": kind}) == {
        "kind": [f"Must be one of: {SEALED}."],
        "body": ["Cannot be validated without a valid kind."],
    }


def test_body_is_validated_by_the_schema_of_its_kind() -> None:
    record = {**records()["question"], "body": case_record()["body"]}
    errors = load_errors(RECORD, record)
    assert list(errors) == ["body"]
    assert errors["body"]["questions"] == ["Missing data for required field."]
    assert errors["body"]["issuer_case_ref"] == ["Unknown field."]


def test_body_errors_are_reported_under_body() -> None:
    record = case_record()
    record["body"]["items"][0]["locators"][0]["value"] = "ftp://clipshare.example/v/1"
    assert load_errors(RECORD, record) == {
        "body": {"items": {0: {"locators": {0: {"value": ["Not a valid URL."]}}}}}
    }
    record = {**records()["question"], "body": {**question_body(), "respond_by": "tomorrow"}}
    assert load_errors(RECORD, record) == {
        "body": {"respond_by": ["Not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)."]}
    }


@pytest.mark.parametrize("body", [None, [], "text", 1])
def test_body_must_be_an_object(body: Any) -> None:
    expected = ["Field may not be null."] if body is None else {"_schema": ["Invalid input type."]}
    assert load_errors(RECORD, {**case_record(), "body": body}) == {"body": expected}


def test_unknown_kind_leaves_the_body_unchecked_and_refused() -> None:
    assert load_errors(RECORD, {**case_record(), "kind": "memo"}) == {
        "kind": [f"Must be one of: {SEALED}."],
        "body": ["Cannot be validated without a valid kind."],
    }


def test_in_reply_to_is_null_exactly_for_a_case() -> None:
    assert load_errors(RECORD, {**case_record(), "in_reply_to": CASE_HANDOFF}) == {
        "in_reply_to": ["Must be null for kind case."]
    }
    for kind, record in records().items():
        if kind != "case":
            assert load_errors(RECORD, {**record, "in_reply_to": None}) == {
                "in_reply_to": ["Required unless kind is case."]
            }


def test_in_reply_to_is_always_present() -> None:
    record = case_record()
    del record["in_reply_to"]
    assert load_errors(RECORD, record) == {"in_reply_to": ["Missing data for required field."]}


def test_a_handoff_cannot_reply_to_itself() -> None:
    record = records()["response"]
    assert load_errors(RECORD, {**record, "in_reply_to": record["handoff_id"]}) == {
        "in_reply_to": ["Must differ from handoff_id."]
    }


def test_to_is_one_to_eight_distinct_orgs() -> None:
    orgs = [f"org-{n}" for n in range(9)]
    assert loads(RECORD, {**case_record(), "to": orgs[:8]})
    assert load_errors(RECORD, {**case_record(), "to": orgs}) == {
        "to": ["Length must be between 1 and 8."]
    }
    assert load_errors(RECORD, {**case_record(), "to": []}) == {
        "to": ["Length must be between 1 and 8."]
    }
    assert load_errors(RECORD, {**case_record(), "to": ["clipshare", "clipshare"]}) == {
        "to": {1: ["Duplicate value."]}
    }
    assert load_errors(RECORD, {**case_record(), "to": ["ClipShare"]}) == {
        "to": {0: ["Not a valid organisation id."]}
    }


def test_header_identifiers() -> None:
    record = {
        **case_record(),
        "handoff_id": "0B6F3C2E-5D1A-4F8E-9C3B-2A7D6E4F1A90",
        "case_id": 42,
        "issued_at": "2026-03-03T05:12:09+00:00",
    }
    assert load_errors(RECORD, record) == {
        "handoff_id": ["Not a canonical lowercase UUID."],
        "case_id": ["Not a valid string."],
        "issued_at": ["Not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)."],
    }
