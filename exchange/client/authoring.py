"""What a client signs: client assertions and key-management statements. Pure; no HTTP."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.protocol import key_management
from exchange.protocol.envelope import jose
from exchange.protocol.envelope.canonical import canonical
from keys import Identity
from schemas.common import format_utc
from schemas.keys import ENROLLMENT_TYP, REVOCATION_TYP, ROTATION_TYP
from schemas.membership import MEMBERSHIP_TYP
from schemas.subscriptions import SUBSCRIPTION_REMOVAL_TYP, SUBSCRIPTION_TYP, target_sha256

ASSERTION_LIFETIME = timedelta(seconds=120)
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def client_assertion(
    identity: Identity, official_id: str, audience: str, now: datetime, jti: str | None = None
) -> str:
    """An RFC 7523 client assertion: a JWT signed with the official's Ed25519 key."""
    claims = {
        "iss": official_id,
        "sub": official_id,
        "aud": audience,
        "iat": int(now.timestamp()),
        "exp": int((now + ASSERTION_LIFETIME).timestamp()),
        "jti": jti or str(uuid.uuid4()),
    }
    # The same compact JWS as every statement: header {alg: Ed25519, kid, typ: JWT}.
    return jose.sign_compact(canonical(claims), identity.signing_key, "JWT")


def _jwks(identity: Identity) -> dict[str, Any]:
    return identity.public_jwks()


def enrollment(
    identity: Identity, org_id: str, official_id: str, code_sha256: str, now: datetime
) -> str:
    """The enrollment statement, signed by the new signing key (proof of possession)."""
    return key_management.sign(
        {
            "typ": ENROLLMENT_TYP,
            "org": org_id,
            "official": official_id,
            "code_sha256": code_sha256,
            "jwks": _jwks(identity),
            "issued_at": format_utc(now),
        },
        identity.signing_key,
    )


def rotation(
    current: Ed25519PrivateKey, new: Identity, org_id: str, official_id: str, now: datetime
) -> tuple[str, str]:
    """The rotation statement (signed by the current key) and its proof (by the new key)."""
    payload = {
        "typ": ROTATION_TYP,
        "org": org_id,
        "official": official_id,
        "jwks": _jwks(new),
        "issued_at": format_utc(now),
    }
    return key_management.sign(payload, current), key_management.sign(payload, new.signing_key)


def revocation(
    signer: Ed25519PrivateKey, org_id: str, official_id: str, kid: str, reason: str, now: datetime
) -> str:
    return key_management.sign(
        {
            "typ": REVOCATION_TYP,
            "org": org_id,
            "official": official_id,
            "kid": kid,
            "reason": reason,
            "issued_at": format_utc(now),
        },
        signer,
    )


def subscription(
    signer: Ed25519PrivateKey,
    org_id: str,
    official_id: str,
    *,
    subscription_id: str,
    channel: str,
    target: str,
    scope: str,
    events: Sequence[str],
    priorities: Sequence[str],
    now: datetime,
) -> str:
    """Register a notification target: the statement names it by its SHA-256 only."""
    return key_management.sign(
        {
            "typ": SUBSCRIPTION_TYP,
            "org": org_id,
            "official": official_id,
            "subscription_id": subscription_id,
            "channel": channel,
            "target_sha256": target_sha256(target),
            "scope": scope,
            "events": sorted(set(events)),
            "priorities": sorted(set(priorities)),
            "issued_at": format_utc(now),
        },
        signer,
    )


def subscription_removal(
    signer: Ed25519PrivateKey, org_id: str, official_id: str, subscription_id: str, now: datetime
) -> str:
    return key_management.sign(
        {
            "typ": SUBSCRIPTION_REMOVAL_TYP,
            "org": org_id,
            "official": official_id,
            "subscription_id": subscription_id,
            "issued_at": format_utc(now),
        },
        signer,
    )


def membership(
    signer: Ed25519PrivateKey,
    org_id: str,
    action: str,
    now: datetime,
    statement_id: str | None = None,
    **fields: Any,
) -> str:
    """A lead's membership statement (`schemas.membership`): invite, approve, remove, route."""
    payload = {
        "typ": MEMBERSHIP_TYP,
        "statement_id": statement_id or new_id(),
        "action": action,
        "org": org_id,
        "issued_at": format_utc(now),
        **{name: value for name, value in fields.items() if value is not None},
    }
    return key_management.sign(payload, signer)


def new_id() -> str:
    return str(uuid.uuid4())


__all__ = [
    "CLIENT_ASSERTION_TYPE",
    "client_assertion",
    "enrollment",
    "membership",
    "new_id",
    "revocation",
    "rotation",
    "subscription",
    "subscription_removal",
]
