"""Tools of an attacker, or of a malicious sender, for the envelope tests.

They build envelopes the honest `seal` never would, using the same primitives, so each
test can reach exactly the check it means to exercise.
"""

import copy
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.protocol.envelope import Envelope
from exchange.protocol.envelope.canonical import canonical, sha256_b64url
from exchange.protocol.envelope.jose import RECORD_TYP, STATEMENT_TYP, encrypt, sign_compact
from keys import Identity, b64url_decode, b64url_encode


def flip_bit(b64: str, byte: int = 0, bit: int = 0) -> str:
    """The canonical base64url of the same bytes with one bit flipped."""
    data = bytearray(b64url_decode(b64))
    data[byte % len(data)] ^= 1 << bit
    return b64url_encode(bytes(data))


def statement_payload(envelope: Envelope) -> dict[str, Any]:
    return json.loads(b64url_decode(envelope.statement.split(".")[1]))


def resign(
    envelope: Envelope,
    key: Ed25519PrivateKey,
    payload: dict[str, Any] | None = None,
    jwe: dict[str, Any] | None = None,
) -> Envelope:
    """Re-sign a statement (optionally changed) over a JWE (optionally changed), as a
    malicious sender would: the outer signature and jwe_sha256 are then valid."""
    jwe = copy.deepcopy(envelope.jwe) if jwe is None else jwe
    payload = statement_payload(envelope) if payload is None else payload
    if jwe is not None:
        payload["jwe_sha256"] = sha256_b64url(canonical(jwe))
    return Envelope(sign_compact(canonical(payload), key, STATEMENT_TYP), jwe)


def compact(header: dict[str, Any], payload: bytes, signature: bytes = b"\0" * 64) -> str:
    """A compact JWS with any header, signed or not."""
    return ".".join(
        b64url_encode(part) for part in (json.dumps(header).encode(), payload, signature)
    )


def reseal_record(
    envelope: Envelope,
    sender: Identity,
    record_jws: str,
    recipients: list[Any],
    statement_changes: dict[str, Any] | None = None,
) -> Envelope:
    """Encrypt any inner JWS and sign a statement whose digests are consistent with it."""
    jwe = encrypt(record_jws.encode("ascii"), recipients)
    payload = statement_payload(envelope)
    payload["record_sha256"] = sha256_b64url(record_jws.encode("ascii"))
    payload.update(statement_changes or {})
    return resign(envelope, sender.signing_key, payload, jwe)


def sign_record(record: dict[str, Any], key: Ed25519PrivateKey) -> str:
    return sign_compact(canonical(record), key, RECORD_TYP)
