"""The statement: the clear, signed outer document of every handoff.

The server reads only this. It repeats the record's header, carries a per-kind `meta` that
is safe to show without decrypting (enums, counts and references; never free text,
locators, hashes or names), and binds the sealed record by two digests: of the JWE as sent
and of the signed record inside it.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from marshmallow import Schema, ValidationError, validates_schema

from schemas.assignment import AssignmentSchema
from schemas.case import MAX_ITEMS
from schemas.common import (
    BoundedInt,
    Choice,
    Const,
    Dispatch,
    IssuerCaseRef,
    Sha256B64Url,
    StrictSchema,
)
from schemas.enums import (
    SEALED_KINDS,
    Category,
    Kind,
    MinorInvolved,
    Outcome,
    Priority,
    ReasonCode,
    RequestType,
)
from schemas.header import HeaderSchema
from schemas.receipt import ReceiptSchema

STATEMENT_TYP = "hotline.handoff/v1"


class CaseMetaSchema(StrictSchema):
    """What the server may know of a case: enough to triage and report, nothing to expose."""

    category = Choice(Category, required=True)
    priority = Choice(Priority, required=True)
    minor_involved = Choice(MinorInvolved, required=True)
    request_type = Choice(RequestType, required=True)
    item_count = BoundedInt(min_value=1, max_value=MAX_ITEMS, required=True)
    issuer_case_ref = IssuerCaseRef(required=True)


class ResponseMetaSchema(StrictSchema):
    outcome = Choice(Outcome, required=True)
    reason_code = Choice(ReasonCode, required=True, allow_none=True)

    @validates_schema
    def _check_reason(self, data: dict[str, Any], **kwargs: object) -> None:
        if data["outcome"] != Outcome.ACTIONED and data["reason_code"] is None:
            raise ValidationError("Required unless outcome is actioned.", field_name="reason_code")


class EmptyMetaSchema(StrictSchema):
    """`{}`: the kind's meaning lies entirely in its sealed record."""


META_SCHEMAS: Mapping[Kind, type[Schema]] = MappingProxyType(
    {
        Kind.CASE: CaseMetaSchema,
        Kind.RECEIPT: ReceiptSchema,
        Kind.RESPONSE: ResponseMetaSchema,
        Kind.QUESTION: EmptyMetaSchema,
        Kind.SUPPLEMENT: EmptyMetaSchema,
        Kind.WITHDRAWAL: EmptyMetaSchema,
        Kind.CLOSURE: EmptyMetaSchema,
        Kind.ASSIGNMENT: AssignmentSchema,
    }
)


class StatementSchema(HeaderSchema):
    typ = Const(STATEMENT_TYP, required=True)
    meta = Dispatch("kind", META_SCHEMAS, required=True)
    jwe_sha256 = Sha256B64Url(required=True, allow_none=True)
    record_sha256 = Sha256B64Url(required=True, allow_none=True)

    @validates_schema
    def _check_binding(self, data: dict[str, Any], **kwargs: object) -> None:
        errors: dict[str, list[str]] = {}
        sealed = data["kind"] in SEALED_KINDS
        for name in ("jwe_sha256", "record_sha256"):
            if sealed and data[name] is None:
                errors[name] = ["Required for sealed kinds."]
            elif not sealed and data[name] is not None:
                errors[name] = ["Must be null for signed-only kinds."]
        # A receipt answers exactly the handoff it acknowledges.
        if data["kind"] == Kind.RECEIPT and data["in_reply_to"] != data["meta"]["handoff_id"]:
            errors["in_reply_to"] = ["Must equal meta.handoff_id."]
        if errors:
            raise ValidationError(errors)


def meta_for(record: Mapping[str, Any]) -> dict[str, Any]:
    """The statement meta of a validated sealed record, derived from its body alone."""
    kind = record["kind"]
    body = record["body"]
    if kind == Kind.CASE:
        return {
            "category": body["category"],
            "priority": body["priority"],
            "minor_involved": body["minor_involved"],
            "request_type": body["request_type"],
            "item_count": len(body["items"]),
            "issuer_case_ref": body["issuer_case_ref"],
        }
    if kind == Kind.RESPONSE:
        return {"outcome": body["outcome"], "reason_code": body.get("reason_code")}
    if kind in SEALED_KINDS:
        return {}
    raise ValueError(f"kind {kind!r} has no record to derive a meta from")
