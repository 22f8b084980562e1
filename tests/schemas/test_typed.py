"""Typed statements: validated once by the schema, then read as named, typed fields."""

from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError

from keys import Identity
from schemas.enums import Category, Kind, MinorInvolved, Outcome, Priority, RequestType
from schemas.keys import (
    ENROLLMENT_TYP,
    REVOCATION_TYP,
    load_enrollment,
    load_revocation,
    load_rotation,
)
from schemas.statement import (
    AssignmentMeta,
    CaseMeta,
    NoMeta,
    QuestionMeta,
    ReceiptMeta,
    ResponseMeta,
    SupplementMeta,
    load_statement,
)
from tests.schemas.examples import statements

META_TYPES = {
    Kind.CASE: CaseMeta,
    Kind.RECEIPT: ReceiptMeta,
    Kind.RESPONSE: ResponseMeta,
    Kind.QUESTION: QuestionMeta,
    Kind.SUPPLEMENT: SupplementMeta,
    Kind.WITHDRAWAL: NoMeta,
    Kind.CLOSURE: NoMeta,
    Kind.ASSIGNMENT: AssignmentMeta,
}


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_loads_to_its_typed_meta(kind):
    document = statements()[kind.value]
    statement = load_statement(document)
    assert statement.kind is kind
    assert type(statement.meta) is META_TYPES[kind]
    assert statement.document == document
    assert statement.handoff_id == document["handoff_id"]
    assert statement.sender.kid == document["sender"]["kid"]
    assert statement.to == tuple(document["to"])
    assert statement.issued_at.tzinfo is UTC


def test_a_case_meta_is_typed_with_the_vocabularies():
    meta = load_statement(statements()["case"]).meta_as(CaseMeta)
    assert isinstance(meta.category, Category)
    assert isinstance(meta.priority, Priority)
    assert isinstance(meta.minor_involved, MinorInvolved)
    assert isinstance(meta.request_type, RequestType)
    assert isinstance(meta.item_count, int)


def test_a_response_meta_carries_its_outcome():
    meta = load_statement(statements()["response"]).meta_as(ResponseMeta)
    assert isinstance(meta.outcome, Outcome)


def test_asking_for_another_kind_of_meta_is_an_error():
    statement = load_statement(statements()["case"])
    with pytest.raises(TypeError, match="a case statement has no ResponseMeta"):
        statement.meta_as(ResponseMeta)


def test_an_invalid_statement_is_refused_before_it_is_typed():
    document = dict(statements()["case"])
    document["kind"] = "receipt"
    with pytest.raises(ValidationError):
        load_statement(document)


def test_statements_compare_by_content_not_by_document_object():
    document = statements()["case"]
    assert load_statement(document) == load_statement(dict(document))


def _jwks(identity):
    return identity.public_jwks()


def test_key_statements_load_typed():
    identity = Identity.generate()
    enrollment = load_enrollment(
        {
            "typ": ENROLLMENT_TYP,
            "org": "clipshare",
            "official": "reviewer-1",
            "code_sha256": "a" * 64,
            "jwks": _jwks(identity),
            "issued_at": "2026-03-03T09:00:00Z",
        }
    )
    assert enrollment.issued_at == datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert enrollment.jwks.kids == (identity.signing_kid, identity.encryption_kid)
    assert enrollment.jwks.documents == _jwks(identity)["keys"]
    revocation = load_revocation(
        {
            "typ": REVOCATION_TYP,
            "org": "clipshare",
            "official": "reviewer-1",
            "kid": identity.signing_kid,
            "reason": "lost",
            "issued_at": "2026-03-03T09:00:00Z",
        }
    )
    assert (revocation.kid, revocation.reason) == (identity.signing_kid, "lost")
    with pytest.raises(ValidationError):
        load_rotation({"typ": ENROLLMENT_TYP})
