"""The record: the signed inner document that is encrypted to the recipients.

It carries the header and the body of its kind; only sealed kinds have a record.
"""

from collections.abc import Mapping
from types import MappingProxyType

from marshmallow import Schema

from schemas.case_body import CaseSchema
from schemas.closure import ClosureSchema
from schemas.common import Choice, Const, Dispatch
from schemas.enums import SEALED_KINDS, Kind
from schemas.header import HeaderSchema
from schemas.question import QuestionSchema
from schemas.response import ResponseSchema
from schemas.supplement import SupplementSchema
from schemas.withdrawal import WithdrawalSchema

RECORD_TYP = "hotline.record/v1"

BODY_SCHEMAS: Mapping[Kind, type[Schema]] = MappingProxyType(
    {
        Kind.CASE: CaseSchema,
        Kind.RESPONSE: ResponseSchema,
        Kind.QUESTION: QuestionSchema,
        Kind.SUPPLEMENT: SupplementSchema,
        Kind.WITHDRAWAL: WithdrawalSchema,
        Kind.CLOSURE: ClosureSchema,
    }
)
assert frozenset(BODY_SCHEMAS) == SEALED_KINDS


class RecordSchema(HeaderSchema):
    typ = Const(RECORD_TYP, required=True)
    kind = Choice([kind for kind in Kind if kind in SEALED_KINDS], required=True)
    body = Dispatch("kind", BODY_SCHEMAS, required=True)
