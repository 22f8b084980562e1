"""One log entry as the auditor reads it: canonical JSON of a fixed shape, at its position."""

import re
from dataclasses import dataclass
from typing import Any

from exchange.auditor.errors import EntryFormatError, EntryIndexError
from exchange.protocol.envelope.canonical import parse_canonical_object
from exchange.protocol.envelope.errors import EnvelopeError
from exchange.protocol.events import Event

ENTRY_FIELDS = frozenset(
    {
        "index",
        "logged_at",
        "event",
        "case_id",
        "handoff_id",
        "actor",
        "statement",
        "jwe_sha256",
        "details",
    }
)
_ACTOR_FIELDS = frozenset({"org", "official", "kid"})
_EVENTS = frozenset(str(event) for event in Event)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: an official and the key that signed or authenticated it."""

    org: str
    official: str
    kid: str | None


@dataclass(frozen=True, slots=True)
class Entry:
    index: int
    logged_at: str
    event: str
    case_id: str | None
    handoff_id: str | None
    actor: Actor | None
    statement: str | None
    jwe_sha256: str | None
    details: dict[str, Any]


def parse_entry(data: bytes, position: int) -> Entry:
    """The entry at `position`, or EntryFormatError / EntryIndexError naming it."""
    try:
        document = parse_canonical_object(data, "log entry")
    except EnvelopeError as exc:
        raise EntryFormatError(str(exc), position) from exc
    if document.keys() != ENTRY_FIELDS:
        missing = sorted(ENTRY_FIELDS - document.keys())
        extra = sorted(document.keys() - ENTRY_FIELDS)
        raise EntryFormatError(
            f"entry fields differ: missing {missing}, unexpected {extra}", position
        )
    index = document["index"]
    if type(index) is not int:
        raise EntryFormatError("index is not an integer", position)
    if index != position:
        raise EntryIndexError(
            f"the entry at position {position} says it is entry {index}:"
            " an entry is missing, repeated or out of order",
            position,
        )
    logged_at, event = document["logged_at"], document["event"]
    if not isinstance(logged_at, str) or not _UTC.fullmatch(logged_at):
        raise EntryFormatError("logged_at is not a UTC timestamp", position)
    if event not in _EVENTS:
        raise EntryFormatError(f"unknown event {str(event)[:40]!r}", position)
    for name in ("case_id", "handoff_id"):
        value = document[name]
        if value is not None and (not isinstance(value, str) or not _UUID.fullmatch(value)):
            raise EntryFormatError(f"{name} is neither null nor a UUID", position)
    for name in ("statement", "jwe_sha256"):
        if document[name] is not None and not isinstance(document[name], str):
            raise EntryFormatError(f"{name} is neither null nor a string", position)
    if not isinstance(document["details"], dict):
        raise EntryFormatError("details is not an object", position)
    return Entry(
        index,
        logged_at,
        event,
        document["case_id"],
        document["handoff_id"],
        _actor(document["actor"], position),
        document["statement"],
        document["jwe_sha256"],
        document["details"],
    )


def _actor(value: object, position: int) -> Actor | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.keys() != _ACTOR_FIELDS:
        raise EntryFormatError("actor is neither null nor {org, official, kid}", position)
    org, official, kid = value["org"], value["official"], value["kid"]
    if not isinstance(org, str) or not isinstance(official, str):
        raise EntryFormatError("actor org and official must be strings", position)
    if kid is not None and not isinstance(kid, str):
        raise EntryFormatError("actor kid must be a string or null", position)
    return Actor(org, official, kid)
