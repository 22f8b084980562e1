"""Officials' keys: enrollment (proof of possession), rotation and revocation.

Keys are never deleted. A rotated key is retired and a revoked key is revoked; both stay
known so that the statements they signed while valid still verify, and the log records
each change so an auditor can replay who held which key at every index.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange import log
from exchange.errors import (
    EnrollmentCodeError,
    ForbiddenError,
    KeyRegistrationError,
    NotFoundError,
)
from exchange.log import Actor
from exchange.protocol import key_management
from exchange.protocol.envelope.canonical import strict_json
from exchange.protocol.envelope.errors import EnvelopeError
from exchange.protocol.envelope.jose import parse_compact_jws
from exchange.protocol.events import Event
from exchange.protocol.key_management import code_sha256
from exchange.services import directory
from exchange.services.caller import Caller
from exchange.services.clock import check_issued_at
from exchange.storage.models import EnrollmentCode, Official, OfficialKey, Organisation
from keys import InvalidJWKError, load_public_jwk
from schemas.enums import KeyStatus, KeyUse
from schemas.keys import (
    KEYS_STATEMENT_TYP,
    IdentityJwks,
    load_enrollment,
    load_revocation,
    load_rotation,
)

T = TypeVar("T")


@dataclass(frozen=True)
class KeyChange:
    official: Official
    keys: Sequence[OfficialKey]
    log_index: int


def _check_jwks(jwks: IdentityJwks) -> None:
    """Each new key must be a well-formed key with its thumbprint as kid."""
    try:
        for jwk in jwks.documents:
            load_public_jwk(jwk, use="sig" if jwk["use"] == KeyUse.SIG else "enc")
    except InvalidJWKError as exc:
        raise KeyRegistrationError(str(exc)) from exc


def _proven(token: str, load: Callable[[Mapping[str, Any]], T], sig_jwk: Mapping[str, Any]) -> T:
    """Verify a statement signed by the new signing key itself: proof of possession."""
    try:
        key = load_public_jwk(sig_jwk, use="sig")
    except InvalidJWKError as exc:
        raise KeyRegistrationError(f"the new signing key is not acceptable: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyRegistrationError("the signing key must be Ed25519")
    try:
        return key_management.verify(token, {sig_jwk["kid"]: key}, load)
    except EnvelopeError as exc:
        raise KeyRegistrationError(f"proof of possession failed: {exc}") from exc


def _register(
    session: Session, official: Official, jwks: IdentityJwks, now: datetime, index: int
) -> list[OfficialKey]:
    known = session.scalars(select(OfficialKey.kid).where(OfficialKey.kid.in_(jwks.kids))).all()
    if known:
        raise KeyRegistrationError(f"key {known[0]} is already registered")
    rows = [
        OfficialKey(
            kid=jwk["kid"],
            official_id=official.id,
            use=jwk["use"],
            jwk=dict(jwk),
            status=KeyStatus.ACTIVE,
            registered_at=now,
            registered_log_index=index,
            retired_at=None,
        )
        for jwk in jwks.documents
    ]
    session.add_all(rows)
    return rows


def _retire_active(session: Session, official_id: str, now: datetime) -> list[str]:
    retired = []
    for key in session.scalars(
        select(OfficialKey).where(
            OfficialKey.official_id == official_id, OfficialKey.status == KeyStatus.ACTIVE
        )
    ):
        key.status = KeyStatus.RETIRED
        key.retired_at = now
        retired.append(key.kid)
    return sorted(retired)


def _redeemable(
    session: Session, now: datetime, code: str
) -> tuple[EnrollmentCode, Official, Organisation]:
    row = session.get(EnrollmentCode, code_sha256(code))
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise EnrollmentCodeError("the enrollment code is unknown, used or expired")
    official = session.get(Official, row.official_id)
    org = session.get(Organisation, official.org_id) if official else None
    if official is None or org is None or not official.active or not org.active:
        raise EnrollmentCodeError("the invited official is no longer active")
    return row, official, org


def invitation(session: Session, now: datetime, code: str) -> tuple[Official, Organisation]:
    """Who a still-valid code enrolls; reading it does not use the code up."""
    _, official, org = _redeemable(session, now, code)
    return official, org


def enroll(
    session: Session, now: datetime, skew: timedelta, code: str, statement: str
) -> KeyChange:
    """Redeem a one-time code with the official's new public keys, signed by the new key."""
    row, official, org = _redeemable(session, now, code)
    claimed, unverified = _unverified_jwks_statement(statement)
    sig_jwk = unverified["jwks"]["keys"][0]
    if claimed != sig_jwk.get("kid"):
        raise KeyRegistrationError("the statement must be signed by the new signing key")
    enrollment = _proven(statement, load_enrollment, sig_jwk)
    if (enrollment.org, enrollment.official) != (org.id, official.id):
        raise KeyRegistrationError(f"this code enrolls {official.id} of {org.id}")
    if enrollment.code_sha256 != row.code_sha256:
        raise KeyRegistrationError("the statement names another enrollment code")
    check_issued_at(enrollment.issued_at, now, skew)
    _check_jwks(enrollment.jwks)
    retired = _retire_active(session, official.id, now)
    appended = log.append(
        session,
        Event.OFFICIAL_ENROLLED,
        now,
        actor=Actor(org.id, official.id, sig_jwk["kid"]),
        statement=statement,
        details={"keys": enrollment.jwks.documents, "retired": retired, "role": official.role},
    )
    keys = _register(session, official, enrollment.jwks, now, appended.index)
    row.used_at = now
    official.enrolled = True
    return KeyChange(official, keys, appended.index)


def _unverified_jwks_statement(statement: str) -> tuple[str, dict[str, Any]]:
    """The payload before verification, only to find the key that must have signed it."""
    try:
        if len(statement) > key_management.MAX_KEY_STATEMENT_CHARS:
            raise KeyRegistrationError("the statement is too large")
        jws = parse_compact_jws(statement, KEYS_STATEMENT_TYP, "key statement")
        payload = strict_json(jws.payload, "key statement payload")
    except EnvelopeError as exc:
        raise KeyRegistrationError(f"the statement is malformed: {exc}") from exc
    jwks = payload.get("jwks") if isinstance(payload, dict) else None
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not keys or not isinstance(keys[0], dict):
        raise KeyRegistrationError("the statement must carry jwks with the signing key first")
    return jws.kid, payload


def rotate(
    session: Session, now: datetime, skew: timedelta, caller: Caller, statement: str, proof: str
) -> KeyChange:
    """Replace the caller's keys: authorised by a current key, proven by the new one."""
    official = _own_official(session, caller)
    try:
        rotation = key_management.verify(
            statement, directory.signing_keys(session, official.id), load_rotation
        )
    except EnvelopeError as exc:
        raise KeyRegistrationError(f"the rotation statement is not acceptable: {exc}") from exc
    if _proven(proof, load_rotation, rotation.jwks.signing) != rotation:
        raise KeyRegistrationError("the proof must sign the same rotation statement")
    if (rotation.org, rotation.official) != (caller.org_id, caller.official_id):
        raise ForbiddenError("a rotation statement must name its own signer")
    check_issued_at(rotation.issued_at, now, skew)
    _check_jwks(rotation.jwks)
    signer = key_management.signer_kid(statement)
    retired = _retire_active(session, official.id, now)
    appended = log.append(
        session,
        Event.KEY_ROTATED,
        now,
        actor=Actor(caller.org_id, caller.official_id, signer),
        statement=statement,
        details={"keys": rotation.jwks.documents, "retired": retired, "proof": proof},
    )
    keys = _register(session, official, rotation.jwks, now, appended.index)
    return KeyChange(official, keys, appended.index)


def revoke(
    session: Session, now: datetime, skew: timedelta, caller: Caller, kid: str, statement: str
) -> KeyChange:
    """The official revokes one of their keys (possibly the one that signs the revocation)."""
    official = _own_official(session, caller)
    key = session.get(OfficialKey, kid)
    if key is None or key.official_id != official.id:
        raise NotFoundError(f"no key {kid} of yours")
    try:
        revocation = key_management.verify(
            statement, directory.signing_keys(session, official.id), load_revocation
        )
    except EnvelopeError as exc:
        raise KeyRegistrationError(f"the revocation statement is not acceptable: {exc}") from exc
    named = (revocation.org, revocation.official, revocation.kid)
    if named != (caller.org_id, official.id, kid):
        raise KeyRegistrationError("the revocation statement names another key or official")
    check_issued_at(revocation.issued_at, now, skew)
    return _revoke(
        session,
        now,
        key,
        revocation.reason,
        Actor(caller.org_id, official.id, key_management.signer_kid(statement)),
        statement,
    )


def revoke_by_operator(session: Session, now: datetime, kid: str, reason: str) -> KeyChange:
    key = session.get(OfficialKey, kid)
    if key is None:
        raise NotFoundError(f"no key {kid}")
    return _revoke(session, now, key, reason, None, None)


def _revoke(
    session: Session,
    now: datetime,
    key: OfficialKey,
    reason: str,
    actor: Actor | None,
    statement: str | None,
) -> KeyChange:
    if key.status == KeyStatus.REVOKED:
        raise KeyRegistrationError(f"key {key.kid} is already revoked")
    official = session.get(Official, key.official_id)
    if official is None:
        raise NotFoundError(f"no official for key {key.kid}")
    key.status = KeyStatus.REVOKED
    key.retired_at = now
    appended = log.append(
        session,
        Event.KEY_REVOKED,
        now,
        actor=actor,
        statement=statement,
        details={"official": official.id, "org": official.org_id, "kid": key.kid, "reason": reason},
    )
    return KeyChange(official, [key], appended.index)


def _own_official(session: Session, caller: Caller) -> Official:
    official = session.get(Official, caller.official_id)
    if official is None:
        raise NotFoundError(f"no official {caller.official_id}")
    return official
