"""`/v1/subscriptions` (your notification targets) and `/v1/notifications` (their log)."""

from typing import Any

from exchange import runtime
from exchange.api.auth import authenticated
from exchange.api.blueprint import BEARER, Blueprint
from exchange.runtime import now, seconds
from exchange.services import notifications, outbox, subscriptions, transparency
from exchange.services.caller import Caller
from exchange.storage.models import DeliveryAttempt, Notification, Subscription
from schemas.api import (
    NotificationQueuedSchema,
    NotificationsQuerySchema,
    NotificationsSchema,
    SubscriptionCreatedSchema,
    SubscriptionRemovalRequestSchema,
    SubscriptionRequestSchema,
    SubscriptionsSchema,
    SubscriptionTestRequestSchema,
    SubscriptionViewSchema,
)
from schemas.common import format_utc
from schemas.enums import Role

blp = Blueprint("notifications", __name__, url_prefix="/v1", description="Notifications")
_OFFICIALS = (Role.AGENCY_OFFICER, Role.PLATFORM_OFFICIAL, Role.PLATFORM_LEAD)


def _view(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "channel": subscription.channel,
        "target": subscription.target,
        "scope": subscription.scope,
        "events": subscription.events,
        "priorities": subscription.priorities,
        "created_at": format_utc(subscription.created_at),
        "removed_at": format_utc(subscription.removed_at) if subscription.removed_at else None,
        "log_index": subscription.removed_log_index
        if subscription.removed_log_index is not None
        else subscription.created_log_index,
    }


@blp.route("/subscriptions", methods=["POST"])
@authenticated(*_OFFICIALS)
@blp.arguments(SubscriptionRequestSchema)
@blp.response(201, SubscriptionCreatedSchema)
@blp.problems(400, 401, 403, 409, 413, 415, 422)
@blp.doc(security=BEARER)
def add(body: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """Register a webhook or e-mail target, with your signed subscription statement.

    A webhook's signing secret is in this answer and never again."""
    with runtime.write() as session:
        created = subscriptions.add(
            session,
            now(),
            seconds("CLOCK_SKEW_SECONDS"),
            caller,
            body["statement"],
            body["target"],
            runtime.destination_policy(),
            runtime.secret_sealing_key(),
        )
    with runtime.read() as session:
        receipt = transparency.receipt(session, created.subscription.created_log_index)
    return {**_view(created.subscription), "secret": created.secret, "log": receipt.to_json()}


@blp.route("/subscriptions", methods=["GET"])
@authenticated(*_OFFICIALS)
@blp.response(200, SubscriptionsSchema)
@blp.problems(401, 403)
@blp.doc(security=BEARER)
def list_subscriptions(caller: Caller) -> dict[str, Any]:
    """Your active targets (never their secrets)."""
    with runtime.read() as session:
        return {"subscriptions": [_view(s) for s in subscriptions.active(session, caller)]}


@blp.route("/subscriptions/<string:subscription_id>/remove", methods=["POST"])
@authenticated(*_OFFICIALS)
@blp.arguments(SubscriptionRemovalRequestSchema)
@blp.response(200, SubscriptionViewSchema)
@blp.problems(400, 401, 403, 404, 413, 415, 422)
@blp.doc(security=BEARER)
def remove(body: dict[str, Any], subscription_id: str, caller: Caller) -> dict[str, Any]:
    """Remove a target, with your signed removal statement; its pending messages are dropped."""
    with runtime.write() as session:
        subscription = subscriptions.remove(
            session,
            now(),
            seconds("CLOCK_SKEW_SECONDS"),
            caller,
            subscription_id,
            body["statement"],
        )
        return _view(subscription)


@blp.route("/subscriptions/<string:subscription_id>/test", methods=["POST"])
@authenticated(*_OFFICIALS)
@blp.arguments(SubscriptionTestRequestSchema)
@blp.response(202, NotificationQueuedSchema)
@blp.problems(400, 401, 403, 404, 413, 415, 422)
@blp.doc(security=BEARER)
def test(body: dict[str, Any], subscription_id: str, caller: Caller) -> dict[str, Any]:
    """Queue a test message to one of your targets; follow it in /v1/notifications."""
    with runtime.write() as session:
        subscription = subscriptions.own(session, caller, subscription_id)
        queued = notifications.for_test(session, now(), subscription)
        return {"id": queued.id, "status": queued.status}


def _attempt(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "attempt": attempt.attempt,
        "started_at": format_utc(attempt.started_at),
        "duration_ms": attempt.duration_ms,
        "outcome": attempt.outcome,
        "status_code": attempt.status_code,
        "error": attempt.error,
    }


def _notification(row: Notification, attempts: list[DeliveryAttempt]) -> dict[str, Any]:
    pending = row.status == notifications.PENDING
    return {
        "id": row.id,
        "subscription_id": row.subscription_id,
        "event": row.event,
        "case_id": row.case_id,
        "status": row.status,
        "created_at": format_utc(row.created_at),
        "delivered_at": format_utc(row.delivered_at) if row.delivered_at else None,
        "next_attempt_at": format_utc(row.next_attempt_at) if pending else None,
        "last_error": row.last_error,
        "attempts": [_attempt(a) for a in attempts],
    }


@blp.route("/notifications", methods=["GET"])
@authenticated(*_OFFICIALS)
@blp.arguments(NotificationsQuerySchema, location="query")
@blp.response(200, NotificationsSchema)
@blp.problems(401, 403, 422)
@blp.doc(security=BEARER)
def delivery_log(query: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """Your notifications, newest first, with every delivery attempt."""
    with runtime.read() as session:
        rows = outbox.history(session, caller, query["limit"], query.get("before"))
        return {"notifications": [_notification(row, attempts) for row, attempts in rows]}
