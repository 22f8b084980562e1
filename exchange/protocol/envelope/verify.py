"""What the server runs on every handoff: the outer statement, without decrypting anything."""

from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from marshmallow import ValidationError

from exchange.protocol.envelope.bounds import DEFAULT_LIMITS, Limits
from exchange.protocol.envelope.canonical import parse_canonical_object, sha256_b64url
from exchange.protocol.envelope.errors import (
    DigestMismatchError,
    InvalidStatementError,
    MalformedEnvelopeError,
    OversizeError,
)
from exchange.protocol.envelope.jose import (
    STATEMENT_TYP,
    JWEParts,
    parse_compact_jws,
    parse_jwe,
    verify_compact,
)
from exchange.protocol.envelope.structures import Envelope, VerifiedStatement
from schemas.enums import SEALED_KINDS
from schemas.statement import load_statement


def verify_statement(
    envelope: Envelope,
    sender_keys: Mapping[str, Ed25519PublicKey],
    limits: Limits = DEFAULT_LIMITS,
) -> VerifiedStatement:
    """Check the outer signature, the statement schema and `jwe_sha256`; return the statement.

    `sender_keys` maps kid to the sender's signing keys; which keys are acceptable (active,
    or valid at a past log index) is the caller's decision.
    """
    return verify_with_jwe(envelope, sender_keys, limits)[0]


def verify_with_jwe(
    envelope: Envelope,
    sender_keys: Mapping[str, Ed25519PublicKey],
    limits: Limits,
) -> tuple[VerifiedStatement, JWEParts | None]:
    """`verify_statement`, also returning the policy-checked JWE for a recipient to open."""
    if len(envelope.statement) > limits.max_statement_bytes:
        raise OversizeError(f"statement exceeds {limits.max_statement_bytes} bytes")
    jwe_bytes = envelope.jwe_bytes
    if jwe_bytes is not None and len(jwe_bytes) > limits.max_jwe_bytes:
        raise OversizeError(f"jwe exceeds {limits.max_jwe_bytes} bytes")
    jws = parse_compact_jws(envelope.statement, STATEMENT_TYP, "statement")
    jwe = parse_jwe(envelope.jwe, limits.max_recipients) if envelope.jwe is not None else None
    verify_compact(jws, sender_keys, "statement")
    payload = parse_canonical_object(jws.payload, "statement payload")
    try:
        statement = load_statement(payload)
    except ValidationError as exc:
        raise InvalidStatementError.from_validation("statement", exc) from exc
    if statement.sender.kid != jws.kid:
        raise InvalidStatementError("statement sender.kid is not the key that signed it")
    sealed = statement.kind in SEALED_KINDS
    if sealed and jwe_bytes is None:
        raise MalformedEnvelopeError(f"a {statement.kind} statement needs its jwe")
    if not sealed and jwe_bytes is not None:
        raise MalformedEnvelopeError(f"a {statement.kind} statement carries no jwe")
    if jwe_bytes is not None and sha256_b64url(jwe_bytes) != statement.jwe_sha256:
        raise DigestMismatchError("jwe_sha256 does not match the jwe")
    return VerifiedStatement(envelope.statement, statement, jws.kid), jwe
