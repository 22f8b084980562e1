"""`POST /v1/enroll`, and key rotation and revocation by the official."""

from typing import Any

from exchange import runtime
from exchange.api.auth import authenticated
from exchange.api.blueprint import BEARER, Blueprint
from exchange.runtime import now, seconds, server_keys, token_endpoint
from exchange.services import enrollment as key_service
from exchange.services import transparency
from exchange.services.caller import Caller
from exchange.services.enrollment import KeyChange
from schemas.api import (
    EnrollRequestSchema,
    EnrollResponseSchema,
    InvitationRequestSchema,
    InvitationSchema,
    KeyChangeSchema,
    RevokeRequestSchema,
    RotateRequestSchema,
)

blp = Blueprint("keys", __name__, url_prefix="/v1", description="Enrollment and keys")


def _key_change(change: KeyChange) -> dict[str, Any]:
    with runtime.read() as session:
        receipt = transparency.receipt(session, change.log_index).to_json()
    return {
        "official": change.official.id,
        "org": change.official.org_id,
        "role": change.official.role,
        "keys": [key.jwk for key in change.keys],
        "log": receipt,
    }


@blp.route("/enroll/invitation", methods=["POST"])
@blp.arguments(InvitationRequestSchema)
@blp.response(200, InvitationSchema)
@blp.problems(400, 403, 413, 415, 422, 429)
def invitation(body: dict[str, Any]) -> dict[str, Any]:
    """What a code enrolls (organisation, official, role), so the client can sign for it.

    The code travels in the body, never in a URL that a proxy might transparency.
    """
    with runtime.read() as session:
        official, org = key_service.invitation(session, now(), body["code"])
    return {
        "org": org.id,
        "org_name": org.name,
        "official": official.id,
        "role": official.role,
        "title": official.title,
    }


@blp.route("/enroll", methods=["POST"])
@blp.arguments(EnrollRequestSchema)
@blp.response(201, EnrollResponseSchema)
@blp.problems(400, 403, 413, 415, 422, 429)
def enroll(body: dict[str, Any]) -> dict[str, Any]:
    """Redeem a one-time code: register your public keys, proving you hold the signing key."""
    with runtime.write() as session:
        change = key_service.enroll(
            session, now(), seconds("CLOCK_SKEW_SECONDS"), body["code"], body["statement"]
        )
    log_key = server_keys().log
    return {
        **_key_change(change),
        "log_origin": log_key.name,
        "log_verifier_key": log_key.verifier_key,
        "token_endpoint": token_endpoint(),
    }


@blp.route("/keys/rotate", methods=["POST"])
@authenticated()
@blp.arguments(RotateRequestSchema)
@blp.response(201, KeyChangeSchema)
@blp.problems(400, 401, 403, 413, 415, 422)
@blp.doc(security=BEARER)
def rotate(body: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """Replace your keys: signed by your current key, proven by the new one."""
    with runtime.write() as session:
        change = key_service.rotate(
            session, now(), seconds("CLOCK_SKEW_SECONDS"), caller, body["statement"], body["proof"]
        )
    return _key_change(change)


@blp.route("/keys/<string:kid>/revoke", methods=["POST"])
@authenticated()
@blp.arguments(RevokeRequestSchema)
@blp.response(201, KeyChangeSchema)
@blp.problems(400, 401, 403, 404, 413, 415, 422)
@blp.doc(security=BEARER)
def revoke(body: dict[str, Any], kid: str, caller: Caller) -> dict[str, Any]:
    """Revoke one of your keys (a lost or compromised one), with a signed statement."""
    with runtime.write() as session:
        change = key_service.revoke(
            session, now(), seconds("CLOCK_SKEW_SECONDS"), caller, kid, body["statement"]
        )
    return _key_change(change)
