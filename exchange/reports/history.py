"""The log folded into what a report reads: the organisations, and each case's history.

Input is entries that already verified (`exchange.reports.verified`), as parsed JSON. The
only timestamps used are the entries' `logged_at`: the server's clock, inside leaves the
log signed, never a time a party declared about itself (a receipt's `received_at`). A
statement's payload is read from its JWS as logged; the auditor has checked its signature,
schema and agreement with the entry.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from exchange.protocol.events import HANDOFF_EVENTS, Event
from keys import b64url_decode
from schemas.common import parse_utc
from schemas.enums import Kind
from schemas.statement import CaseMeta, Meta, ReceiptMeta, ResponseMeta, Statement, typed_statement

AGENCY, PLATFORM = "agency", "platform"
ACK, ACTION = "ack", "action"


@dataclass(frozen=True)
class Org:
    id: str
    kind: str
    name: str


@dataclass(frozen=True)
class Handoff:
    """A handoff after the case itself: who sent what, when, in reply to what."""

    handoff_id: str
    kind: str
    side: str
    org: str
    at: datetime
    in_reply_to: str | None
    meta: Meta
    # A question's answer deadline, as the server logged it (None before questions had one).
    due_at: datetime | None = None

    @property
    def acknowledged(self) -> str | None:
        """The handoff a receipt acknowledges."""
        return self.meta.handoff_id if isinstance(self.meta, ReceiptMeta) else None

    @property
    def outcome(self) -> str | None:
        return self.meta.outcome if isinstance(self.meta, ResponseMeta) else None

    @property
    def reason_code(self) -> str | None:
        return self.meta.reason_code if isinstance(self.meta, ResponseMeta) else None

    @property
    def final(self) -> bool:
        """A final response: the only handoff that meets the action deadline."""
        return isinstance(self.meta, ResponseMeta) and self.meta.final


@dataclass(frozen=True)
class Breach:
    """A `deadline_breached` entry: the sweep's record that a deadline passed unanswered."""

    deadline: str
    at: datetime
    due_at: datetime


@dataclass
class CaseHistory:
    case_id: str
    handoff_id: str
    agency: str
    platform: str
    submitted_at: datetime
    category: str
    priority: str
    request_type: str
    ack_due_at: datetime
    action_due_at: datetime
    state: str
    item_count: int = 0
    # (jurisdiction, instrument, article) of each legal basis the case cites.
    legal_basis: tuple[tuple[str, str, str], ...] = ()
    # "name vN" of the deadline policy the case was opened under, if the entry says.
    policy: str | None = None
    handoffs: list[Handoff] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)

    def due_at(self, deadline: str) -> datetime:
        return self.ack_due_at if deadline == ACK else self.action_due_at

    def answer(self, deadline: str) -> Handoff | None:
        """What meets a deadline: the platform's first receipt of the case (ack), or its
        first final response (action); interim responses meet nothing."""
        for handoff in self.handoffs:
            if deadline == ACK and handoff.kind == Kind.RECEIPT:
                if handoff.acknowledged == self.handoff_id:
                    return handoff
            elif deadline == ACTION and handoff.final:
                return handoff
        return None

    def first(self, kind: str) -> Handoff | None:
        return next((h for h in self.handoffs if h.kind == kind), None)

    @property
    def stopped(self) -> Handoff | None:
        """The agency's first withdrawal or closure: after it, the platform owes nothing."""
        return next((h for h in self.handoffs if h.kind in (Kind.WITHDRAWAL, Kind.CLOSURE)), None)

    @property
    def latest_response(self) -> Handoff | None:
        """The latest final response: interim ones say nothing of the outcome."""
        responses = [h for h in self.handoffs if h.final]
        return responses[-1] if responses else None

    def replies_to(self, handoff_id: str, kinds: frozenset[str], side: str) -> Handoff | None:
        """The first handoff of `kinds` from `side` that names `handoff_id` as in_reply_to."""
        return next(
            (
                h
                for h in self.handoffs
                if h.in_reply_to == handoff_id and h.kind in kinds and h.side == side
            ),
            None,
        )


@dataclass
class History:
    orgs: dict[str, Org] = field(default_factory=dict)
    cases: dict[str, CaseHistory] = field(default_factory=dict)

    def name(self, org: str) -> str:
        known = self.orgs.get(org)
        return known.name if known else org

    def of_kind(self, kind: str) -> list[str]:
        return sorted(org.id for org in self.orgs.values() if org.kind == kind)


def verified_statement(token: str) -> Statement:
    """The statement of a compact JWS the auditor verified (its middle part), typed."""
    return typed_statement(json.loads(b64url_decode(token.split(".")[1])))


def fold(entries: Iterable[Mapping[str, Any]], until: datetime) -> History:
    """Organisations and case histories from the entries logged at or before `until`."""
    history = History()
    for entry in entries:
        at = parse_utc(entry["logged_at"])
        if at <= until:
            apply(history, entry, at)
    return history


def apply(history: History, entry: Mapping[str, Any], at: datetime) -> None:
    """Fold one entry, logged at `at`, into the history (entries in log order)."""
    event, details = entry["event"], entry["details"]
    if event == Event.ORGANISATION_CREATED:
        org = organisation(details)
        history.orgs[org.id] = org
    elif event == Event.CASE:
        _open(history, entry, at)
    elif event in HANDOFF_EVENTS:
        _continue(history, entry, at)
    elif event == Event.DELIVERED:
        case = history.cases.get(entry["case_id"])
        if case is not None:
            case.state = str(details["state"])
    elif event == Event.DEADLINE_BREACHED:
        case = history.cases.get(entry["case_id"])
        if case is not None:
            due_at = parse_utc(details["due_at"])
            case.breaches.append(Breach(str(details["deadline"]), at, due_at))
            case.state = str(details["state"])


def organisation(details: Mapping[str, Any]) -> Org:
    """The organisation an `organisation_created` entry creates."""
    org = str(details["org"])
    return Org(org, str(details["kind"]), str(details.get("name") or org))


def _open(history: History, entry: Mapping[str, Any], at: datetime) -> None:
    statement = verified_statement(entry["statement"])
    meta, details = statement.meta_as(CaseMeta), entry["details"]
    history.cases[statement.case_id] = CaseHistory(
        case_id=statement.case_id,
        handoff_id=statement.handoff_id,
        agency=statement.sender.org,
        platform=statement.to[0],
        submitted_at=at,
        category=meta.category,
        priority=meta.priority,
        request_type=meta.request_type,
        ack_due_at=parse_utc(details["ack_due_at"]),
        action_due_at=parse_utc(details["action_due_at"]),
        state=str(details["state"]),
        item_count=meta.item_count,
        legal_basis=meta.legal_basis,
        policy=_policy_label(details.get("deadline_policy")),
    )


def _policy_label(applied: Any) -> str | None:
    if not isinstance(applied, Mapping):
        return None
    return f"{applied.get('name')} v{applied.get('version')}"


def _continue(history: History, entry: Mapping[str, Any], at: datetime) -> None:
    case = history.cases.get(entry["case_id"])
    if case is None:  # its case was logged after `until`: so was this
        return
    statement = verified_statement(entry["statement"])
    org = statement.sender.org
    case.handoffs.append(
        Handoff(
            handoff_id=statement.handoff_id,
            kind=statement.kind,
            side=AGENCY if org == case.agency else PLATFORM,
            org=org,
            at=at,
            in_reply_to=statement.in_reply_to,
            meta=statement.meta,
            due_at=_time(entry["details"].get("answer_due_at")),
        )
    )
    case.state = str(entry["details"]["state"])


def _time(value: Any) -> datetime | None:
    return parse_utc(value) if isinstance(value, str) else None
