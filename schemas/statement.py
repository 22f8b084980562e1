"""The statement: the clear, signed outer document of every handoff.

The server reads only this. It repeats the record's header, carries a per-kind `meta` that
is safe to show without decrypting (enums, counts and references; never free text,
locators, hashes or names), and binds the sealed record by two digests: of the JWE as sent
and of the signed record inside it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

from marshmallow import Schema, ValidationError, fields, validates_schema

from schemas.assignment import AssignmentSchema
from schemas.case_body import MAX_ITEMS, MAX_LEGAL_BASES, LegalBasisSchema
from schemas.common import (
    BoundedInt,
    BoundedList,
    Choice,
    Const,
    Dispatch,
    IssuerCaseRef,
    Sha256B64Url,
    StrictSchema,
    UtcTimestamp,
    parse_utc,
)
from schemas.enums import (
    INTERIM_OUTCOMES,
    SEALED_KINDS,
    Category,
    ItemOutcome,
    Kind,
    MinorInvolved,
    Outcome,
    Priority,
    ReasonCode,
    RequestType,
)
from schemas.header import HeaderSchema
from schemas.receipt import ReceiptSchema
from schemas.response import ItemOutcomeSchema, check_item_outcomes, is_final
from schemas.supplement import VerificationResultSchema

STATEMENT_TYP = "hotline.handoff/v1"


class CaseMetaSchema(StrictSchema):
    """What the server may know of a case: enough to triage and report, nothing to expose."""

    category = Choice(Category, required=True)
    priority = Choice(Priority, required=True)
    minor_involved = Choice(MinorInvolved, required=True)
    request_type = Choice(RequestType, required=True)
    item_count = BoundedInt(min_value=1, max_value=MAX_ITEMS, required=True)
    issuer_case_ref = IssuerCaseRef(required=True)
    # The record's legal bases, in clear so that the server can apply the deadline policy
    # of the law the request rests on. Optional only so that statements signed before it
    # existed still load; `meta_for` always includes it.
    legal_basis = BoundedList(
        fields.Nested(LegalBasisSchema), min_length=1, max_length=MAX_LEGAL_BASES
    )


class ResponseMetaSchema(StrictSchema):
    outcome = Choice(Outcome, required=True)
    reason_code = Choice(ReasonCode, required=True, allow_none=True)
    # Each item's outcome (enums and the agency's own item ids), when the record gives them.
    item_outcomes = BoundedList(
        fields.Nested(ItemOutcomeSchema), min_length=1, max_length=MAX_ITEMS
    )

    @validates_schema
    def _check_reason(self, data: dict[str, Any], **kwargs: object) -> None:
        final = data["outcome"] not in INTERIM_OUTCOMES
        if final and data["outcome"] != Outcome.ACTIONED and data["reason_code"] is None:
            raise ValidationError("Required unless outcome is actioned.", field_name="reason_code")
        item_errors = check_item_outcomes(data["outcome"], data.get("item_outcomes", []))
        if item_errors:
            raise ValidationError(item_errors, field_name="item_outcomes")


class QuestionMetaSchema(StrictSchema):
    # The record's `respond_by`, in clear so that the server can hold the other side to it.
    answer_by = UtcTimestamp()


class SupplementMetaSchema(StrictSchema):
    # The agency's verification of reported actions, item by item (ids, times, booleans).
    verification = BoundedList(
        fields.Nested(VerificationResultSchema),
        min_length=1,
        max_length=MAX_ITEMS,
        unique_key="item_id",
    )


class EmptyMetaSchema(StrictSchema):
    """`{}`: the kind's meaning lies entirely in its sealed record."""


META_SCHEMAS: Mapping[Kind, type[Schema]] = MappingProxyType(
    {
        Kind.CASE: CaseMetaSchema,
        Kind.RECEIPT: ReceiptSchema,
        Kind.RESPONSE: ResponseMetaSchema,
        Kind.QUESTION: QuestionMetaSchema,
        Kind.SUPPLEMENT: SupplementMetaSchema,
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
            "legal_basis": [
                {
                    "jurisdiction": basis["jurisdiction"],
                    "instrument": basis["instrument"],
                    "article": basis["article"],
                }
                for basis in body["legal_basis"]
            ],
        }
    if kind == Kind.RESPONSE:
        meta = {"outcome": body["outcome"], "reason_code": body.get("reason_code")}
        if "item_outcomes" in body:
            meta["item_outcomes"] = [
                {
                    "item_id": item["item_id"],
                    "outcome": item["outcome"],
                    **({"reason_code": item["reason_code"]} if item.get("reason_code") else {}),
                }
                for item in body["item_outcomes"]
            ]
        return meta
    if kind == Kind.QUESTION:
        return {"answer_by": body["respond_by"]} if "respond_by" in body else {}
    if kind == Kind.SUPPLEMENT and "verification" in body:
        return {
            "verification": [
                {
                    "item_id": result["item_id"],
                    "checked_at": result["checked_at"],
                    "reachable": result["reachable"],
                }
                for result in body["verification"]
            ]
        }
    if kind in SEALED_KINDS:
        return {}
    raise ValueError(f"kind {kind!r} has no record to derive a meta from")


# --- Typed statements ------------------------------------------------------------------------
# `StatementSchema.load` returns the plain JSON that was signed (it is what gets
# canonicalised and logged); `load_statement` validates once with it and returns the same
# statement as typed, immutable objects, which services, the auditor and the client read.


@dataclass(frozen=True, slots=True)
class Sender:
    org: str
    official: str
    kid: str


@dataclass(frozen=True, slots=True)
class CaseMeta:
    category: Category
    priority: Priority
    minor_involved: MinorInvolved
    request_type: RequestType
    item_count: int
    issuer_case_ref: str
    # (jurisdiction, instrument, article) of each legal basis, as the record lists them.
    legal_basis: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class ItemResult:
    item_id: str
    outcome: ItemOutcome
    reason_code: ReasonCode | None


@dataclass(frozen=True, slots=True)
class ResponseMeta:
    outcome: Outcome
    reason_code: ReasonCode | None
    item_outcomes: tuple[ItemResult, ...] = ()

    @property
    def final(self) -> bool:
        return is_final(self.outcome, self.reason_code)


@dataclass(frozen=True, slots=True)
class ReceiptMeta:
    handoff_id: str
    record_sha256: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class AssignmentMeta:
    assignee: str


@dataclass(frozen=True, slots=True)
class NoMeta:
    """The meta of the kinds whose meaning lies entirely in their sealed record."""


@dataclass(frozen=True, slots=True)
class QuestionMeta:
    answer_by: datetime | None


@dataclass(frozen=True, slots=True)
class Verification:
    item_id: str
    checked_at: datetime
    reachable: bool


@dataclass(frozen=True, slots=True)
class SupplementMeta:
    verification: tuple[Verification, ...]

    @property
    def reopens(self) -> bool:
        """Some item the platform reported acted on is still reachable."""
        return any(result.reachable for result in self.verification)


Meta = (
    CaseMeta | ResponseMeta | ReceiptMeta | AssignmentMeta | QuestionMeta | SupplementMeta | NoMeta
)
M = TypeVar(
    "M", CaseMeta, ResponseMeta, ReceiptMeta, AssignmentMeta, QuestionMeta, SupplementMeta, NoMeta
)


@dataclass(frozen=True, slots=True)
class Statement:
    """A validated statement, typed. `document` is the JSON exactly as it was signed."""

    handoff_id: str
    case_id: str
    kind: Kind
    issued_at: datetime
    sender: Sender
    to: tuple[str, ...]
    in_reply_to: str | None
    meta: Meta
    jwe_sha256: str | None
    record_sha256: str | None
    document: Mapping[str, Any] = field(compare=False, repr=False)

    def meta_as(self, kind: type[M]) -> M:
        """The meta, which must be of `kind` (a CaseMeta for a case, and so on)."""
        if not isinstance(self.meta, kind):
            raise TypeError(f"a {self.kind} statement has no {kind.__name__}")
        return self.meta


def _meta(kind: Kind, meta: Mapping[str, Any]) -> Meta:
    if kind == Kind.CASE:
        return CaseMeta(
            Category(meta["category"]),
            Priority(meta["priority"]),
            MinorInvolved(meta["minor_involved"]),
            RequestType(meta["request_type"]),
            meta["item_count"],
            meta["issuer_case_ref"],
            tuple(
                (b["jurisdiction"], b["instrument"], b["article"])
                for b in meta.get("legal_basis", ())
            ),
        )
    if kind == Kind.RESPONSE:
        reason = meta["reason_code"]
        return ResponseMeta(
            Outcome(meta["outcome"]),
            ReasonCode(reason) if reason else None,
            tuple(
                ItemResult(
                    item["item_id"],
                    ItemOutcome(item["outcome"]),
                    ReasonCode(item["reason_code"]) if item.get("reason_code") else None,
                )
                for item in meta.get("item_outcomes", ())
            ),
        )
    if kind == Kind.RECEIPT:
        return ReceiptMeta(
            meta["handoff_id"], meta["record_sha256"], parse_utc(meta["received_at"])
        )
    if kind == Kind.ASSIGNMENT:
        return AssignmentMeta(meta["assignee"])
    if kind == Kind.QUESTION:
        answer_by = meta.get("answer_by")
        return QuestionMeta(parse_utc(answer_by) if answer_by else None)
    if kind == Kind.SUPPLEMENT:
        return SupplementMeta(
            tuple(
                Verification(r["item_id"], parse_utc(r["checked_at"]), r["reachable"])
                for r in meta.get("verification", ())
            )
        )
    return NoMeta()


def typed_statement(document: Mapping[str, Any]) -> Statement:
    """The typed form of a statement that `StatementSchema` has validated.

    Raises KeyError, TypeError or ValueError on a document it did not validate.
    """
    kind = Kind(document["kind"])
    sender = document["sender"]
    return Statement(
        handoff_id=document["handoff_id"],
        case_id=document["case_id"],
        kind=kind,
        issued_at=parse_utc(document["issued_at"]),
        sender=Sender(sender["org"], sender["official"], sender["kid"]),
        to=tuple(document["to"]),
        in_reply_to=document["in_reply_to"],
        meta=_meta(kind, document["meta"]),
        jwe_sha256=document["jwe_sha256"],
        record_sha256=document["record_sha256"],
        document=document,
    )


_STATEMENT = StatementSchema()


def validate_statement(document: object) -> dict[str, Any]:
    """The checks of `load_statement` without building the typed form, for a checker that
    only needs the verdict (the auditor's statement workers)."""
    return _STATEMENT.load(document)  # type: ignore[arg-type, no-any-return]


def load_statement(document: object) -> Statement:
    """Validate a statement payload once and return it typed; marshmallow's
    ValidationError says what is wrong otherwise."""
    return typed_statement(validate_statement(document))
