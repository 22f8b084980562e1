"""Membership changes as the log records them: who approved whom, signed by which lead.

The replay of `LEAD_BOOTSTRAPPED` (the operator's, once per organisation) and of the
lead-signed `MEMBER_*` and `ROUTING_SIGNED` entries: each statement is verified with the
signer's key valid at its index, the signer must be a current lead of the organisation,
each statement applies once, and the entry's details must say what the statement says.
Every change to an organisation's membership or keys is kept as a `Change`, marked
`authorised` or not, for `hotline monitor` and the auditor's report.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from exchange.auditor.entries import Actor, Entry
from exchange.auditor.errors import MembershipEventError
from exchange.protocol import key_management
from exchange.protocol.envelope.errors import EnvelopeError
from exchange.protocol.events import Event
from schemas.common import format_utc, parse_utc
from schemas.membership import Membership, MembershipAction, load_membership

if TYPE_CHECKING:
    from exchange.auditor.directory import Directory, OfficialRecord

EVENT_OF_ACTION = {
    MembershipAction.INVITE: Event.MEMBER_INVITED,
    MembershipAction.APPROVE: Event.MEMBER_APPROVED,
    MembershipAction.REMOVE: Event.MEMBER_REMOVED,
    MembershipAction.ROUTE: Event.ROUTING_SIGNED,
    MembershipAction.OBJECT: Event.LEAD_REPLACEMENT_OBJECTED,
}


@dataclass(frozen=True, slots=True)
class Change:
    """One change to an organisation's membership or keys, as replayed from the log."""

    index: int
    org: str
    event: str
    official: str
    signer: str | None  # the lead (or the official themselves, for their keys); None: operator
    authorised: bool  # signed by a lead, by the official for their own keys, or the bootstrap
    summary: str


@dataclass(slots=True)
class Replacement:
    """The operator's pending replacement of all of an organisation's leads."""

    org: str
    official: str
    effective_at: datetime
    status: str = "pending"


def is_current_lead(record: "OfficialRecord") -> bool:
    return record.active and record.approved and record.lead


def lead_bootstrapped(directory: "Directory", entry: Entry) -> None:
    """The operator's one exception: an organisation's first lead, invited as such."""
    if entry.actor is not None or entry.statement is not None:
        raise MembershipEventError("a bootstrap is the operator's: no actor", entry.index)
    org, official, role = (_text(entry, name) for name in ("org", "official", "role"))
    if org not in directory.orgs:
        raise MembershipEventError(f"{official} is bootstrapped in unknown {org}", entry.index)
    if org in directory.led:
        raise MembershipEventError(
            f"the operator bootstrapped {official} as lead of {org}, which already had a lead",
            entry.index,
        )
    record = directory.officials.get(official)
    if record is not None and record.org != org:
        raise MembershipEventError(f"{official} belongs to {record.org}, not {org}", entry.index)
    directory.enlist(official, org, role, entry.index)
    record = directory.officials[official]
    record.approved = record.lead = True
    directory.led.add(org)
    directory.record_change(
        entry, org, official, None, True, f"{official} bootstrapped as first lead ({role})"
    )


def membership_signed(directory: "Directory", entry: Entry) -> None:
    """A lead's statement: verified, applied once, and matching the entry's details."""
    actor, signed = _verified(directory, entry)
    org = actor.org
    if signed.org != org:
        raise MembershipEventError(f"the statement is for {signed.org}, not {org}", entry.index)
    if EVENT_OF_ACTION[signed.action] != entry.event:
        raise MembershipEventError(
            f"a {signed.action} statement logged as {entry.event}", entry.index
        )
    if signed.statement_id in directory.membership_statements:
        raise MembershipEventError(
            f"statement {signed.statement_id} was applied before, at entry"
            f" {directory.membership_statements[signed.statement_id]}",
            entry.index,
        )
    directory.membership_statements[signed.statement_id] = entry.index
    official = signed.official or ""
    expected = _details(signed)
    if {name: entry.details.get(name) for name in expected} != expected:
        raise MembershipEventError("the entry's details are not the statement's", entry.index)
    if signed.action == MembershipAction.OBJECT:
        _objected(directory, entry, actor, signed)
        return
    record = directory.officials.get(official)
    if signed.action == MembershipAction.INVITE:
        if record is not None and record.org != org:
            raise MembershipEventError(f"{official} belongs to {record.org}", entry.index)
        directory.enlist(official, org, signed.role or "", entry.index)
    elif record is None or record.org != org or not record.active:
        raise MembershipEventError(f"{official} is not an active official of {org}", entry.index)
    record = directory.officials[official]
    if signed.action in (MembershipAction.INVITE, MembershipAction.APPROVE):
        record.role, record.categories = signed.role or "", signed.categories
        record.approved, record.lead = True, signed.lead
        if signed.lead:
            directory.led.add(org)
    elif signed.action == MembershipAction.REMOVE:
        record.active, record.approved, record.until = False, False, entry.index
    elif not record.approved:  # routing
        raise MembershipEventError(f"cases are routed to unapproved {official}", entry.index)
    if not any(is_current_lead(r) for r in directory.officials.values() if r.org == org):
        raise MembershipEventError(f"{org} is left without a current lead", entry.index)
    directory.record_change(entry, org, official, actor.official, True, _summary(signed))


def replacement_started(directory: "Directory", entry: Entry) -> None:
    """The operator starts replacing all leads: on record, effective only after its wait."""
    if entry.actor is not None or entry.statement is not None:
        raise MembershipEventError("a lead replacement is the operator's: no actor", entry.index)
    org, official, ident = (_text(entry, name) for name in ("org", "official", "replacement"))
    record = directory.officials.get(official)
    if record is None or record.org != org or not record.active:
        raise MembershipEventError(f"{official} is not an active official of {org}", entry.index)
    if any(r.org == org and r.status == "pending" for r in directory.replacements.values()):
        raise MembershipEventError(
            f"a replacement of {org}'s leads is already pending", entry.index
        )
    effective_at = _time(entry, "effective_at")
    directory.replacements[ident] = Replacement(org, official, effective_at)
    directory.record_change(
        entry,
        org,
        official,
        None,
        False,
        f"the operator starts replacing all leads by {official}, effective"
        f" {format_utc(effective_at)} unless a lead objects ({ident})",
    )


def replacement_completed(directory: "Directory", entry: Entry) -> None:
    """After the wait and with no objection, the new lead replaces every other."""
    if entry.actor is not None or entry.statement is not None:
        raise MembershipEventError("a lead replacement is the operator's: no actor", entry.index)
    org, official, ident = (_text(entry, name) for name in ("org", "official", "replacement"))
    pending = directory.replacements.get(ident)
    if pending is None or (pending.org, pending.official) != (org, official):
        raise MembershipEventError(f"no replacement {ident} of {org}'s leads started", entry.index)
    if pending.status != "pending":
        raise MembershipEventError(f"replacement {ident} was {pending.status}", entry.index)
    if parse_utc(entry.logged_at) < pending.effective_at:
        raise MembershipEventError(
            f"replacement {ident} completed before its waiting period ended"
            f" ({format_utc(pending.effective_at)})",
            entry.index,
        )
    replaced = sorted(o for o, r in directory.officials.items() if r.org == org and r.lead)
    if entry.details.get("replaced") != replaced:
        raise MembershipEventError(
            f"the entry replaces {entry.details.get('replaced')}, but {org}'s leads were"
            f" {replaced}",
            entry.index,
        )
    for name in replaced:
        directory.officials[name].lead = False
    record = directory.officials[official]
    if not record.active:
        raise MembershipEventError(f"{official} is no longer active", entry.index)
    record.approved = record.lead = True
    pending.status = "completed"
    directory.record_change(
        entry, org, official, None, False, f"{official} replaced all leads ({', '.join(replaced)})"
    )


def _objected(directory: "Directory", entry: Entry, actor: Actor, signed: Membership) -> None:
    pending = directory.replacements.get(signed.replacement or "")
    if pending is None or pending.org != actor.org or pending.status != "pending":
        raise MembershipEventError(
            f"no pending replacement {signed.replacement} of {actor.org}", entry.index
        )
    pending.status = "objected"
    directory.record_change(
        entry,
        actor.org,
        pending.official,
        actor.official,
        True,
        f"{actor.official} objected: the replacement of all leads by {pending.official} is void",
    )


def _time(entry: Entry, name: str) -> datetime:
    try:
        return parse_utc(_text(entry, name))
    except ValueError as exc:
        raise MembershipEventError(f"details.{name} is not a UTC time", entry.index) from exc


def _verified(directory: "Directory", entry: Entry) -> tuple[Actor, Membership]:
    actor, token = entry.actor, entry.statement
    if actor is None or token is None:
        raise MembershipEventError(f"{entry.event} needs a lead's signed statement", entry.index)
    key = directory.signing_key(actor, actor.kid, entry.index)
    if not is_current_lead(directory.officials[actor.official]):
        raise MembershipEventError(
            f"{actor.official} was not a current lead of {actor.org}", entry.index
        )
    assert actor.kid is not None  # signing_key refuses a missing kid
    try:
        return actor, key_management.verify(token, {actor.kid: key}, load_membership)
    except EnvelopeError as exc:
        raise MembershipEventError(
            f"the membership statement does not verify: {exc}", entry.index
        ) from exc


def _details(signed: Membership) -> dict[str, object]:
    if signed.action == MembershipAction.OBJECT:
        return {"org": signed.org, "replacement": signed.replacement}
    if signed.action == MembershipAction.ROUTE:
        return {"platform": signed.org, "category": signed.category, "official": signed.official}
    if signed.action == MembershipAction.REMOVE:
        return {"org": signed.org, "official": signed.official}
    return {
        "org": signed.org,
        "official": signed.official,
        "role": signed.role,
        "categories": list(signed.categories),
        "lead": signed.lead,
    }


def _summary(signed: Membership) -> str:
    who = signed.official
    if signed.action == MembershipAction.ROUTE:
        return f"{signed.category} cases routed to {who}"
    if signed.action == MembershipAction.REMOVE:
        return f"{who} removed"
    lead = ", lead" if signed.lead else ""
    categories = ",".join(signed.categories) or "no categories"
    verb = "invited" if signed.action == MembershipAction.INVITE else "approved"
    return f"{who} {verb} as {signed.role} ({categories}{lead})"


def _text(entry: Entry, name: str) -> str:
    value = entry.details.get(name)
    if not isinstance(value, str):
        raise MembershipEventError(f"{entry.event} details.{name} is not a string", entry.index)
    return value
