"""Where the ephemeral key may sit: each recipient's header, or, for a single recipient,
the protected header (RFC 7516 §7.2.1 allows either; panva/jose's GeneralEncrypt writes
the latter for one recipient). Never both, and never shared by several recipients."""

import json
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

from exchange.protocol import envelope as env
from exchange.protocol.envelope import errors
from exchange.protocol.envelope.canonical import sha256_b64url
from exchange.protocol.envelope.jose import RECORD_TYP
from keys import b64url_encode
from keys.jwk import kid_of
from tests.exchange.protocol.envelope import forge
from tests.schemas import examples


def _length_prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _epk_jwk(key: X25519PrivateKey) -> dict[str, str]:
    return {"kty": "OKP", "crv": "X25519", "x": b64url_encode(key.public_key().public_bytes_raw())}


def _shared_epk_jwe(plaintext: bytes, recipient: X25519PublicKey) -> dict[str, Any]:
    """ECDH-ES+A256KW / A256GCM (RFC 7518 §4.6, §5.3) with epk in the protected header,
    written step by step from the RFC: the shape panva/jose produces for one recipient."""
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(recipient)
    other_info = (
        _length_prefixed(b"ECDH-ES+A256KW")
        + _length_prefixed(b"")  # apu
        + _length_prefixed(b"")  # apv
        + (256).to_bytes(4, "big")
    )
    wrapping_key = ConcatKDFHash(hashes.SHA256(), 32, other_info).derive(shared)
    content_key = os.urandom(32)
    protected = b64url_encode(
        json.dumps(
            {"enc": "A256GCM", "cty": RECORD_TYP, "epk": _epk_jwk(ephemeral)},
            separators=(",", ":"),
        ).encode()
    )
    iv = os.urandom(12)
    sealed = AESGCM(content_key).encrypt(iv, plaintext, protected.encode("ascii"))
    return {
        "protected": protected,
        "recipients": [
            {
                "header": {"alg": "ECDH-ES+A256KW", "kid": kid_of(recipient)},
                "encrypted_key": b64url_encode(aes_key_wrap(wrapping_key, content_key)),
            }
        ],
        "iv": b64url_encode(iv),
        "ciphertext": b64url_encode(sealed[:-16]),
        "tag": b64url_encode(sealed[-16:]),
    }


def _record_and_jwe(platform, agency, case_record) -> tuple[str, dict[str, Any]]:
    """The signed record, encrypted to the platform with the epk in the protected header."""
    record_jws = forge.sign_record(
        {"typ": "hotline.record/v1", **case_record}, agency.identity.signing_key
    )
    jwe = _shared_epk_jwe(record_jws.encode("ascii"), platform.identity.encryption_public_key)
    return record_jws, jwe


def _envelope(sealed, agency, record_jws, jwe):
    """The statement re-signed over this record and JWE, as an honest sender would sign it."""
    payload = forge.statement_payload(sealed)
    payload["record_sha256"] = sha256_b64url(record_jws.encode("ascii"))
    return forge.resign(sealed, agency.identity.signing_key, payload, jwe)


def test_one_recipient_with_epk_in_the_protected_header_opens(
    sealed, platform, agency, case_record
):
    record_jws, jwe = _record_and_jwe(platform, agency, case_record)
    opened = env.open(
        _envelope(sealed, agency, record_jws, jwe),
        platform.identity.encryption_key,
        agency.signing_keys,
        examples.PLATFORM,
    )
    assert opened.record == case_record


def test_epk_in_both_places_is_refused(sealed, platform, agency, case_record):
    record_jws, jwe = _record_and_jwe(platform, agency, case_record)
    jwe["recipients"][0]["header"]["epk"] = _epk_jwk(X25519PrivateKey.generate())
    with pytest.raises(
        errors.ForbiddenHeaderError,
        match=r"^jwe recipient 0 carries epk and so does the protected header: one place only$",
    ):
        env.verify_statement(_envelope(sealed, agency, record_jws, jwe), agency.signing_keys)


def test_a_protected_epk_shared_by_two_recipients_is_refused(sealed, platform, agency, case_record):
    record_jws, jwe = _record_and_jwe(platform, agency, case_record)
    second = dict(jwe["recipients"][0])
    second["header"] = {**second["header"], "kid": agency.identity.encryption_kid}
    jwe["recipients"].append(second)
    with pytest.raises(
        errors.MalformedEnvelopeError,
        match=r"^jwe protected header carries epk, which only a single recipient may share$",
    ):
        env.verify_statement(_envelope(sealed, agency, record_jws, jwe), agency.signing_keys)


def test_an_epk_in_neither_place_is_refused(sealed, agency):
    jwe = json.loads(json.dumps(sealed.jwe))
    del jwe["recipients"][0]["header"]["epk"]
    tampered = forge.resign(sealed, agency.identity.signing_key, jwe=jwe)
    with pytest.raises(errors.MalformedEnvelopeError, match=r"^jwe recipient 0 lacks header epk$"):
        env.verify_statement(tampered, agency.signing_keys)


def test_a_low_order_protected_epk_is_refused(sealed, platform, agency, case_record):
    record_jws, jwe = _record_and_jwe(platform, agency, case_record)
    header = {
        "enc": "A256GCM",
        "cty": RECORD_TYP,
        "epk": {"kty": "OKP", "crv": "X25519", "x": b64url_encode(bytes(32))},
    }
    jwe["protected"] = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    with pytest.raises(
        errors.LowOrderPointError, match=r"^jwe protected header epk is a low-order point$"
    ):
        env.verify_statement(_envelope(sealed, agency, record_jws, jwe), agency.signing_keys)
