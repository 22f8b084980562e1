"""Build envelopes: the sender's side."""

from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from marshmallow import Schema, ValidationError

from exchange.protocol.envelope.bounds import DEFAULT_LIMITS, Limits
from exchange.protocol.envelope.canonical import canonical, sha256_b64url
from exchange.protocol.envelope.errors import SealError
from exchange.protocol.envelope.jose import RECORD_TYP, STATEMENT_TYP, encrypt, sign_compact
from exchange.protocol.envelope.structures import RECORD_TYPE, STATEMENT_TYPE, Envelope
from keys.jwk import kid_of_private
from schemas.enums import SEALED_KINDS, SIGNED_ONLY_KINDS
from schemas.messages import describe
from schemas.record import RecordSchema
from schemas.statement import StatementSchema, meta_for

_RECORD_SCHEMA = RecordSchema()
_STATEMENT_SCHEMA = StatementSchema()
# What the statement repeats from the record, so the server can route without decrypting.
_SHARED_FIELDS = ("handoff_id", "case_id", "kind", "issued_at", "sender", "to", "in_reply_to")


def _check_signer(fields: Mapping[str, Any], signing_key: Ed25519PrivateKey) -> None:
    kid = kid_of_private(signing_key)
    sender = fields.get("sender")
    if not isinstance(sender, Mapping) or sender.get("kid") != kid:
        raise SealError(f"sender.kid must be the signing key's kid {kid}")


def _validated(schema: Schema, document: Mapping[str, Any], what: str) -> None:
    try:
        schema.load(document)
    except ValidationError as exc:
        raise SealError(f"invalid {what}: {describe(exc.messages)}") from exc


def seal(
    record: Mapping[str, Any],
    signing_key: Ed25519PrivateKey,
    recipients: Sequence[X25519PublicKey],
    limits: Limits = DEFAULT_LIMITS,
) -> Envelope:
    """Sign the record, encrypt it to every recipient key, and sign the statement over it."""
    record = {"typ": RECORD_TYPE, **record}
    if record.get("kind") not in SEALED_KINDS:
        raise SealError(f"kind {record.get('kind')!r} carries no record; use sign_statement")
    _check_signer(record, signing_key)
    _validated(_RECORD_SCHEMA, record, "record")
    if not recipients:
        raise SealError("a sealed record needs at least one recipient key")
    if len(recipients) > limits.max_recipients:
        raise SealError(f"at most {limits.max_recipients} recipient keys")
    if len({key.public_bytes_raw() for key in recipients}) != len(recipients):
        raise SealError("a recipient key is named twice")
    payload = canonical(record)
    record_jws = sign_compact(payload, signing_key, RECORD_TYP)
    if len(record_jws) > limits.max_record_bytes:
        raise SealError(f"the signed record exceeds {limits.max_record_bytes} bytes")
    jwe = encrypt(record_jws.encode("ascii"), recipients)
    statement = {
        "typ": STATEMENT_TYPE,
        **{name: record[name] for name in _SHARED_FIELDS},
        "meta": meta_for(record),
        "jwe_sha256": sha256_b64url(canonical(jwe)),
        "record_sha256": sha256_b64url(record_jws.encode("ascii")),
    }
    return Envelope(sign_compact(canonical(statement), signing_key, STATEMENT_TYP), jwe)


def sign_statement(fields: Mapping[str, Any], signing_key: Ed25519PrivateKey) -> Envelope:
    """Sign a statement that carries no record (a receipt, an assignment)."""
    statement = {"typ": STATEMENT_TYPE, **fields, "jwe_sha256": None, "record_sha256": None}
    if statement.get("kind") not in SIGNED_ONLY_KINDS:
        raise SealError(f"kind {statement.get('kind')!r} needs a sealed record; use seal")
    _check_signer(statement, signing_key)
    _validated(_STATEMENT_SCHEMA, statement, "statement")
    return Envelope(sign_compact(canonical(statement), signing_key, STATEMENT_TYP), None)
