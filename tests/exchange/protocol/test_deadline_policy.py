"""Resolving a case's deadline policy: the law first, then the category, then the priority."""

from datetime import timedelta

import pytest

from exchange.protocol.deadline_policy import (
    CaseFacts,
    DeadlinePolicy,
    LegalBasis,
    Periods,
    PolicyError,
    Scope,
    parse_period,
    policy_from_json,
    policy_to_json,
    resolve,
)

H = timedelta(hours=1)
FALLBACK = DeadlinePolicy("settings", 0, Scope(), Periods(H, 24 * H, 24 * H))
KCS = LegalBasis("KR", "Act on Promotion of Information and Communications Network", "Art. 44-7")


def policy(name: str, hours: int, **scope: str) -> DeadlinePolicy:
    return DeadlinePolicy(name, 1, Scope(**scope), Periods(H, hours * H, H))


POLICIES = [
    policy("urgent", 10, priority="urgent"),
    policy("deepfake", 20, category="sexual_deepfake"),
    policy("deepfake-urgent", 30, category="sexual_deepfake", priority="urgent"),
    policy("kr", 40, jurisdiction="KR"),
    policy("kr-act", 50, jurisdiction="KR", instrument=KCS.instrument),
    policy("kr-art", 60, jurisdiction="KR", instrument=KCS.instrument, article=KCS.article),
]


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (CaseFacts("sexual_deepfake", "urgent", (KCS,)), "kr-art"),
        (CaseFacts("drugs", "normal", (LegalBasis("KR", KCS.instrument, "Art. 1"),)), "kr-act"),
        (CaseFacts("drugs", "normal", (LegalBasis("KR", "Other Act", "Art. 1"),)), "kr"),
        (CaseFacts("sexual_deepfake", "urgent", (LegalBasis("DE", "S", "x"),)), "deepfake-urgent"),
        (CaseFacts("sexual_deepfake", "normal"), "deepfake"),
        (CaseFacts("drugs", "urgent"), "urgent"),
        (CaseFacts("drugs", "normal"), "settings"),
    ],
)  # fmt: skip
def test_the_most_specific_covering_policy_applies(facts, expected):
    assert resolve(POLICIES, facts, FALLBACK).name == expected


def test_any_of_the_case_s_legal_bases_can_select_a_policy():
    facts = CaseFacts("other", "normal", (LegalBasis("EU", "DSA", "Art. 9"), KCS))
    assert resolve(POLICIES, facts, FALLBACK).name == "kr-art"


def test_equally_specific_policies_resolve_to_the_first_name():
    tied = [policy("b", 1, category="drugs"), policy("a", 2, category="drugs")]
    assert resolve(tied, CaseFacts("drugs", "normal"), FALLBACK).name == "a"


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800)]
)
def test_periods_are_written_with_a_unit(text, seconds):
    assert parse_period(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "0", "1w", "-1h", "1.5h", "h", "1 h 2"])
def test_a_malformed_period_is_refused(text):
    with pytest.raises(PolicyError, match="is not a period such as 30m, 24h or 7d"):
        parse_period(text)


def test_a_logged_policy_round_trips_and_a_malformed_one_is_refused():
    logged = policy_to_json(POLICIES[-1])
    assert policy_from_json(logged) == POLICIES[-1]
    with pytest.raises(PolicyError, match="the ack period must not be longer"):
        policy_from_json({**logged, "ack_within": 10 * 86400})
    with pytest.raises(PolicyError, match="a logged policy's version is a positive integer"):
        policy_from_json({**logged, "version": True})
    with pytest.raises(PolicyError, match="not a deadline policy"):
        policy_from_json({**logged, "scope": {"category": "drugs"}})
    with pytest.raises(PolicyError, match="not a deadline policy"):
        policy_from_json({**logged, "answer_within": "1h"})
