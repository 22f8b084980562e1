"""Organisations sign their own membership: statements by a current lead, on record.

Inviting an official, approving them (with a handling role, categories, lead or not),
removing them and routing a category all take a membership statement signed by a
current lead of the organisation: an active, approved official whose `lead` flag was set
by the operator's bootstrap or by another lead's statement. Each statement is logged
verbatim with its signer, once (its `statement_id` is kept), in the same transaction as
the change. The operator's own invitations stay pending until a lead approves them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange import log
from exchange.errors import (
    AlreadyExistsError,
    InvalidMembershipStatementError,
    LastLeadError,
    NotFoundError,
    NotLeadError,
    OtherOrganisationLeadError,
    StatementReplayedError,
    UnknownOfficialError,
    UnprocessableError,
)
from exchange.log import Actor
from exchange.protocol import key_management
from exchange.protocol.envelope.errors import EnvelopeError
from exchange.protocol.events import Event
from exchange.services import directory, operator
from exchange.services.caller import Caller
from exchange.services.clock import check_issued_at
from exchange.storage.models import (
    LeadReplacement,
    MembershipStatement,
    Official,
    Organisation,
    Route,
)
from schemas.enums import OrgKind
from schemas.membership import Membership, MembershipAction, load_membership


@dataclass(frozen=True)
class MembershipChange:
    event: Event
    official: Official
    log_index: int
    code: str | None = None  # the enrollment code of an invitation, for the lead to hand over


def is_current_lead(official: Official) -> bool:
    return official.active and official.approved and official.lead


def _verified(session: Session, caller: Caller, statement: str) -> Membership:
    """The statement, signed by one of the caller's active signing keys."""
    try:
        return key_management.verify(
            statement, directory.signing_keys(session, caller.official_id), load_membership
        )
    except EnvelopeError as exc:
        raise InvalidMembershipStatementError(
            f"the membership statement is not acceptable: {exc}"
        ) from exc


def _signer(session: Session, caller: Caller, org: Organisation) -> Official:
    signer = session.get(Official, caller.official_id)
    if signer is None or not is_current_lead(signer):
        raise NotLeadError(f"{caller.official_id} is not a current lead of {org.id}")
    if signer.org_id != org.id:
        raise OtherOrganisationLeadError(
            f"{caller.official_id} is a lead of {signer.org_id}, not of {org.id}"
        )
    return signer


def _member(session: Session, org: Organisation, official_id: str | None) -> Official:
    official = session.get(Official, official_id) if official_id else None
    if official is None or official.org_id != org.id or not official.active:
        raise UnknownOfficialError(f"{official_id} is not an active official of {org.id}")
    return official


def _current_leads(session: Session, org_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Official)
            .where(
                Official.org_id == org_id,
                Official.active.is_(True),
                Official.approved.is_(True),
                Official.lead.is_(True),
            )
        )
        or 0
    )


def _keeps_a_lead(session: Session, org_id: str, official: Official, stays_lead: bool) -> None:
    if is_current_lead(official) and not stays_lead and _current_leads(session, org_id) <= 1:
        raise LastLeadError(f"{official.id} is the last lead of {org_id}: approve another first")


def apply(
    session: Session,
    now: datetime,
    skew: timedelta,
    code_ttl: timedelta,
    caller: Caller,
    org_id: str,
    statement: str,
) -> MembershipChange:
    """Verify a lead's membership statement for `org_id`, make the change, log it."""
    org = session.get(Organisation, org_id)
    if org is None or not org.active:
        raise NotFoundError(f"no active organisation {org_id}")
    signed = _verified(session, caller, statement)
    if signed.org != org.id:
        raise InvalidMembershipStatementError(f"the statement is for {signed.org}, not {org.id}")
    _signer(session, caller, org)
    if session.get(MembershipStatement, signed.statement_id) is not None:
        raise StatementReplayedError(f"statement {signed.statement_id} was already applied")
    check_issued_at(signed.issued_at, now, skew)
    official, details, code = _CHANGES[signed.action](session, now, code_ttl, org, signed)
    event = _EVENTS[signed.action]
    appended = log.append(
        session,
        event,
        now,
        actor=Actor(caller.org_id, caller.official_id, key_management.signer_kid(statement)),
        statement=statement,
        details=details,
    )
    session.add(
        MembershipStatement(
            statement_id=signed.statement_id, org_id=org.id, log_index=appended.index
        )
    )
    return MembershipChange(event, official, appended.index, code)


_Change = tuple[Official, dict[str, Any], str | None]


def _membership_details(official: Official) -> dict[str, Any]:
    return {
        "org": official.org_id,
        "official": official.id,
        "role": official.role,
        "categories": list(official.categories),
        "lead": official.lead,
    }


def _invite(
    session: Session, now: datetime, code_ttl: timedelta, org: Organisation, signed: Membership
) -> _Change:
    assert signed.official is not None  # the schema requires them
    assert signed.role is not None
    existing = session.get(Official, signed.official)
    if existing is not None and existing.org_id != org.id:
        raise AlreadyExistsError(f"official {signed.official} belongs to {existing.org_id}")
    if existing is not None:
        _keeps_a_lead(session, org.id, existing, signed.lead)
    official, code = operator.issue_invitation(
        session,
        now,
        code_ttl,
        org_id=org.id,
        official_id=signed.official,
        role=signed.role,
        title=signed.title,
        categories=signed.categories,
    )
    official.approved, official.lead = True, signed.lead
    return official, {**_membership_details(official), "title": signed.title}, code


def _approve(
    session: Session, now: datetime, code_ttl: timedelta, org: Organisation, signed: Membership
) -> _Change:
    official = _member(session, org, signed.official)
    assert signed.role is not None
    if signed.role not in operator.ROLES_OF_KIND[org.kind]:
        allowed = ", ".join(sorted(operator.ROLES_OF_KIND[org.kind]))
        raise UnprocessableError(f"a {org.kind} official's role must be one of: {allowed}")
    _keeps_a_lead(session, org.id, official, signed.lead)
    official.role, official.categories = signed.role, list(signed.categories)
    official.approved, official.lead = True, signed.lead
    return official, _membership_details(official), None


def _remove(
    session: Session, now: datetime, code_ttl: timedelta, org: Organisation, signed: Membership
) -> _Change:
    official = _member(session, org, signed.official)
    _keeps_a_lead(session, org.id, official, stays_lead=False)
    official.active, official.approved, official.deactivated_at = False, False, now
    for route in session.scalars(select(Route).where(Route.official_id == official.id)):
        session.delete(route)
    return official, {"org": org.id, "official": official.id}, None


def _route(
    session: Session, now: datetime, code_ttl: timedelta, org: Organisation, signed: Membership
) -> _Change:
    if org.kind != OrgKind.PLATFORM:
        raise UnprocessableError(f"{org.id} is not a platform: only platforms route cases")
    official = _member(session, org, signed.official)
    if not official.approved:
        raise UnprocessableError(f"{official.id} is not approved: approve them first")
    assert signed.category is not None
    route = session.get(Route, (org.id, signed.category))
    if route is None:
        route = Route(platform_id=org.id, category=signed.category, official_id=official.id)
        session.add(route)
    route.official_id = official.id
    details = {"platform": org.id, "category": signed.category, "official": official.id}
    return official, details, None


def _object(
    session: Session, now: datetime, code_ttl: timedelta, org: Organisation, signed: Membership
) -> _Change:
    """A lead cancels the operator's pending replacement of the organisation's leads."""
    replacement = session.get(LeadReplacement, signed.replacement)
    if replacement is None or replacement.org_id != org.id or replacement.status != "pending":
        raise NotFoundError(f"no pending replacement {signed.replacement} of {org.id}")
    replacement.status = "objected"
    official = session.get(Official, replacement.official_id)
    assert official is not None  # a foreign key
    return official, {"org": org.id, "replacement": replacement.id}, None


_CHANGES = {
    MembershipAction.INVITE: _invite,
    MembershipAction.APPROVE: _approve,
    MembershipAction.REMOVE: _remove,
    MembershipAction.ROUTE: _route,
    MembershipAction.OBJECT: _object,
}
_EVENTS = {
    MembershipAction.INVITE: Event.MEMBER_INVITED,
    MembershipAction.APPROVE: Event.MEMBER_APPROVED,
    MembershipAction.REMOVE: Event.MEMBER_REMOVED,
    MembershipAction.ROUTE: Event.ROUTING_SIGNED,
    MembershipAction.OBJECT: Event.LEAD_REPLACEMENT_OBJECTED,
}


def members(session: Session, org_id: str) -> Sequence[Official]:
    """Every official of the organisation, active or not, approved or pending."""
    directory.organisation(session, org_id)
    return session.scalars(
        select(Official).where(Official.org_id == org_id).order_by(Official.id)
    ).all()
