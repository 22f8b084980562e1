"""The key rule, written once: every (use, status, purpose) combination, spelled out."""

import pytest

from exchange.protocol.key_usage import LISTED_STATUSES, KeyPurpose, rule, usable
from schemas.enums import KeyStatus, KeyUse

EXPECTED = {
    # purpose: the (use, status) pairs it accepts; every other pair is refused
    KeyPurpose.SIGN: {("sig", "active")},
    KeyPurpose.RECEIVE: {("enc", "active")},
    KeyPurpose.VERIFY_PAST: {("sig", "active"), ("sig", "retired")},
}


@pytest.mark.parametrize("purpose", list(KeyPurpose))
@pytest.mark.parametrize("use", [u.value for u in KeyUse])
@pytest.mark.parametrize("status", [s.value for s in KeyStatus])
def test_usable_is_exactly_the_table(purpose, use, status):
    assert usable(use, status, purpose) == ((use, status) in EXPECTED[purpose])


def test_a_revoked_key_serves_nothing():
    assert not any(
        usable(use, KeyStatus.REVOKED, purpose) for purpose in KeyPurpose for use in KeyUse
    )


@pytest.mark.parametrize("purpose", list(KeyPurpose))
def test_the_query_form_agrees_with_the_check(purpose):
    accepted = rule(purpose)
    assert {(accepted.use.value, status.value) for status in accepted.statuses} == EXPECTED[purpose]


def test_directories_list_what_still_verifies():
    assert frozenset({KeyStatus.ACTIVE, KeyStatus.RETIRED}) == LISTED_STATUSES
