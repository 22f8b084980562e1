"""The operator's deadline policies: set, retire, and the one in force for a new case.

Every change is a new version with its `deadline_policy_changed` entry, appended in the
same transaction; nothing already logged is rewritten, so a change never reaches back to
cases opened before it (their entries carry the periods that applied).
"""

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange import log
from exchange.errors import AlreadyExistsError, NotFoundError, UnprocessableError
from exchange.protocol.deadline_policy import (
    CaseFacts,
    DeadlinePolicy,
    Periods,
    PolicyError,
    Scope,
    check_name,
    policy_to_json,
    resolve,
)
from exchange.protocol.events import Event
from exchange.storage.models import DeadlinePolicyVersion
from schemas.enums import Category, Priority

_JURISDICTION_RE = re.compile(r"[A-Z]{2}", re.ASCII)
_TEXT_LIMITS = {"instrument": 200, "article": 100}


def set_policy(
    session: Session, now: datetime, name: str, scope: Scope, periods: Periods
) -> DeadlinePolicy:
    """Put the next version of policy `name` in force, for cases opened from now on."""
    try:
        check_name(name)
        scope.check()
        periods.check()
    except PolicyError as exc:
        raise UnprocessableError(str(exc)) from exc
    _check_scope(scope)
    same_scope = [p.name for p in in_force(session) if p.scope == scope and p.name != name]
    if same_scope:
        raise AlreadyExistsError(
            f"policy {same_scope[0]} already covers exactly this scope; change or retire it"
        )
    latest = _latest(session, name)
    policy = DeadlinePolicy(name, latest.version + 1 if latest else 1, scope, periods)
    _record(session, now, policy, retired=False)
    return policy


def retire_policy(session: Session, now: datetime, name: str) -> DeadlinePolicy:
    """Take policy `name` out of force for cases opened from now on."""
    latest = _latest(session, name)
    if latest is None or latest.retired:
        raise NotFoundError(f"no deadline policy {name} in force")
    policy = DeadlinePolicy(name, latest.version + 1, _scope_of(latest), _periods_of(latest))
    _record(session, now, policy, retired=True)
    return policy


def in_force(session: Session) -> list[DeadlinePolicy]:
    """The newest version of every policy that is not retired, by name."""
    newest: dict[str, DeadlinePolicyVersion] = {}
    for row in session.scalars(
        select(DeadlinePolicyVersion).order_by(
            DeadlinePolicyVersion.name, DeadlinePolicyVersion.version
        )
    ):
        newest[row.name] = row
    return [_policy_of(row) for row in newest.values() if not row.retired]


def history(session: Session, name: str | None = None) -> Sequence[DeadlinePolicyVersion]:
    query = select(DeadlinePolicyVersion).order_by(
        DeadlinePolicyVersion.name, DeadlinePolicyVersion.version
    )
    if name:
        query = query.where(DeadlinePolicyVersion.name == name)
    return session.scalars(query).all()


def for_case(session: Session, facts: CaseFacts, fallback: DeadlinePolicy) -> DeadlinePolicy:
    return resolve(in_force(session), facts, fallback)


def _check_scope(scope: Scope) -> None:
    if scope.category is not None and scope.category not in set(Category):
        raise UnprocessableError(f"category must be one of {', '.join(Category)}")
    if scope.priority is not None and scope.priority not in set(Priority):
        raise UnprocessableError(f"priority must be one of {', '.join(Priority)}")
    if scope.jurisdiction is not None and not _JURISDICTION_RE.fullmatch(scope.jurisdiction):
        raise UnprocessableError("jurisdiction must be an ISO 3166-1 alpha-2 code or EU")
    for field, limit in _TEXT_LIMITS.items():
        value = getattr(scope, field)
        if value is not None and not 1 <= len(value) <= limit:
            raise UnprocessableError(f"{field} must be 1-{limit} characters")


def _latest(session: Session, name: str) -> DeadlinePolicyVersion | None:
    return session.scalars(
        select(DeadlinePolicyVersion)
        .where(DeadlinePolicyVersion.name == name)
        .order_by(DeadlinePolicyVersion.version.desc())
        .limit(1)
    ).first()


def _record(session: Session, now: datetime, policy: DeadlinePolicy, *, retired: bool) -> None:
    appended = log.append(
        session,
        Event.DEADLINE_POLICY_CHANGED,
        now,
        details={**policy_to_json(policy), "retired": retired},
    )
    scope, periods = policy.scope, policy.periods.to_json()
    session.add(
        DeadlinePolicyVersion(
            name=policy.name,
            version=policy.version,
            jurisdiction=scope.jurisdiction,
            instrument=scope.instrument,
            article=scope.article,
            category=scope.category,
            priority=scope.priority,
            ack_seconds=periods["ack_within"],
            action_seconds=periods["action_within"],
            answer_seconds=periods["answer_within"],
            retired=retired,
            changed_at=now,
            log_index=appended.index,
        )
    )


def _scope_of(row: DeadlinePolicyVersion) -> Scope:
    return Scope(row.jurisdiction, row.instrument, row.article, row.category, row.priority)


def _periods_of(row: DeadlinePolicyVersion) -> Periods:
    return Periods(
        timedelta(seconds=row.ack_seconds),
        timedelta(seconds=row.action_seconds),
        timedelta(seconds=row.answer_seconds),
    )


def _policy_of(row: DeadlinePolicyVersion) -> DeadlinePolicy:
    return DeadlinePolicy(row.name, row.version, _scope_of(row), _periods_of(row))
