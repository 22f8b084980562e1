"""Membership changes as the log records them: who approved whom, signed by which lead.

The replay of `LEAD_BOOTSTRAPPED` (the operator's, once per organisation) and of the
lead-signed `MEMBER_*` and `ROUTING_SIGNED` entries: each statement is verified with the
signer's key valid at its index, the signer must be a current lead of the organisation,
each statement applies once, and the entry's details must say what the statement says.
Every change to an organisation's membership or keys is kept as a `Change`, marked
`authorised` or not, for `hotline monitor` and the auditor's report.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from exchange.auditor.entries import Actor, Entry
from exchange.auditor.errors import MembershipEventError
from exchange.protocol import key_management
from exchange.protocol.envelope.errors import EnvelopeError
from exchange.protocol.events import Event
from schemas.membership import Membership, MembershipAction, load_membership

if TYPE_CHECKING:
    from exchange.auditor.directory import Directory, OfficialRecord

EVENT_OF_ACTION = {
    MembershipAction.INVITE: Event.MEMBER_INVITED,
    MembershipAction.APPROVE: Event.MEMBER_APPROVED,
    MembershipAction.REMOVE: Event.MEMBER_REMOVED,
    MembershipAction.ROUTE: Event.ROUTING_SIGNED,
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
