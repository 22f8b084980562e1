"""Open envelopes: the recipient's side."""

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from marshmallow import ValidationError

from exchange.protocol.envelope.bounds import DEFAULT_LIMITS, Limits
from exchange.protocol.envelope.canonical import parse_canonical_object, sha256_b64url
from exchange.protocol.envelope.errors import (
    BadInnerSignatureError,
    DigestMismatchError,
    InvalidRecordError,
    MalformedEnvelopeError,
    NoRecordError,
    NotAddressedError,
    OversizeError,
    RecordCaseMismatchError,
    RecordMismatchError,
    SignerMismatchError,
)
from exchange.protocol.envelope.jose import RECORD_TYP, decrypt, parse_compact_jws, verify_compact
from exchange.protocol.envelope.structures import Envelope, OpenedRecord, VerifiedStatement
from exchange.protocol.envelope.verify import verify_with_jwe
from schemas.enums import SEALED_KINDS
from schemas.record import RecordSchema
from schemas.statement import meta_for

_RECORD_SCHEMA = RecordSchema()
_AGREEING_FIELDS = ("handoff_id", "kind", "issued_at", "sender", "to", "in_reply_to")


def open(
    envelope: Envelope,
    recipient_key: X25519PrivateKey,
    sender_keys: Mapping[str, Ed25519PublicKey],
    opener_org: str | None,
    limits: Limits = DEFAULT_LIMITS,
) -> OpenedRecord:
    """Decrypt with one recipient key and verify everything; return the verified record.

    `opener_org` is the organisation opening the record: it must be addressed in `to` or be
    the sender's own. None skips that check, for offline format tests only.
    """
    statement, jwe = verify_with_jwe(envelope, sender_keys, limits)
    record_sha256 = statement.statement.record_sha256
    if statement.kind not in SEALED_KINDS or jwe is None or record_sha256 is None:
        raise NoRecordError(f"a {statement.kind} statement carries no record")
    plaintext = decrypt(jwe, recipient_key)
    if len(plaintext) > limits.max_record_bytes:
        raise OversizeError(f"the record exceeds {limits.max_record_bytes} bytes")
    if sha256_b64url(plaintext) != record_sha256:
        raise DigestMismatchError("record_sha256 does not match the decrypted record")
    if not plaintext.isascii():
        raise MalformedEnvelopeError("the decrypted record is not a compact JWS")
    inner = parse_compact_jws(plaintext.decode("ascii"), RECORD_TYP, "record")
    if inner.kid != statement.kid:
        raise SignerMismatchError(
            f"the record is signed by {inner.kid} but the statement by {statement.kid}"
        )
    verify_compact(inner, sender_keys, "record", BadInnerSignatureError)
    record = parse_canonical_object(inner.payload, "record payload")
    try:
        _RECORD_SCHEMA.load(record)
    except ValidationError as exc:
        raise InvalidRecordError.from_validation("record", exc) from exc
    _check_agreement(record, statement)
    if opener_org is not None and opener_org not in {*record["to"], record["sender"]["org"]}:
        raise NotAddressedError(f"the record is addressed to {record['to']}, not {opener_org}")
    return OpenedRecord(statement, record, inner.token, record_sha256)


def _check_agreement(record: Mapping[str, Any], statement: VerifiedStatement) -> None:
    outer = statement.payload
    if record["case_id"] != outer["case_id"]:
        raise RecordCaseMismatchError(
            f"the record belongs to case {record['case_id']}, the statement to {outer['case_id']}"
        )
    for name in _AGREEING_FIELDS:
        if record[name] != outer[name]:
            raise RecordMismatchError(f"record and statement disagree on {name}")
    if meta_for(record) != outer["meta"]:
        raise RecordMismatchError("the statement's meta does not match the record")
