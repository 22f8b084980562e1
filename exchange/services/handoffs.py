"""Accepting a handoff: every check, the state change, the inbox and the log entry.

Runs inside the route's write transaction and commits nothing. The order matters: the
signature is checked before anything is looked up for the sender, and a byte-identical
re-post is answered before any check that could have changed since the first post (the
clock, the state), so a client's retry always gets the original answer.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from exchange import log
from exchange.errors import (
    CaseExistsError,
    CaseMismatchError,
    ForbiddenError,
    HandoffConflictError,
    InvalidAssigneeError,
    InvalidTransitionError,
    ReceiptMismatchError,
    SenderMismatchError,
    UnknownHandoffError,
    WrongAddresseeError,
    WrongEndpointError,
)
from exchange.log import Actor
from exchange.protocol import workflow
from exchange.protocol.deadline_policy import (
    DEFAULT_ANSWER_SECONDS,
    DeadlinePolicy,
    settings_policy,
)
from exchange.protocol.envelope import Envelope, Limits, VerifiedStatement, verify_statement
from exchange.protocol.envelope.errors import UnknownSignerKeyError
from exchange.protocol.events import Event
from exchange.protocol.key_usage import KeyPurpose, usable
from exchange.protocol.workflow import Side, State, TransitionError
from exchange.services import addressing, deadlines, directory, inbox, notifications
from exchange.services.caller import Caller
from exchange.services.clock import check_issued_at
from exchange.services.visibility import can_see, side_of, visible_case
from exchange.storage.models import (
    Case,
    Handoff,
    Official,
    OfficialKey,
    Organisation,
    Question,
    table,
)
from keys.b64 import b64url_decode, b64url_encode
from schemas.common import format_utc
from schemas.enums import Kind, Role
from schemas.statement import (
    AssignmentMeta,
    CaseMeta,
    QuestionMeta,
    ReceiptMeta,
    ResponseMeta,
    Statement,
    SupplementMeta,
)

# The reads every handoff makes, built once: building a statement costs several times what
# running it does, and these run under the log's write lock.
_HANDOFFS: Final = table(Handoff)
_CASES: Final = table(Case)
_PRIOR_POST: Final = select(_HANDOFFS.c.envelope_sha256, _HANDOFFS.c.sender_official).where(
    _HANDOFFS.c.id == bindparam("id")
)
_NEW_CASE: Final = insert(_CASES)
_NEW_HANDOFF: Final = insert(_HANDOFFS)
_HANDOFF_TAKEN: Final = select(_HANDOFFS.c.id).where(_HANDOFFS.c.id == bindparam("handoff_id"))
# What a new case reads under the lock, in one statement: whether the directory moved since
# the check, and whether its handoff id, its case id or the sender's reference is taken.
_OPENING_READ: Final = select(
    addressing.VERSION.scalar_subquery().label("version"),
    _HANDOFF_TAKEN.scalar_subquery().label("handoff_taken"),
    select(_CASES.c.id)
    .where(_CASES.c.id == bindparam("case_id"))
    .scalar_subquery()
    .label("case_taken"),
    select(_CASES.c.id)
    .where(
        _CASES.c.issuer_org == bindparam("issuer_org"),
        _CASES.c.issuer_case_ref == bindparam("issuer_case_ref"),
    )
    .limit(1)
    .scalar_subquery()
    .label("reference_taken"),
)


@dataclass(frozen=True)
class _OpeningRead:
    version: int
    handoff_taken: str | None
    case_taken: str | None
    reference_taken: str | None


def _opening_read(session: Session, caller: Caller, statement: VerifiedStatement) -> _OpeningRead:
    row = session.execute(
        _OPENING_READ,
        {
            "handoff_id": statement.handoff_id,
            "case_id": statement.case_id,
            "issuer_org": caller.org_id,
            "issuer_case_ref": statement.statement.meta_as(CaseMeta).issuer_case_ref,
        },
    ).one()
    if row.version is None:
        raise LookupError("the directory version row is missing: run the migrations")
    return _OpeningRead(row.version, row.handoff_taken, row.case_taken, row.reference_taken)


@dataclass(frozen=True)
class Policy:
    skew: timedelta
    limits: Limits
    # (acknowledge within, act within) by priority: the fallback where no deadline policy
    # covers a case
    deadlines: Mapping[str, tuple[timedelta, timedelta]]
    # answer a question within, by priority: the same fallback's third period
    answers: Mapping[str, timedelta] = field(
        default_factory=lambda: {
            priority: timedelta(seconds=seconds)
            for priority, seconds in DEFAULT_ANSWER_SECONDS.items()
        }
    )


@dataclass(frozen=True)
class Accepted:
    handoff: Handoff
    case: Case
    replayed: bool


def envelope_digest(envelope: Envelope) -> str:
    return b64url_encode(hashlib.sha256(envelope.canonical_bytes).digest())


@dataclass(frozen=True)
class Checked:
    """A handoff whose envelope passed every check that needs no write lock.

    `statement` is None for a byte-identical re-post of the handoff `repost_of`.
    """

    envelope: Envelope
    digest: str
    case_id: str | None
    statement: VerifiedStatement | None
    repost_of: str | None = None
    # A new case's addressing, read with the rest of the check (`services.addressing`).
    opening: addressing.Opening | None = None


def check(
    session: Session, policy: Policy, caller: Caller, envelope: Envelope, case_id: str | None
) -> Checked:
    """Verify the envelope with the caller's active keys, in a read transaction.

    This is most of a handoff's work, and none of it needs the write lock: concurrent
    requests verify in parallel, and only `accept` is serialised. A new case is also
    addressed here; the directory's version, read first, tells `accept` whether that
    addressing (and the signing key's standing) still holds under the lock.
    """
    version = addressing.directory_version(session) if case_id is None else None
    digest = envelope_digest(envelope)
    repost = _identical_repost(session, caller, envelope, digest)
    if repost is not None:
        return Checked(envelope, digest, case_id, None, repost)
    keys = (
        addressing.signing_keys(session, version, caller.official_id)
        if version is not None
        else directory.signing_keys(session, caller.official_id)
    )
    statement = verify_statement(envelope, keys, policy.limits)
    sender = statement.statement.sender
    if (sender.org, sender.official) != (caller.org_id, caller.official_id):
        raise SenderMismatchError("the statement's sender must be the authenticated official")
    if (statement.kind == Kind.CASE) != (case_id is None):
        where = "POST /v1/cases" if statement.kind == Kind.CASE else "POST /v1/cases/{id}/handoffs"
        raise WrongEndpointError(f"a {statement.kind} is sent to {where}")
    if case_id is not None and statement.case_id != case_id:
        raise CaseMismatchError(f"the statement is for case {statement.case_id}, not {case_id}")
    opening = (
        addressing.opening(
            session, version, _fallback(policy, statement), caller, envelope, statement
        )
        if version is not None
        else None
    )
    return Checked(envelope, digest, case_id, statement, opening=opening)


def _fallback(policy: Policy, statement: VerifiedStatement) -> DeadlinePolicy:
    """The settings' deadlines for a new case that no deadline policy covers."""
    return settings_policy(
        statement.statement.meta_as(CaseMeta).priority, policy.deadlines, policy.answers
    )


def accept(
    session: Session, now: datetime, policy: Policy, caller: Caller, checked: Checked
) -> Accepted:
    """Accept a checked handoff: a new case, or the next handoff of its case."""
    if checked.repost_of is not None:
        existing = session.get(Handoff, checked.repost_of)
        if existing is None:
            raise LookupError(f"handoff {checked.repost_of} vanished from an append-only table")
        # Still the caller's case? If it was reassigned away, it is missing for them now.
        return Accepted(existing, visible_case(session, caller, existing.case_id), replayed=True)
    statement = checked.statement
    if statement is None:
        raise ValueError("a checked handoff has a statement or is a re-post")
    opening = checked.opening
    read = _opening_read(session, caller, statement) if checked.case_id is None else None
    if opening is not None and (read is None or read.version != opening.version):
        opening = None  # the directory changed since the check: read it again, under the lock
    if opening is None:
        _check_signer_key(session, caller, statement)
    # A case the caller may not see is missing, whatever else is wrong with the handoff.
    case = visible_case(session, caller, checked.case_id) if checked.case_id else None
    handoff_taken = (
        read.handoff_taken
        if read is not None
        else session.scalar(_HANDOFF_TAKEN, {"handoff_id": statement.handoff_id})
    )
    if handoff_taken is not None:
        existing = session.get(Handoff, statement.handoff_id)
        if existing is None:
            raise LookupError(f"handoff {statement.handoff_id} vanished within a transaction")
        return _repeated(session, caller, existing, checked.digest)
    check_issued_at(statement.statement.issued_at, now, policy.skew)
    if case is None:
        if opening is None:
            opening = addressing.opening(
                session,
                addressing.directory_version(session),
                _fallback(policy, statement),
                caller,
                checked.envelope,
                statement,
            )
        if read is None:
            raise ValueError("a new case is read with its opening")
        return _open_case(
            session, now, caller, checked.envelope, statement, checked.digest, opening, read
        )
    return _continue_case(
        session, now, policy, caller, case, checked.envelope, statement, checked.digest
    )


def _check_signer_key(session: Session, caller: Caller, statement: VerifiedStatement) -> None:
    key = session.get(OfficialKey, statement.kid)
    if (
        key is None
        or not usable(key.use, key.status, KeyPurpose.SIGN)
        or key.official_id != caller.official_id
    ):
        # Retired between the check and now (a rotation raced this request).
        raise UnknownSignerKeyError(f"statement is signed by key {statement.kid}, no longer active")


def _identical_repost(
    session: Session, caller: Caller, envelope: Envelope, digest: str
) -> str | None:
    """The handoff a byte-identical re-post by its sender repeats, if it is one.

    Its first answer is due even after a key rotation: these exact bytes were verified when
    first accepted, so equal digests stand in for a second verification, which the
    sender's since-retired key could no longer pass.
    """
    try:
        claimed = json.loads(b64url_decode(envelope.statement.split(".")[1]))["handoff_id"]
    except (IndexError, KeyError, TypeError, ValueError):
        return None  # not even well-formed: the full checks say why
    if not isinstance(claimed, str):
        return None
    prior = session.execute(_PRIOR_POST, {"id": claimed}).first()
    if prior is None or tuple(prior) != (digest, caller.official_id):
        return None
    return claimed


def _repeated(session: Session, caller: Caller, existing: Handoff, digest: str) -> Accepted:
    """A handoff_id seen before: the same bytes get the first answer, anything else a 409."""
    case = session.get(Case, existing.case_id)
    if case is None or not can_see(caller, case):
        # Name no case the caller may not see (they may have copied the id from the log).
        raise HandoffConflictError(f"handoff_id {existing.id} is taken; use a new one")
    if existing.envelope_sha256 == digest:
        return Accepted(existing, case, replayed=True)
    raise HandoffConflictError(
        f"handoff {existing.id} of case {case.id} exists with other content", case_id=case.id
    )


def _open_case(
    session: Session,
    now: datetime,
    caller: Caller,
    envelope: Envelope,
    statement: VerifiedStatement,
    digest: str,
    opening: addressing.Opening,
    read: _OpeningRead,
) -> Accepted:
    signed = statement.statement
    meta = signed.meta_as(CaseMeta)
    if read.case_taken is not None:
        raise CaseExistsError(f"case {statement.case_id} exists", case_id=statement.case_id)
    if read.reference_taken is not None:
        raise CaseExistsError(
            f"your organisation's case {meta.issuer_case_ref} is case {read.reference_taken}",
            case_id=read.reference_taken,
        )
    if opening.refusal is not None:
        raise opening.refusal
    applied = opening.policy
    if applied is None:
        raise ValueError("an opening that refuses nothing has its deadline policy")
    row: dict[str, Any] = {
        "id": statement.case_id,
        "issuer_org": caller.org_id,
        "issuer_official": caller.official_id,
        "issuer_case_ref": meta.issuer_case_ref,
        "platform_org": opening.platform_id,
        "category": meta.category,
        "priority": meta.priority,
        "minor_involved": meta.minor_involved,
        "request_type": meta.request_type,
        "item_count": meta.item_count,
        "state": State.SUBMITTED,
        "outcome": None,
        "assignee_id": opening.assignee_id,
        "submitted_at": now,
        "ack_due_at": now + applied.periods.ack,
        "action_due_at": now + applied.periods.action,
        "acknowledged_at": None,
        "responded_at": None,
        "withdrawn_at": None,
        "closed_at": None,
        "updated_at": now,
        "policy_name": applied.name,
        "policy_version": applied.version,
        "answer_within_seconds": int(applied.periods.answer.total_seconds()),
    }
    # Inserted as a row, not through the unit of work (under the log's lock, a flush costs
    # several times the INSERT); the object, never added to the session, carries it on.
    session.execute(_NEW_CASE, row)
    case = Case(**row)
    details = {
        "to": list(signed.to),
        "state": str(State.SUBMITTED),
        "assignee": case.assignee_id,
        "ack_due_at": format_utc(case.ack_due_at),
        "action_due_at": format_utc(case.action_due_at),
        "deadline_policy": applied.applied(),
    }
    handoff = _record(session, now, caller, case, envelope, statement, digest, details, opening)
    return Accepted(handoff, case, replayed=False)


def _continue_case(
    session: Session,
    now: datetime,
    policy: Policy,
    caller: Caller,
    case: Case,
    envelope: Envelope,
    statement: VerifiedStatement,
    digest: str,
) -> Accepted:
    signed, kind = statement.statement, statement.kind
    side = side_of(caller, case)
    if side is None:
        raise ForbiddenError("only the case's agency and platform officials send handoffs")
    if kind == Kind.ASSIGNMENT and caller.role != Role.PLATFORM_LEAD:
        raise ForbiddenError("only a platform lead assigns cases")
    counterpart = case.platform_org if side == Side.AGENCY else case.issuer_org
    expected_to = [case.platform_org] if kind == Kind.ASSIGNMENT else [counterpart]
    if list(signed.to) != expected_to:
        raise WrongAddresseeError(f"a {kind} of this case is addressed to {expected_to}")
    replied = session.get(Handoff, signed.in_reply_to) if signed.in_reply_to else None
    if replied is None or replied.case_id != case.id:
        raise UnknownHandoffError(f"in_reply_to names no handoff of case {case.id}")
    if kind == Kind.RECEIPT:
        _check_receipt(signed.meta_as(ReceiptMeta), replied, caller, case)
    if kind == Kind.ASSIGNMENT:
        _check_assignee(session, case, signed.meta_as(AssignmentMeta).assignee)
    response = signed.meta if isinstance(signed.meta, ResponseMeta) else None
    verification = signed.meta if isinstance(signed.meta, SupplementMeta) else None
    state = State(case.state)
    try:
        new_state = workflow.transition(
            state,
            kind,
            side,
            acknowledged_kind=replied.kind,
            outcome=response.outcome if response else None,
            reason_code=response.reason_code if response else None,
            verifies=bool(verification and verification.verification),
            reopens=bool(verification and verification.reopens),
        )
    except TransitionError as exc:
        raise InvalidTransitionError(str(exc), state=case.state) from exc
    recipient = session.get(Organisation, counterpart)
    if recipient is not None:
        addressing.check_recipients(session, envelope, recipient.id, caller.org_id)
    deadlines.record_passed(session, now, case)
    _apply(case, new_state, signed, replied, now)
    details: dict[str, Any] = {"to": list(signed.to), "state": str(new_state)}
    if response is not None and workflow.supersedes(state, new_state):
        details["supersedes"] = str(state)
    if kind == Kind.ASSIGNMENT:
        details["assignee"] = case.assignee_id
    if kind == Kind.WITHDRAWAL:
        # The platform acknowledges a withdrawal within the case's acknowledgement period.
        case.withdrawal_ack_due_at = now + (case.ack_due_at - case.submitted_at)
        details["ack_due_at"] = format_utc(case.withdrawal_ack_due_at)
    if new_state == State.REOPENED and state != State.REOPENED:
        # A new final answer is due within the case's action period, from now.
        case.reopened_by = statement.handoff_id
        case.reopened_due_at = now + (case.action_due_at - case.submitted_at)
        details["reopened_due_at"] = format_utc(case.reopened_due_at)
    question_due = None
    if kind == Kind.QUESTION:
        question_due = _answer_due(policy, case, signed.meta_as(QuestionMeta), now)
        details["answer_due_at"] = format_utc(question_due)
    handoff = _record(session, now, caller, case, envelope, statement, digest, details)
    if question_due is not None:
        session.add(
            Question(
                handoff_id=handoff.id,
                case_id=case.id,
                asked_by_org=caller.org_id,
                due_at=question_due,
                answered_at=None,
                answer_handoff_id=None,
            )
        )
    elif kind in (Kind.SUPPLEMENT, Kind.RESPONSE) and replied.kind == Kind.QUESTION:
        _answered(session, replied, handoff, now)
    return Accepted(handoff, case, replayed=False)


def _answer_due(policy: Policy, case: Case, meta: QuestionMeta, now: datetime) -> datetime:
    """When a question must be answered: the asker's answer_by, but never sooner than the
    case's policy allows (a short date must not trap the other side)."""
    within = (
        timedelta(seconds=case.answer_within_seconds)
        if case.answer_within_seconds is not None
        else policy.answers[case.priority]
    )
    floor = now + within
    return max(meta.answer_by, floor) if meta.answer_by is not None else floor


def _answered(session: Session, question: Handoff, answer: Handoff, now: datetime) -> None:
    """The other side's first supplement or response naming the question answers it."""
    open_question = session.get(Question, question.id)
    if (
        open_question is not None
        and open_question.answered_at is None
        and open_question.asked_by_org != answer.sender_org
    ):
        open_question.answered_at = now
        open_question.answer_handoff_id = answer.id


def _check_receipt(meta: ReceiptMeta, acknowledged: Handoff, caller: Caller, case: Case) -> None:
    if acknowledged.sender_org == caller.org_id:
        raise InvalidTransitionError(
            "a receipt acknowledges the other side's handoff", state=case.state
        )
    if meta.record_sha256 != acknowledged.record_sha256:
        raise ReceiptMismatchError(
            "the record you decrypted is not the one the sender signed for",
            expected=acknowledged.record_sha256,
        )


def _check_assignee(session: Session, case: Case, assignee_id: str) -> None:
    assignee = session.get(Official, assignee_id)
    if (
        assignee is None
        or not assignee.active
        or assignee.org_id != case.platform_org
        or assignee.role not in (Role.PLATFORM_OFFICIAL, Role.PLATFORM_LEAD)
    ):
        raise InvalidAssigneeError(
            f"{assignee_id} is not an active official of {case.platform_org}"
        )


def _apply(
    case: Case, new_state: State, signed: Statement, replied: Handoff, now: datetime
) -> None:
    kind, meta = signed.kind, signed.meta
    if kind == Kind.RECEIPT and replied.kind == Kind.CASE:
        case.acknowledged_at = now
    elif isinstance(meta, ResponseMeta) and meta.final:
        # The first final answer met (or missed) the action deadline; a later one (the
        # rest of a partial action, or acting after a refusal) updates the outcome only.
        case.responded_at = case.responded_at or now
        case.outcome = meta.outcome
    elif kind == Kind.WITHDRAWAL:
        case.withdrawn_at = now
    elif kind == Kind.CLOSURE:
        case.closed_at = now
    elif isinstance(meta, AssignmentMeta):
        case.assignee_id = meta.assignee
    case.state = new_state
    case.updated_at = now


def _record(
    session: Session,
    now: datetime,
    caller: Caller,
    case: Case,
    envelope: Envelope,
    statement: VerifiedStatement,
    digest: str,
    details: dict[str, Any],
    opening: addressing.Opening | None = None,
) -> Handoff:
    signed = statement.statement
    appended = log.append(
        session,
        Event(statement.kind),
        now,
        actor=Actor(caller.org_id, caller.official_id, statement.kid),
        case_id=case.id,
        handoff_id=statement.handoff_id,
        statement=statement.token,
        jwe_sha256=signed.jwe_sha256,
        details=details,
    )
    row: dict[str, Any] = {
        "id": statement.handoff_id,
        "case_id": case.id,
        "kind": statement.kind,
        "sender_org": caller.org_id,
        "sender_official": caller.official_id,
        "kid": statement.kid,
        "in_reply_to": signed.in_reply_to,
        "issued_at": signed.issued_at,
        "received_at": now,
        "statement": statement.token,
        "jwe": envelope.jwe_bytes.decode() if envelope.jwe_bytes is not None else None,
        "jwe_sha256": signed.jwe_sha256,
        "record_sha256": signed.record_sha256,
        "envelope_sha256": digest,
        "state_after": details["state"],
        "log_index": appended.index,
    }
    session.execute(_NEW_HANDOFF, row)
    handoff = Handoff(**row)
    if opening is None:
        recipients = inbox.recipients(session, case, handoff)
        inbox.deliver(session, now, handoff, recipients)
        notifications.for_handoff(session, now, case, handoff, recipients)
    else:
        inbox.deliver(session, now, handoff, opening.inbox)
        notifications.for_handoff(session, now, case, handoff, opening.inbox, opening.targets)
    return handoff
