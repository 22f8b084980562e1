"""Bare outer statements, as the log stores them: the JWS without its JWE.

`exchange.protocol.envelope.verify_statement` checks an envelope (statement and JWE together); the
log keeps the statement and the JWE's digest only, so the auditor checks the statement
alone with the same pieces: the strict JOSE policy (`parse_compact_jws`), canonical
payload, the statement schema, the sender's kid, and then the signature.
"""

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from marshmallow import ValidationError

from exchange.protocol.envelope.bounds import DEFAULT_LIMITS
from exchange.protocol.envelope.canonical import parse_canonical_object
from exchange.protocol.envelope.errors import (
    BadSignatureError,
    EnvelopeError,
    InvalidStatementError,
    OversizeError,
    UnknownSignerKeyError,
)
from exchange.protocol.envelope.jose import STATEMENT_TYP, CompactJWS, parse_compact_jws
from exchange.protocol.envelope.structures import VerifiedStatement
from schemas.statement import Statement, typed_statement, validate_statement


@dataclass(frozen=True, slots=True)
class CheckedStatement:
    """A statement that passed every check but its signature, and what to verify it with.

    `signing_input` is the JWS Signing Input (RFC 7515 §5.2): the first two base64url parts
    as they appear in the token. `parse_compact_jws` accepts only canonical base64url, so
    these are the very bytes joserfc would verify.
    """

    token: str
    statement: Statement
    kid: str
    signature: bytes
    signing_input: bytes


def _checked(token: str) -> tuple[CompactJWS, dict[str, Any]]:
    """The JWS and its validated payload, everything checked but the signature."""
    if len(token) > DEFAULT_LIMITS.max_statement_bytes:
        raise OversizeError(f"statement exceeds {DEFAULT_LIMITS.max_statement_bytes} bytes")
    jws = parse_compact_jws(token, STATEMENT_TYP, "statement")
    payload = parse_canonical_object(jws.payload, "statement payload")
    try:
        document = validate_statement(payload)
    except ValidationError as exc:
        raise InvalidStatementError.from_validation("statement", exc) from exc
    if document["sender"]["kid"] != jws.kid:
        raise InvalidStatementError("statement sender.kid is not the key that signed it")
    return jws, document


def check_statement(token: str) -> CheckedStatement:
    """Everything `verify_statement` checks of the statement itself, except the signature."""
    jws, document = _checked(token)
    return CheckedStatement(
        token, typed_statement(document), jws.kid, jws.signature, jws.signing_input
    )


def statement_problem(token: str, kid: str, key: Ed25519PublicKey) -> str | None:
    """Why a logged statement by `kid` (the entry's actor's key) does not verify, or None.

    The signature is checked as `jose.verify_compact` checks it (pyca, over the JWS
    Signing Input `parse_compact_jws` has passed), returning a reason instead of raising.
    """
    try:
        jws, _ = _checked(token)  # the verdict only: the replay reads the payload itself
    except EnvelopeError as exc:
        return f"the statement is refused: {exc} ({exc.code})"
    if jws.kid != kid:
        return f"the statement is signed by key {jws.kid}, the entry names {kid}"
    try:
        key.verify(jws.signature, jws.signing_input)
    except InvalidSignature:
        return f"the statement's signature by key {kid} does not verify"
    return None


def verify_bare_statement(
    token: str, sender_keys: dict[str, Ed25519PublicKey]
) -> VerifiedStatement:
    """Verify a statement without its JWE; return it, as `verify_statement` does an envelope.

    The caller checks the statement's `jwe_sha256` against the digest it has (the log's).
    """
    checked = check_statement(token)
    key = sender_keys.get(checked.kid)
    if key is None:
        raise UnknownSignerKeyError(f"statement is signed by key {checked.kid}, not the sender's")
    try:
        key.verify(checked.signature, checked.signing_input)
    except InvalidSignature as exc:
        raise BadSignatureError("statement signature does not verify") from exc
    return VerifiedStatement(token, checked.statement, checked.kid)
