"""Deadline policies, replayed: the auditor resolves each case's policy itself.

The log holds every policy change (`deadline_policy_changed`) and every case's applied
policy and due dates (the `case` entry's `deadline_policy`, `ack_due_at`,
`action_due_at`). Replaying the first, the auditor resolves the policy a new case should
have had and refuses an entry that names another, other periods, or due dates that do not
follow from them: an operator cannot give one platform or one case a softer deadline
without it showing.
"""

from datetime import timedelta
from typing import Any

from exchange.auditor.entries import Entry
from exchange.auditor.errors import DeadlinePolicyError
from exchange.protocol.deadline_policy import (
    SETTINGS_POLICY,
    SETTINGS_VERSION,
    CaseFacts,
    DeadlinePolicy,
    LegalBasis,
    Periods,
    PolicyError,
    Scope,
    policy_from_json,
    resolve,
)
from schemas.common import format_utc, parse_utc
from schemas.statement import CaseMeta, Statement

_PERIOD_KEYS = ("ack_within", "action_within", "answer_within")


class PolicyReplay:
    def __init__(self) -> None:
        self._versions: dict[str, int] = {}
        self._in_force: dict[str, DeadlinePolicy] = {}

    def changed(self, entry: Entry) -> None:
        index, details = entry.index, entry.details
        if entry.actor is not None or entry.statement is not None or entry.case_id is not None:
            raise DeadlinePolicyError("a policy change is the operator's, about no case", index)
        try:
            policy = policy_from_json(details)
        except PolicyError as exc:
            raise DeadlinePolicyError(str(exc), index) from exc
        retired = details.get("retired")
        if not isinstance(retired, bool):
            raise DeadlinePolicyError("a policy change says whether it retires", index)
        expected = self._versions.get(policy.name, 0) + 1
        if policy.version != expected:
            raise DeadlinePolicyError(
                f"policy {policy.name} version {policy.version}, expected {expected}", index
            )
        if retired and policy.name not in self._in_force:
            raise DeadlinePolicyError(f"policy {policy.name} is not in force to retire", index)
        self._versions[policy.name] = policy.version
        if retired:
            del self._in_force[policy.name]
        else:
            self._in_force[policy.name] = policy

    def case_opened(self, entry: Entry, statement: Statement) -> None:
        """The case entry applied the policy in force, and its due dates follow from it."""
        index, details = entry.index, entry.details
        applied = details.get("deadline_policy")
        if not isinstance(applied, dict) or not all(
            _is_seconds(applied.get(key)) for key in _PERIOD_KEYS
        ):
            raise DeadlinePolicyError("the case entry does not record its deadline policy", index)
        meta = statement.meta_as(CaseMeta)
        facts = CaseFacts(
            meta.category, meta.priority, tuple(LegalBasis(*basis) for basis in meta.legal_basis)
        )
        periods = Periods(*(timedelta(seconds=applied[key]) for key in _PERIOD_KEYS))
        # No logged policy covers the case: the settings apply, whatever their periods.
        fallback = DeadlinePolicy(SETTINGS_POLICY, SETTINGS_VERSION, Scope(), periods)
        expected = resolve(self._in_force.values(), facts, fallback)
        if (applied.get("name"), applied.get("version")) != (expected.name, expected.version):
            raise DeadlinePolicyError(
                f"the case was given policy {_label(applied)}; "
                f"{expected.name} v{expected.version} was in force for it",
                index,
            )
        try:
            periods.check()
        except PolicyError as exc:
            raise DeadlinePolicyError(str(exc), index) from exc
        if periods != expected.periods:
            raise DeadlinePolicyError(
                f"the case records other periods than {expected.name} v{expected.version}", index
            )
        opened = parse_utc(entry.logged_at)
        for due, period in (("ack_due_at", periods.ack), ("action_due_at", periods.action)):
            if details.get(due) != format_utc(opened + period):
                raise DeadlinePolicyError(f"{due} does not follow from the policy", index)


def _is_seconds(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _label(applied: dict[str, Any]) -> str:
    return f"{str(applied.get('name'))[:64]} v{str(applied.get('version'))[:12]}"
