"""The closed vocabularies."""

from enum import StrEnum

import pytest

from schemas import enums
from schemas.enums import SEALED_KINDS, SIGNED_ONLY_KINDS, Kind

VOCABULARIES = [
    value
    for value in vars(enums).values()
    if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
]


def test_every_kind_is_sealed_or_signed_only() -> None:
    assert set(Kind) == SEALED_KINDS | SIGNED_ONLY_KINDS
    assert not SEALED_KINDS & SIGNED_ONLY_KINDS
    assert {Kind.RECEIPT, Kind.ASSIGNMENT} == SIGNED_ONLY_KINDS


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda v: v.__name__)
def test_values_are_lowercase_snake_case_names(vocabulary: type[StrEnum]) -> None:
    for member in vocabulary:
        assert member.value == member.name.lower()


def test_the_vocabularies_other_code_imports() -> None:
    assert {vocabulary.__name__ for vocabulary in VOCABULARIES} == {
        "Kind",
        "RequestType",
        "Category",
        "MinorInvolved",
        "Priority",
        "OnBehalfOf",
        "LocatorType",
        "Action",
        "HashAlgo",
        "ContentType",
        "Annotation",
        "Outcome",
        "ItemOutcome",
        "ReasonCode",
        "WithdrawalReason",
        "ClosureReason",
        "OrgKind",
        "Role",
        "KeyUse",
        "KeyStatus",
    }
