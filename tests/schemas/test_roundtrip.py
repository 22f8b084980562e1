"""Every schema loads valid instances unchanged, as plain JSON, and dumps them back."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema

from schemas.assignment import AssignmentSchema
from schemas.case_body import (
    AttachmentSchema,
    CaseSchema,
    ContactSchema,
    HashSchema,
    ItemSchema,
    LegalBasisSchema,
    LocatorSchema,
    OnBehalfOfSchema,
)
from schemas.closure import ClosureSchema
from schemas.common import SenderSchema
from schemas.enums import SEALED_KINDS, Kind
from schemas.envelope import EnvelopeSchema, JweSchema
from schemas.question import QuestionSchema
from schemas.receipt import ReceiptSchema
from schemas.record import RecordSchema
from schemas.response import ActionTakenSchema, PreservationSchema, ResponseSchema
from schemas.statement import CaseMetaSchema, ResponseMetaSchema, StatementSchema
from schemas.supplement import SupplementSchema
from schemas.withdrawal import WithdrawalSchema
from tests.schemas import strategies as s

CASES: list[tuple[str, type[Schema], st.SearchStrategy[Any]]] = [
    ("sender", SenderSchema, s.senders),
    ("legal_basis", LegalBasisSchema, s.legal_bases),
    ("on_behalf_of", OnBehalfOfSchema, s.on_behalf_of()),
    ("contact", ContactSchema, s.contacts),
    ("locator", LocatorSchema, s.locators()),
    ("hash", HashSchema, s.hashes),
    ("item", ItemSchema, s.items()),
    ("attachment", AttachmentSchema, s.attachments()),
    ("case", CaseSchema, s.case_bodies()),
    ("receipt", ReceiptSchema, s.receipts),
    ("action_taken", ActionTakenSchema, s.action_taken),
    ("preservation", PreservationSchema, s.preservations()),
    ("response", ResponseSchema, s.response_bodies()),
    ("question", QuestionSchema, s.question_bodies),
    ("supplement", SupplementSchema, s.supplement_bodies),
    ("withdrawal", WithdrawalSchema, s.withdrawal_bodies),
    ("closure", ClosureSchema, s.closure_bodies),
    ("assignment", AssignmentSchema, s.assignments),
    ("case_meta", CaseMetaSchema, s.case_metas),
    ("response_meta", ResponseMetaSchema, s.response_metas()),
    ("jwe", JweSchema, s.jwes),
    ("envelope", EnvelopeSchema, s.envelopes),
    *(
        (f"record:{kind}", RecordSchema, s.records(kind.value))
        for kind in Kind
        if kind in SEALED_KINDS
    ),
    *((f"statement:{kind}", StatementSchema, s.statements(kind.value)) for kind in Kind),
]

JSON_TYPES = (str, int, bool, type(None), list, dict)


def assert_plain_json(value: Any, path: str = "$") -> None:
    """Exact JSON types only: a str subclass or a datetime would change the canonical form."""
    assert type(value) in JSON_TYPES, f"{path} is a {type(value).__name__}"
    if isinstance(value, dict):
        for key, member in value.items():
            assert type(key) is str, f"{path} has a {type(key).__name__} key"
            assert_plain_json(member, f"{path}.{key}")
    elif isinstance(value, list):
        for index, member in enumerate(value):
            assert_plain_json(member, f"{path}[{index}]")


@pytest.mark.parametrize(
    ("schema_class", "strategy"),
    [pytest.param(cls, strategy, id=name) for name, cls, strategy in CASES],
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_load_and_dump_are_lossless(
    schema_class: type[Schema], strategy: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    schema = schema_class()
    document = data.draw(strategy)
    assert json.loads(json.dumps(document)) == document

    loaded = schema.load(document)
    assert loaded == document
    assert_plain_json(loaded)
    dumped = schema.dump(loaded)
    assert dumped == document
    assert schema.load(dumped) == loaded
