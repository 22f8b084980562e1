"""What the exchange's operator does (through `flask admin …`, never over HTTP).

Each change is on record: an event appended in the same transaction, with no actor
(the operator's authority is the log's own checkpoint signature).
"""

import secrets
import uuid
from base64 import b32encode
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange import log
from exchange.errors import (
    AlreadyExistsError,
    NotFoundError,
    OrganisationHasLeadsError,
    UnprocessableError,
)
from exchange.protocol.events import Event
from exchange.protocol.key_management import code_sha256
from exchange.storage.models import (
    EnrollmentCode,
    LeadReplacement,
    Official,
    OfficialKey,
    Organisation,
    Route,
)
from schemas.common import ORG_ID_RE, format_utc
from schemas.enums import Category, OrgKind, Role

ROLES_OF_KIND: dict[str, frozenset[str]] = {
    OrgKind.AGENCY: frozenset({Role.AGENCY_OFFICER}),
    OrgKind.PLATFORM: frozenset({Role.PLATFORM_OFFICIAL, Role.PLATFORM_LEAD}),
    OrgKind.AUDITOR: frozenset({Role.AUDITOR}),
}
_CODE_GROUPS = 5


def _check_id(value: str, what: str) -> None:
    if not ORG_ID_RE.fullmatch(value):
        raise UnprocessableError(
            f"{what} {value!r} must be 1-63 lowercase letters, digits or inner hyphens"
        )


def create_organisation(
    session: Session, now: datetime, org_id: str, kind: str, name: str
) -> Organisation:
    _check_id(org_id, "organisation id")
    if kind not in set(OrgKind):
        raise UnprocessableError(f"kind must be one of {', '.join(OrgKind)}")
    if not 1 <= len(name) <= 200:
        raise UnprocessableError("name must be 1-200 characters")
    if session.get(Organisation, org_id) is not None:
        raise AlreadyExistsError(f"organisation {org_id} exists")
    org = Organisation(id=org_id, kind=kind, name=name, active=True, created_at=now)
    session.add(org)
    log.append(
        session,
        Event.ORGANISATION_CREATED,
        now,
        details={"org": org_id, "kind": kind, "name": name},
    )
    return org


def _new_code() -> str:
    raw = b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")[:25]  # 125 bits
    return "-".join(raw[i : i + 5] for i in range(0, 25, 5))


def invite_official(
    session: Session,
    now: datetime,
    code_ttl: timedelta,
    *,
    org_id: str,
    official_id: str,
    role: str,
    title: str | None = None,
    categories: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    contact: dict[str, Any] | None = None,
    bootstrap_lead: bool = False,
    reissue: bool = False,
) -> tuple[Official, str]:
    """Create (or re-invite) an official; return them and a one-time enrollment code.

    The operator's invitation is pending: the official receives nothing, signs nothing and
    reads nothing until a current lead of the organisation approves them. The one exception
    is `bootstrap_lead`, the organisation's first lead, logged as such; it is refused once
    the organisation has ever had a lead. Re-inviting an existing official (lost keys, a
    new device) issues a new code, voids the old ones, and withdraws their approval; an
    enrolled official is re-invited only with `reissue`, so that repeating an invitation by
    mistake changes nothing. Details left as None keep their current values.
    """
    if bootstrap_lead and session.scalar(
        select(Official.id).where(Official.org_id == org_id, Official.lead.is_(True)).limit(1)
    ):
        raise OrganisationHasLeadsError(
            f"{org_id} already has a lead: only its leads invite and approve officials"
        )
    official, code = issue_invitation(
        session,
        now,
        code_ttl,
        org_id=org_id,
        official_id=official_id,
        role=role,
        title=title,
        categories=categories,
        languages=languages,
        contact=contact,
        reissue=reissue,
    )
    official.approved = official.lead = bootstrap_lead
    details: dict[str, Any] = {
        "org": org_id,
        "official": official_id,
        "role": role,
        "title": official.title,
        "categories": official.categories,
    }
    if bootstrap_lead:
        details["lead"] = True
    event = Event.LEAD_BOOTSTRAPPED if bootstrap_lead else Event.OFFICIAL_INVITED
    log.append(session, event, now, details=details)
    return official, code


def issue_invitation(
    session: Session,
    now: datetime,
    code_ttl: timedelta,
    *,
    org_id: str,
    official_id: str,
    role: str,
    title: str | None = None,
    categories: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    contact: dict[str, Any] | None = None,
    reissue: bool = False,
) -> tuple[Official, str]:
    """The official's record and a new one-time code, without the log entry (the caller's)."""
    _check_id(official_id, "official id")
    org = session.get(Organisation, org_id)
    if org is None or not org.active:
        raise NotFoundError(f"no active organisation {org_id}")
    if role not in ROLES_OF_KIND[org.kind]:
        allowed = ", ".join(sorted(ROLES_OF_KIND[org.kind]))
        article = "an" if org.kind[0] in "aeiou" else "a"
        raise UnprocessableError(
            f"{article} {org.kind} official's role must be one of: {allowed}"
            f" (organisation {org_id} is {article} {org.kind})"
        )
    unknown = sorted(set(categories or ()) - set(Category))
    if unknown:
        raise UnprocessableError(f"unknown categories: {', '.join(unknown)}")
    if title is not None and len(title) > 200:
        raise UnprocessableError("title must be at most 200 characters")
    official = session.get(Official, official_id)
    if official is None:
        official = Official(
            id=official_id,
            org_id=org_id,
            role=role,
            created_at=now,
            active=True,
            enrolled=False,
            approved=False,
            lead=False,
        )
        session.add(official)
    elif official.org_id != org_id:
        raise AlreadyExistsError(f"official {official_id} belongs to {official.org_id}")
    elif official.enrolled and not reissue:
        raise AlreadyExistsError(
            f"official {official_id} is already enrolled: to give them a new enrollment code"
            " (lost keys, a new device), invite again with --reissue"
        )
    official.role = role
    if title is not None or official.title is None:
        official.title = title or ""
    if categories is not None or official.categories is None:
        official.categories = sorted(set(categories or ()))
    if languages is not None or official.languages is None:
        official.languages = list(languages or ())
    if contact is not None or official.contact is None:
        official.contact = dict(contact or {})
    official.active = True
    official.deactivated_at = None
    for stale in session.scalars(
        select(EnrollmentCode).where(
            EnrollmentCode.official_id == official_id, EnrollmentCode.used_at.is_(None)
        )
    ):
        stale.used_at = now
    code = _new_code()
    session.add(
        EnrollmentCode(
            code_sha256=code_sha256(code),
            official_id=official_id,
            expires_at=now + code_ttl,
            used_at=None,
        )
    )
    return official, code


def deactivate_official(session: Session, now: datetime, official_id: str) -> Official:
    official = session.get(Official, official_id)
    if official is None:
        raise NotFoundError(f"no official {official_id}")
    if not official.active:
        raise AlreadyExistsError(f"official {official_id} is already inactive")
    official.active = False
    official.approved = False
    official.deactivated_at = now
    for route in session.scalars(select(Route).where(Route.official_id == official_id)):
        session.delete(route)
    log.append(
        session,
        Event.OFFICIAL_DEACTIVATED,
        now,
        details={"org": official.org_id, "official": official_id},
    )
    return official


def routes(session: Session, platform_id: str | None = None) -> Sequence[Route]:
    query = select(Route).order_by(Route.platform_id, Route.category)
    if platform_id:
        query = query.where(Route.platform_id == platform_id)
    return session.scalars(query).all()


def all_officials(session: Session, org_id: str | None = None) -> Sequence[Official]:
    query = select(Official).order_by(Official.org_id, Official.id)
    if org_id:
        query = query.where(Official.org_id == org_id)
    return session.scalars(query).all()


def official_keys(session: Session, official_id: str) -> Sequence[OfficialKey]:
    return session.scalars(
        select(OfficialKey)
        .where(OfficialKey.official_id == official_id)
        .order_by(OfficialKey.registered_log_index)
    ).all()


def start_lead_replacement(
    session: Session, now: datetime, wait: timedelta, org_id: str, official_id: str
) -> LeadReplacement:
    """Begin replacing all of an organisation's leads with `official_id` (lost keys, a
    departed team). On record at once; it takes effect only after `wait`, and any current
    lead cancels it with a signed `object` statement meanwhile."""
    official = session.get(Official, official_id)
    if official is None or official.org_id != org_id or not official.active:
        raise UnprocessableError(f"{official_id} is not an active official of {org_id}")
    if _pending_replacement(session, org_id) is not None:
        raise AlreadyExistsError(f"a replacement of {org_id}'s leads is already pending")
    replacement = LeadReplacement(
        id=str(uuid.uuid4()),
        org_id=org_id,
        official_id=official_id,
        started_at=now,
        effective_at=now + wait,
        status="pending",
    )
    session.add(replacement)
    log.append(
        session,
        Event.LEAD_REPLACEMENT_STARTED,
        now,
        details={
            "org": org_id,
            "official": official_id,
            "replacement": replacement.id,
            "effective_at": format_utc(replacement.effective_at),
        },
    )
    return replacement


def complete_lead_replacement(session: Session, now: datetime, org_id: str) -> LeadReplacement:
    """After the wait, with no lead's objection: the new lead replaces all others."""
    replacement = _pending_replacement(session, org_id)
    if replacement is None:
        raise NotFoundError(f"no pending replacement of {org_id}'s leads")
    if now < replacement.effective_at:
        raise UnprocessableError(
            f"the waiting period runs until {format_utc(replacement.effective_at)}"
        )
    official = session.get(Official, replacement.official_id)
    if official is None or not official.active:
        raise UnprocessableError(f"{replacement.official_id} is no longer active")
    replaced = []
    for lead in session.scalars(
        select(Official).where(Official.org_id == org_id, Official.lead.is_(True))
    ):
        lead.lead = False
        replaced.append(lead.id)
    official.approved = official.lead = True
    replacement.status = "completed"
    log.append(
        session,
        Event.LEAD_REPLACEMENT_COMPLETED,
        now,
        details={
            "org": org_id,
            "official": official.id,
            "replacement": replacement.id,
            "replaced": sorted(replaced),
        },
    )
    return replacement


def _pending_replacement(session: Session, org_id: str) -> LeadReplacement | None:
    return session.scalars(
        select(LeadReplacement).where(
            LeadReplacement.org_id == org_id, LeadReplacement.status == "pending"
        )
    ).first()
