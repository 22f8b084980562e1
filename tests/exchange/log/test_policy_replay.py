"""The auditor's replay of deadline policies, entry by entry: what it refuses, and why."""

from typing import Any

import pytest

from exchange.auditor.entries import Actor, Entry
from exchange.auditor.errors import DeadlinePolicyError
from exchange.auditor.policies import PolicyReplay
from schemas.statement import typed_statement
from tests.schemas import examples

SCOPE = {"jurisdiction": None, "instrument": None, "article": None, "category": None,
         "priority": "urgent"}  # fmt: skip
AT = "2026-03-03T09:00:00Z"


def change(index: int, **changes: Any) -> Entry:
    details = {
        "name": "urgent-all",
        "version": 1,
        "scope": SCOPE,
        "ack_within": 1800,
        "action_within": 43200,
        "answer_within": 3600,
        "retired": False,
        **changes,
    }
    return Entry(index, AT, "deadline_policy_changed", None, None, None, None, None, details)


def case_entry(index: int, applied: Any, **due: str) -> Entry:
    details = {
        "ack_due_at": due.get("ack", "2026-03-03T09:30:00Z"),
        "action_due_at": due.get("action", "2026-03-03T21:00:00Z"),
        "deadline_policy": applied,
    }
    return Entry(index, AT, "case", None, None, None, None, None, details)


APPLIED = {"name": "urgent-all", "version": 1, "ack_within": 1800, "action_within": 43200,
           "answer_within": 3600}  # fmt: skip
CASE = typed_statement(examples.case_statement())  # urgent


def refused(replay: PolicyReplay, call: Any, message: str) -> None:
    with pytest.raises(DeadlinePolicyError) as refusal:
        call()
    assert refusal.value.reason.startswith(message), refusal.value.reason


def test_a_case_under_the_policy_in_force_replays():
    replay = PolicyReplay()
    replay.changed(change(0))
    replay.case_opened(case_entry(1, APPLIED), CASE)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (change(0, version=2), "policy urgent-all version 2, expected 1"),
        (change(0, retired=True), "policy urgent-all is not in force to retire"),
        (change(0, retired="no"), "a policy change says whether it retires"),
        (change(0, ack_within=86400), "the ack period must not be longer"),
        (change(0, name="Bad Name"), "policy name 'Bad Name' must be"),
        (change(0, scope={"category": "drugs"}), "not a deadline policy"),
        (
            Entry(
                0, AT, "deadline_policy_changed", None, None, Actor("o", "p", None), None, None, {}
            ),
            "a policy change is the operator's",
        ),
    ],
)
def test_a_malformed_policy_change_is_refused(entry, message):
    replay = PolicyReplay()
    refused(replay, lambda: replay.changed(entry), message)


@pytest.mark.parametrize(
    ("applied", "due", "message"),
    [
        (None, {}, "the case entry does not record its deadline policy"),
        ({**APPLIED, "ack_within": "1800"}, {}, "the case entry does not record its deadline"),
        ({**APPLIED, "version": 2}, {}, "the case was given policy urgent-all v2"),
        ({**APPLIED, "action_within": 86400}, {}, "the case records other periods than"),
        ({**APPLIED, "ack_within": 90000}, {}, "the ack period must not be longer"),
        (APPLIED, {"ack": "2026-03-03T10:00:00Z"}, "ack_due_at does not follow"),
        (APPLIED, {"action": "2026-03-04T09:00:00Z"}, "action_due_at does not follow"),
    ],
)
def test_a_case_entry_that_does_not_follow_the_policy_is_refused(applied, due, message):
    replay = PolicyReplay()
    replay.changed(change(0))
    refused(replay, lambda: replay.case_opened(case_entry(1, applied, **due), CASE), message)


def test_after_retirement_the_settings_apply_with_any_sane_periods():
    replay = PolicyReplay()
    replay.changed(change(0))
    replay.changed(change(1, version=2, retired=True))
    settings = {"name": "settings", "version": 0, "ack_within": 3600, "action_within": 86400,
                "answer_within": 86400}  # fmt: skip
    due = {"ack": "2026-03-03T10:00:00Z", "action": "2026-03-04T09:00:00Z"}
    replay.case_opened(case_entry(2, settings, **due), CASE)
    refused(
        replay,
        lambda: replay.case_opened(case_entry(3, APPLIED), CASE),
        "the case was given policy urgent-all v1; settings v0 was in force for it",
    )
