"""Notification targets: registered and removed by an official's signed statement.

Each change is appended to the log with the statement verbatim (which names the target by
its SHA-256 only), in the same transaction as the row it changes.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange import log
from exchange.errors import (
    AlreadyExistsError,
    ForbiddenError,
    NotFoundError,
    SubscriptionStatementError,
    UnprocessableError,
)
from exchange.log import Actor
from exchange.protocol import key_management
from exchange.protocol.envelope.errors import EnvelopeError
from exchange.protocol.events import Event
from exchange.services import destinations, directory, webhook_secrets
from exchange.services.caller import Caller
from exchange.services.clock import check_issued_at
from exchange.services.destinations import DestinationPolicy
from exchange.storage.models import Subscription
from schemas.subscriptions import (
    Channel,
    Scope,
    load_subscription,
    load_subscription_removal,
    target_sha256,
)

MAX_ACTIVE_PER_OFFICIAL = 20


@dataclass(frozen=True)
class Created:
    subscription: Subscription
    secret: str | None  # the webhook secret, shown this once


def add(
    session: Session,
    now: datetime,
    skew: timedelta,
    caller: Caller,
    statement: str,
    target: str,
    destination_policy: DestinationPolicy,
    sealing_key: bytes,
) -> Created:
    """Register the target the statement signs for (by its digest)."""
    try:
        signed = key_management.verify(
            statement, directory.signing_keys(session, caller.official_id), load_subscription
        )
    except EnvelopeError as exc:
        raise SubscriptionStatementError(f"the subscription statement: {exc}") from exc
    if (signed.org, signed.official) != (caller.org_id, caller.official_id):
        raise SubscriptionStatementError("the statement names another official")
    if signed.target_sha256 != target_sha256(target):
        raise SubscriptionStatementError("the target is not the one the statement signs for")
    check_issued_at(signed.issued_at, now, skew)
    if signed.scope == Scope.ORGANISATION and not caller.is_lead:
        raise ForbiddenError("only a platform lead subscribes for the whole organisation")
    if signed.channel == Channel.WEBHOOK:
        destinations.check_webhook(destination_policy, target)
    else:
        _check_email(target)
    if session.get(Subscription, signed.subscription_id) is not None:
        raise AlreadyExistsError(f"subscription {signed.subscription_id} exists")
    if len(active(session, caller)) >= MAX_ACTIVE_PER_OFFICIAL:
        raise UnprocessableError(f"at most {MAX_ACTIVE_PER_OFFICIAL} active targets each")
    appended = log.append(
        session,
        Event.SUBSCRIPTION_ADDED,
        now,
        actor=Actor(caller.org_id, caller.official_id, key_management.signer_kid(statement)),
        statement=statement,
        details={
            "org": caller.org_id,
            "official": caller.official_id,
            "subscription": signed.subscription_id,
        },
    )
    secret = webhook_secrets.new_secret() if signed.channel == Channel.WEBHOOK else None
    subscription = Subscription(
        id=signed.subscription_id,
        org_id=caller.org_id,
        official_id=caller.official_id,
        channel=signed.channel,
        target=target,
        scope=signed.scope,
        events=list(signed.events),
        priorities=list(signed.priorities),
        secret_sealed=(
            webhook_secrets.seal(sealing_key, signed.subscription_id, secret) if secret else None
        ),
        created_at=now,
        created_log_index=appended.index,
        removed_at=None,
        removed_log_index=None,
    )
    session.add(subscription)
    return Created(subscription, webhook_secrets.display(secret) if secret else None)


def _check_email(address: str) -> None:
    local, at, domain = address.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(address) > 254
        or any(c.isspace() or c in "<>,;\"'\\" for c in address)
    ):
        raise UnprocessableError(f"{address!r} is not an e-mail address")


def remove(
    session: Session,
    now: datetime,
    skew: timedelta,
    caller: Caller,
    subscription_id: str,
    statement: str,
) -> Subscription:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.official_id != caller.official_id:
        raise NotFoundError(f"no subscription {subscription_id} of yours")
    if subscription.removed_at is not None:
        raise NotFoundError(f"subscription {subscription_id} was removed")
    try:
        signed = key_management.verify(
            statement,
            directory.signing_keys(session, caller.official_id),
            load_subscription_removal,
        )
    except EnvelopeError as exc:
        raise SubscriptionStatementError(f"the removal statement: {exc}") from exc
    if (signed.org, signed.official, signed.subscription_id) != (
        caller.org_id,
        caller.official_id,
        subscription_id,
    ):
        raise SubscriptionStatementError("the statement removes another subscription")
    check_issued_at(signed.issued_at, now, skew)
    appended = log.append(
        session,
        Event.SUBSCRIPTION_REMOVED,
        now,
        actor=Actor(caller.org_id, caller.official_id, key_management.signer_kid(statement)),
        statement=statement,
        details={
            "org": caller.org_id,
            "official": caller.official_id,
            "subscription": subscription_id,
        },
    )
    subscription.removed_at = now
    subscription.removed_log_index = appended.index
    return subscription


def active(session: Session, caller: Caller) -> Sequence[Subscription]:
    return session.scalars(
        select(Subscription)
        .where(Subscription.official_id == caller.official_id, Subscription.removed_at.is_(None))
        .order_by(Subscription.created_at, Subscription.id)
    ).all()


def own(session: Session, caller: Caller, subscription_id: str) -> Subscription:
    subscription = session.get(Subscription, subscription_id)
    if (
        subscription is None
        or subscription.official_id != caller.official_id
        or subscription.removed_at is not None
    ):
        raise NotFoundError(f"no subscription {subscription_id} of yours")
    return subscription
