"""Notification subscriptions: an official registering or removing a notification target.

Each change is the RFC 8785 JSON payload of a compact JWS signed with the official's
signing key (header typ `hotline-keys+jws`, like key statements: the same strict JOSE
policy), and goes into the log verbatim. The statement names the target by its SHA-256,
never the address itself: the log is read by auditors, and a webhook URL may carry a
token and an e-mail address is personal data. The server checks that the target it is
given hashes to the signed value.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from schemas.common import (
    BoundedList,
    Choice,
    Const,
    LowerHex64,
    OfficialId,
    OrgId,
    StrictSchema,
    UtcTimestamp,
    Uuid,
    parse_utc,
)
from schemas.enums import Priority

SUBSCRIPTION_TYP = "hotline.subscription/v1"
SUBSCRIPTION_REMOVAL_TYP = "hotline.subscription-removal/v1"


class NotifyEvent(StrEnum):
    """What a subscription can be told of (the `type` of a webhook's body)."""

    CASE = "case"  # a new case for me (or my organisation)
    HANDOFF = "handoff"  # a new handoff on one of my cases
    DEADLINE_APPROACHING = "deadline_approaching"
    DEADLINE_BREACHED = "deadline_breached"
    WITHDRAWAL = "withdrawal"
    TEST = "test"  # sent on request only (`hotline notify test`), never subscribed to


SUBSCRIBABLE = [event.value for event in NotifyEvent if event != NotifyEvent.TEST]


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class Scope(StrEnum):
    OWN = "own"  # the cases addressed or assigned to the official
    ORGANISATION = "organisation"  # every case of the organisation (platform leads only)


def target_sha256(target: str) -> str:
    """The digest a statement names its target by (lower-case hex of the UTF-8 bytes)."""
    return hashlib.sha256(target.encode("utf-8")).hexdigest()


class SubscriptionSchema(StrictSchema):
    typ = Const(SUBSCRIPTION_TYP, required=True)
    org = OrgId(required=True)
    official = OfficialId(required=True)
    subscription_id = Uuid(required=True)
    channel = Choice([str(c) for c in Channel], required=True)
    target_sha256 = LowerHex64(required=True)
    scope = Choice([str(s) for s in Scope], required=True)
    events = BoundedList(
        Choice(SUBSCRIBABLE), min_length=1, max_length=len(SUBSCRIBABLE), unique=True, required=True
    )
    priorities = BoundedList(
        Choice([str(p) for p in Priority]),
        min_length=1,
        max_length=len(Priority),
        unique=True,
        required=True,
    )
    issued_at = UtcTimestamp(required=True)


class SubscriptionRemovalSchema(StrictSchema):
    typ = Const(SUBSCRIPTION_REMOVAL_TYP, required=True)
    org = OrgId(required=True)
    official = OfficialId(required=True)
    subscription_id = Uuid(required=True)
    issued_at = UtcTimestamp(required=True)


@dataclass(frozen=True, slots=True)
class Subscription:
    org: str
    official: str
    subscription_id: str
    channel: str
    target_sha256: str
    scope: str
    events: tuple[str, ...]
    priorities: tuple[str, ...]
    issued_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriptionRemoval:
    org: str
    official: str
    subscription_id: str
    issued_at: datetime


_SUBSCRIPTION, _REMOVAL = SubscriptionSchema(), SubscriptionRemovalSchema()


def load_subscription(document: Mapping[str, Any]) -> Subscription:
    data = _SUBSCRIPTION.load(document)
    return Subscription(
        data["org"],
        data["official"],
        data["subscription_id"],
        data["channel"],
        data["target_sha256"],
        data["scope"],
        tuple(sorted(data["events"])),
        tuple(sorted(data["priorities"])),
        parse_utc(data["issued_at"]),
    )


def load_subscription_removal(document: Mapping[str, Any]) -> SubscriptionRemoval:
    data = _REMOVAL.load(document)
    return SubscriptionRemoval(
        data["org"], data["official"], data["subscription_id"], parse_utc(data["issued_at"])
    )
