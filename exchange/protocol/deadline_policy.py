"""Deadline policies, pure: which periods apply to a case, decided once, when it is opened.

A policy names the cases it covers by a scope (legal basis: jurisdiction, instrument,
article; category; priority; any part may be left open) and the three periods it sets:
to acknowledge the case, to act on it, and to answer a question. The server resolves the
most specific policy in force when a case is opened and writes its name, version and
periods into the case's log entry; the auditor resolves it again from the logged policy
changes and must reach the same answer. A policy change is a new version and applies only
to cases opened after it, so past figures keep the meaning they had.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# The policy applied when no logged policy covers a case: the server's priority table
# (EXCHANGE_DEADLINES). It is not a logged policy, so its version is 0; the periods
# written into the case entry are still the ones that applied.
SETTINGS_POLICY = "settings"
SETTINGS_VERSION = 0
NAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,62}[a-z0-9])?", re.ASCII)
MAX_PERIOD = timedelta(days=365)
# How long the other side has to answer a question when no policy says otherwise.
DEFAULT_ANSWER_SECONDS: Mapping[str, int] = {
    "urgent": 24 * 3600,
    "high": 48 * 3600,
    "normal": 72 * 3600,
}
_DURATION_RE = re.compile(r"([1-9][0-9]{0,6})([smhd]?)", re.ASCII)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class PolicyError(ValueError):
    """A deadline policy that cannot be in force; the message says why."""


@dataclass(frozen=True, slots=True)
class LegalBasis:
    jurisdiction: str
    instrument: str
    article: str


@dataclass(frozen=True, slots=True)
class Scope:
    """Which cases a policy covers. None matches anything."""

    jurisdiction: str | None = None
    instrument: str | None = None
    article: str | None = None
    category: str | None = None
    priority: str | None = None

    def check(self) -> None:
        if self.article is not None and self.instrument is None:
            raise PolicyError("an article belongs to an instrument: give the instrument too")
        if self.instrument is not None and self.jurisdiction is None:
            raise PolicyError("an instrument belongs to a jurisdiction: give it too")

    def specificity(self) -> tuple[bool, bool, bool, bool, bool]:
        """Orders scopes: the law first (article, instrument, jurisdiction), then the
        category, then the priority. The law outranks the category because a statute's
        period binds whatever the content is."""
        return (
            self.article is not None,
            self.instrument is not None,
            self.jurisdiction is not None,
            self.category is not None,
            self.priority is not None,
        )

    def matches(self, facts: "CaseFacts") -> bool:
        if self.category is not None and self.category != facts.category:
            return False
        if self.priority is not None and self.priority != facts.priority:
            return False
        if self.jurisdiction is None:
            return True
        return any(
            self.jurisdiction == basis.jurisdiction
            and self.instrument in (None, basis.instrument)
            and self.article in (None, basis.article)
            for basis in facts.legal_basis
        )

    def to_json(self) -> dict[str, str | None]:
        return {
            "jurisdiction": self.jurisdiction,
            "instrument": self.instrument,
            "article": self.article,
            "category": self.category,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True)
class Periods:
    ack: timedelta
    action: timedelta
    answer: timedelta

    def check(self) -> None:
        for name, period in (("ack", self.ack), ("action", self.action), ("answer", self.answer)):
            if not timedelta(seconds=1) <= period <= MAX_PERIOD:
                raise PolicyError(f"the {name} period must be between 1 s and 365 days")
        if self.ack > self.action:
            raise PolicyError("the ack period must not be longer than the action period")

    def to_json(self) -> dict[str, int]:
        return {
            "ack_within": int(self.ack.total_seconds()),
            "action_within": int(self.action.total_seconds()),
            "answer_within": int(self.answer.total_seconds()),
        }


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the server knows of a case when it opens it (from the signed case meta)."""

    category: str
    priority: str
    legal_basis: tuple[LegalBasis, ...] = ()


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    name: str
    version: int
    scope: Scope
    periods: Periods

    def applied(self) -> dict[str, Any]:
        """What a case entry records of the policy that applied to it."""
        return {"name": self.name, "version": self.version, **self.periods.to_json()}


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name) or name == SETTINGS_POLICY:
        raise PolicyError(
            f"policy name {name!r} must be 1-64 lowercase letters, digits, dots or inner "
            f"hyphens, and not {SETTINGS_POLICY!r}"
        )
    return name


def parse_period(text: str) -> timedelta:
    """`90s`, `30m`, `24h`, `7d`, or plain seconds."""
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None:
        raise PolicyError(f"{text!r} is not a period such as 30m, 24h or 7d")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def resolve(
    policies: Iterable[DeadlinePolicy], facts: CaseFacts, fallback: DeadlinePolicy
) -> DeadlinePolicy:
    """The most specific policy in force that covers the case; ties go to the first name."""
    covering = [policy for policy in policies if policy.scope.matches(facts)]
    if not covering:
        return fallback
    return min(covering, key=lambda p: (tuple(not s for s in p.scope.specificity()), p.name))


def settings_policy(
    priority: str,
    deadlines: Mapping[str, tuple[timedelta, timedelta]],
    answers: Mapping[str, timedelta],
) -> DeadlinePolicy:
    """The fallback for a priority, from the server's settings."""
    ack, action = deadlines[priority]
    return DeadlinePolicy(
        SETTINGS_POLICY,
        SETTINGS_VERSION,
        Scope(priority=priority),
        Periods(ack, action, answers[priority]),
    )


def policy_from_json(document: Mapping[str, Any]) -> DeadlinePolicy:
    """A policy as logged in a `deadline_policy_changed` entry (PolicyError if malformed)."""
    try:
        scope = Scope(**{key: _optional_text(document["scope"][key]) for key in _SCOPE_KEYS})
        periods = Periods(*(timedelta(seconds=_seconds(document[key])) for key in _PERIOD_KEYS))
        version = document["version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise PolicyError("a logged policy's version is a positive integer")
        policy = DeadlinePolicy(check_name(str(document["name"])), version, scope, periods)
    except (KeyError, TypeError) as exc:
        raise PolicyError(f"not a deadline policy: {exc}") from exc
    scope.check()
    periods.check()
    return policy


def policy_to_json(policy: DeadlinePolicy) -> dict[str, Any]:
    return {
        "name": policy.name,
        "version": policy.version,
        "scope": policy.scope.to_json(),
        **policy.periods.to_json(),
    }


_SCOPE_KEYS = ("jurisdiction", "instrument", "article", "category", "priority")
_PERIOD_KEYS = ("ack_within", "action_within", "answer_within")


def _optional_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError("scope values are strings or null")


def _seconds(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError("periods are whole seconds")
