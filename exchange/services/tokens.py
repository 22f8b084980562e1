"""OAuth 2.0 client credentials with private_key_jwt (RFC 7523): assertion → caller.

The client assertion is a JWT signed with the official's registered Ed25519 key:
`iss` = `sub` = the official's id, `aud` = the token endpoint URL, `exp` at most a few
minutes ahead, and a `jti` that is accepted once. No passwords or shared secrets exist.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws as joserfc_jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from sqlalchemy import delete
from sqlalchemy.orm import Session

from exchange.errors import AssertionReplayError, InvalidClientAssertionError
from exchange.protocol.envelope.errors import EnvelopeError
from exchange.protocol.envelope.jose import decode_b64
from exchange.protocol.key_usage import KeyPurpose, usable
from exchange.services import directory
from exchange.services.caller import Caller
from exchange.storage.models import OfficialKey, UsedAssertion

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_CHARS = 4096
# RFC 9864 names Ed25519 "Ed25519"; most OAuth libraries still say "EdDSA". Both mean the
# same signature with the same key, so both are accepted here (and only here).
_ALGS = ("Ed25519", "EdDSA")
_HEADER_MEMBERS = frozenset({"alg", "kid", "typ"})


def _refuse(detail: str) -> InvalidClientAssertionError:
    return InvalidClientAssertionError(detail)


def _decode(assertion: str) -> tuple[dict[str, Any], bytes]:
    """The header and claims, checked against the policy; joserfc verifies the signature."""
    if len(assertion) > MAX_ASSERTION_CHARS or assertion.count(".") != 2:
        raise _refuse("client_assertion must be a compact JWS")
    head, body, signature = assertion.split(".")
    try:
        header = json.loads(decode_b64(head, "header").decode("utf-8"))
        payload = decode_b64(body, "payload")
        decode_b64(signature, "signature")
    except (EnvelopeError, UnicodeDecodeError, ValueError) as exc:
        raise _refuse("client_assertion is not well-formed") from exc
    if not isinstance(header, dict) or not set(header) <= _HEADER_MEMBERS:
        raise _refuse(f"client_assertion header may hold only {', '.join(sorted(_HEADER_MEMBERS))}")
    if header.get("alg") not in _ALGS:
        raise _refuse("client_assertion must be signed with Ed25519")
    if header.get("typ", "JWT") != "JWT" or not isinstance(header.get("kid"), str):
        raise _refuse("client_assertion header needs a kid (and typ JWT if any)")
    return header, payload


def _claims(payload: bytes) -> dict[str, Any]:
    try:
        claims = json.loads(payload)
    except ValueError as exc:
        raise _refuse("client_assertion claims are not JSON") from exc
    if not isinstance(claims, dict):
        raise _refuse("client_assertion claims must be an object")
    return claims


def _moment(value: object, claim: str) -> datetime:
    """A NumericDate claim as a time; integers only, and only those the calendar holds."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise _refuse(f"{claim} must be an integer (seconds since the epoch)")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise _refuse(f"{claim} is out of range") from exc


def authenticate(
    session: Session,
    now: datetime,
    assertion: str,
    audience: str,
    max_lifetime: timedelta,
    skew: timedelta,
) -> Caller:
    """Verify a client assertion and consume its jti; return the official it authenticates."""
    header, payload = _decode(assertion)
    key = session.get(OfficialKey, header["kid"])
    caller = directory.active_caller(session, key.official_id, key.kid) if key else None
    if key is None or not usable(key.use, key.status, KeyPurpose.SIGN) or caller is None:
        raise _refuse(
            "the assertion's key is not an active signing key of an active, approved official"
        )
    public = OKPKey.import_key({name: key.jwk[name] for name in ("kty", "crv", "x")})
    try:
        joserfc_jws.deserialize_compact(assertion, public, algorithms=list(_ALGS))
    except (JoseError, ValueError) as exc:
        raise _refuse("the client_assertion signature does not verify") from exc
    claims = _claims(payload)
    if claims.get("iss") != key.official_id or claims.get("sub") != key.official_id:
        raise _refuse("iss and sub must both be the official's id")
    audiences = claims.get("aud")
    if audience not in (audiences if isinstance(audiences, list) else [audiences]):
        raise _refuse(f"aud must be the token endpoint {audience}")
    expires = _moment(claims.get("exp"), "exp")
    if expires <= now:
        raise _refuse("the client_assertion has expired")
    if expires > now + max_lifetime + skew:
        raise _refuse(f"exp may be at most {int(max_lifetime.total_seconds())} s ahead")
    for claim in ("nbf", "iat"):
        if claim in claims and _moment(claims[claim], claim) > now + skew:
            raise _refuse(f"{claim} must be a time that has passed")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 255:
        raise _refuse("jti must be a string of 1-255 characters")
    session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now))
    if session.get(UsedAssertion, (key.official_id, jti)) is not None:
        raise AssertionReplayError("this client_assertion (jti) was already used")
    session.add(UsedAssertion(issuer=key.official_id, jti=jti, expires_at=expires))
    return caller
