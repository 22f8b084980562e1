"""Every refusal of the strict policy, each reached on purpose and named by its own error."""

import copy
import hashlib
import hmac
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from exchange.protocol import envelope as env
from exchange.protocol.envelope import errors
from exchange.protocol.envelope.canonical import canonical
from keys import b64url_decode, b64url_encode
from tests.exchange.protocol.envelope import forge
from tests.schemas import examples

PLATFORM = examples.PLATFORM


def _open(sealed, platform, agency, limits=env.DEFAULT_LIMITS):
    return env.open(sealed, platform.identity.encryption_key, agency.signing_keys, PLATFORM, limits)


def _with_statement_part(sealed, index, value):
    parts = sealed.statement.split(".")
    parts[index] = value
    return env.Envelope(".".join(parts), sealed.jwe)


# --- The outer statement -------------------------------------------------------------------


@pytest.mark.parametrize("part", [0, 1, 2], ids=["protected-header", "payload", "signature"])
def test_every_bit_of_the_statement_is_protected(sealed, platform, agency, part):
    """A single-bit change anywhere in the statement is refused, never an exception trace."""
    segment = sealed.statement.split(".")[part]
    length = len(b64url_decode(segment))
    for byte in range(0, length, max(1, length // 64)):
        tampered = _with_statement_part(sealed, part, forge.flip_bit(segment, byte, byte % 8))
        with pytest.raises(errors.EnvelopeError):
            _open(tampered, platform, agency)


def test_tampered_payload_fails_the_signature(sealed, platform, agency):
    payload = forge.statement_payload(sealed)
    payload["meta"]["priority"] = "normal"
    tampered = _with_statement_part(sealed, 1, b64url_encode(canonical(payload)))
    with pytest.raises(errors.BadSignatureError, match="statement signature does not verify"):
        _open(tampered, platform, agency)


def test_tampered_signature_fails(sealed, platform, agency):
    signature = sealed.statement.split(".")[2]
    tampered = _with_statement_part(sealed, 2, forge.flip_bit(signature, 10))
    with pytest.raises(errors.BadSignatureError):
        _open(tampered, platform, agency)


def test_tampered_protected_header_fails_the_signature(sealed, platform, agency):
    header = json.loads(b64url_decode(sealed.statement.split(".")[0]))
    reordered = {"typ": header["typ"], "kid": header["kid"], "alg": header["alg"]}
    tampered = _with_statement_part(sealed, 0, b64url_encode(json.dumps(reordered).encode()))
    with pytest.raises(errors.BadSignatureError):
        _open(tampered, platform, agency)


def test_alg_none_is_refused(sealed, agency):
    header = {"alg": "none", "kid": agency.identity.signing_kid, "typ": "hotline-statement+jws"}
    payload = b64url_decode(sealed.statement.split(".")[1])
    unsigned = ".".join([*forge.compact(header, payload).split(".")[:2], ""])
    with pytest.raises(errors.AlgNoneError):
        env.verify_statement(env.Envelope(unsigned, sealed.jwe), agency.signing_keys)


def test_hs256_keyed_with_the_public_key_is_refused(sealed, agency):
    header = {"alg": "HS256", "kid": agency.identity.signing_kid, "typ": "hotline-statement+jws"}
    signing_input = ".".join(
        [b64url_encode(json.dumps(header).encode()), sealed.statement.split(".")[1]]
    )
    secret = agency.identity.signing_public_key.public_bytes_raw()
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64url_encode(mac)}"
    with pytest.raises(errors.SymmetricAlgorithmError):
        env.verify_statement(env.Envelope(forged, sealed.jwe), agency.signing_keys)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256", "Ed448"])
def test_other_algorithms_are_refused(sealed, agency, alg):
    header = {"alg": alg, "kid": agency.identity.signing_kid, "typ": "hotline-statement+jws"}
    forged = forge.compact(header, b64url_decode(sealed.statement.split(".")[1]))
    with pytest.raises(errors.UnsupportedAlgorithmError, match="only Ed25519"):
        env.verify_statement(env.Envelope(forged, sealed.jwe), agency.signing_keys)


@pytest.mark.parametrize("name", ["zip", "crit", "b64", "jku", "x5u", "jwk", "x5c"])
def test_forbidden_statement_headers(sealed, agency, name):
    header = {
        "alg": "Ed25519",
        "kid": agency.identity.signing_kid,
        "typ": "hotline-statement+jws",
        name: "x",
    }
    forged = forge.compact(header, b64url_decode(sealed.statement.split(".")[1]))
    with pytest.raises(errors.ForbiddenHeaderError, match=f"forbidden header {name}"):
        env.verify_statement(env.Envelope(forged, sealed.jwe), agency.signing_keys)


def test_zip_in_the_jwe_is_refused(sealed, agency):
    jwe = copy.deepcopy(sealed.jwe)
    protected = {"cty": "hotline-record+jws", "enc": "A256GCM", "zip": "DEF"}
    jwe["protected"] = b64url_encode(json.dumps(protected).encode())
    tampered = forge.resign(sealed, agency.identity.signing_key, jwe=jwe)
    with pytest.raises(errors.ForbiddenHeaderError, match="forbidden header zip"):
        env.verify_statement(tampered, agency.signing_keys)


def test_json_serialized_jws_with_two_signatures_is_refused(sealed):
    header, payload, signature = sealed.statement.split(".")
    general = {
        "payload": payload,
        "signatures": [{"protected": header, "signature": signature}] * 2,
    }
    with pytest.raises(errors.SignatureCountError, match="got JSON with 2"):
        env.Envelope.from_json({"statement": general, "jwe": sealed.jwe})


def test_compact_with_more_parts_is_refused(sealed, agency):
    with pytest.raises(errors.SignatureCountError, match="three dot-separated parts"):
        env.verify_statement(
            env.Envelope(sealed.statement + ".AAAA", sealed.jwe), agency.signing_keys
        )


def test_non_canonical_base64_in_the_statement(sealed, agency):
    header, payload, signature = sealed.statement.split(".")
    for spelling in (f"{header}=.{payload}.{signature}", f"{header}.{payload}.{signature}=="):
        with pytest.raises(errors.EnvelopeBase64Error):
            env.verify_statement(env.Envelope(spelling, sealed.jwe), agency.signing_keys)


def test_non_canonical_base64_in_the_jwe(sealed, agency):
    jwe = copy.deepcopy(sealed.jwe)
    jwe["iv"] = jwe["iv"].replace("-", "+") if "-" in jwe["iv"] else jwe["iv"] + "="
    with pytest.raises(errors.EnvelopeBase64Error, match="jwe iv"):
        env.verify_statement(env.Envelope(sealed.statement, jwe), agency.signing_keys)


def test_non_canonical_json_payload(sealed, agency):
    payload = json.dumps(forge.statement_payload(sealed), indent=1).encode()
    resigned = env.Envelope(
        forge.sign_compact(payload, agency.identity.signing_key, "hotline-statement+jws"),
        sealed.jwe,
    )
    with pytest.raises(errors.NonCanonicalJSONError):
        env.verify_statement(resigned, agency.signing_keys)


def test_duplicate_member_names_are_refused(sealed, agency):
    text = canonical(forge.statement_payload(sealed)).decode()
    duplicated = text[:-1] + ',"typ":"hotline.handoff/v1"}'
    resigned = env.Envelope(
        forge.sign_compact(
            duplicated.encode(), agency.identity.signing_key, "hotline-statement+jws"
        ),
        sealed.jwe,
    )
    with pytest.raises(errors.MalformedEnvelopeError, match="duplicate member"):
        env.verify_statement(resigned, agency.signing_keys)


def test_record_used_as_statement_has_the_wrong_type(sealed, platform, agency):
    opened = _open(sealed, platform, agency)
    with pytest.raises(errors.WrongTypeError, match="expected 'hotline-statement\\+jws'"):
        env.verify_statement(env.Envelope(opened.record_jws, sealed.jwe), agency.signing_keys)


def test_unknown_signer_key(sealed, outsider):
    with pytest.raises(errors.UnknownSignerKeyError, match="not a key of the sender"):
        env.verify_statement(sealed, outsider.signing_keys)


def test_statement_schema_errors_are_reported_by_field(sealed, agency):
    payload = forge.statement_payload(sealed)
    payload["meta"]["priority"] = "whenever"
    with pytest.raises(errors.InvalidStatementError) as caught:
        env.verify_statement(
            forge.resign(sealed, agency.identity.signing_key, payload), agency.signing_keys
        )
    assert "priority" in caught.value.messages["meta"]


# --- Sizes, checked before any cryptography -------------------------------------------------


def test_oversize_statement_is_refused_before_parsing(sealed, agency):
    garbage = "x" * 2048
    with pytest.raises(errors.OversizeError, match="statement exceeds 1024"):
        env.verify_statement(
            env.Envelope(garbage, sealed.jwe),
            agency.signing_keys,
            env.Limits(max_statement_bytes=1024),
        )


def test_oversize_jwe_is_refused_before_parsing(sealed, agency):
    jwe = {"anything": "y" * 5000}
    with pytest.raises(errors.OversizeError, match="jwe exceeds 4096"):
        env.verify_statement(
            env.Envelope(sealed.statement, jwe), agency.signing_keys, env.Limits(max_jwe_bytes=4096)
        )


def test_oversize_record_is_refused_after_decryption(sealed, platform, agency):
    with pytest.raises(errors.OversizeError, match="record exceeds 100"):
        _open(sealed, platform, agency, env.Limits(max_record_bytes=100))


def test_too_many_recipients(sealed, agency):
    with pytest.raises(errors.MalformedEnvelopeError, match="more than 1 recipients"):
        env.verify_statement(sealed, agency.signing_keys, env.Limits(max_recipients=1))


# --- The JWE: tampering by a third party is caught by jwe_sha256 ------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ("recipients", 0, "encrypted_key"),
        ("recipients", 0, "header", "epk", "x"),
        ("recipients", 1, "encrypted_key"),
        ("recipients", 1, "header", "epk", "x"),
        ("iv",),
        ("ciphertext",),
        ("tag",),
        ("protected",),
    ],
    ids=lambda p: "/".join(map(str, p)),
)
def test_any_jwe_change_breaks_jwe_sha256(sealed, platform, agency, path):
    jwe = copy.deepcopy(sealed.jwe)
    target = jwe
    for step in path[:-1]:
        target = target[step]
    if path[-1] == "protected":
        target["protected"] = b64url_encode(b'{"enc":"A256GCM","cty":"hotline-record+jws"}')
    else:
        target[path[-1]] = forge.flip_bit(target[path[-1]], 3, 1)
    with pytest.raises(errors.DigestMismatchError, match="jwe_sha256"):
        _open(env.Envelope(sealed.statement, jwe), platform, agency)


def test_recipient_kid_swap_breaks_jwe_sha256(sealed, platform, agency):
    jwe = copy.deepcopy(sealed.jwe)
    first, second = jwe["recipients"]
    first["header"]["kid"], second["header"]["kid"] = (
        second["header"]["kid"],
        first["header"]["kid"],
    )
    with pytest.raises(errors.DigestMismatchError):
        _open(env.Envelope(sealed.statement, jwe), platform, agency)


# --- The JWE: a malicious sender who signs over a bad JWE ------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ("recipients", 0, "encrypted_key"),
        ("recipients", 0, "header", "epk", "x"),
        ("iv",),
        ("ciphertext",),
        ("tag",),
    ],
    ids=lambda p: "/".join(map(str, p)),
)
def test_signed_but_corrupt_jwe_does_not_decrypt(sealed, platform, agency, path):
    jwe = copy.deepcopy(sealed.jwe)
    target = jwe
    for step in path[:-1]:
        target = target[step]
    if path[-1] == "x":
        target["x"] = forge.b64url_encode(
            X25519PrivateKey.generate().public_key().public_bytes_raw()
        )
    else:
        target[path[-1]] = forge.flip_bit(target[path[-1]], 5, 2)
    tampered = forge.resign(sealed, agency.identity.signing_key, jwe=jwe)
    with pytest.raises(errors.DecryptionFailedError, match="does not decrypt"):
        _open(tampered, platform, agency)


@pytest.mark.parametrize(
    "header",
    [
        b'{"cty": "hotline-record+jws", "enc": "A256GCM"}',
        b'{"cty":"hotline-record+jws","enc":"A256GCM"}\n',
    ],
    ids=["spaced", "trailing-newline"],
)
def test_a_protected_header_spelled_other_than_compact_is_refused(sealed, agency, header):
    jwe = copy.deepcopy(sealed.jwe)
    jwe["protected"] = b64url_encode(header)
    tampered = forge.resign(sealed, agency.identity.signing_key, jwe=jwe)
    with pytest.raises(
        errors.MalformedEnvelopeError,
        match=r"^jwe protected header must be compact JSON \(no whitespace, non-ASCII escaped\)$",
    ):
        env.verify_statement(tampered, agency.signing_keys)


def test_signed_but_reordered_protected_header_fails_the_aad(sealed, platform, agency):
    jwe = copy.deepcopy(sealed.jwe)
    jwe["protected"] = b64url_encode(b'{"enc":"A256GCM","cty":"hotline-record+jws"}')
    tampered = forge.resign(sealed, agency.identity.signing_key, jwe=jwe)
    with pytest.raises(errors.DecryptionFailedError):
        _open(tampered, platform, agency)


@pytest.mark.parametrize(
    "point",
    [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ],
)
def test_low_order_ephemeral_key_is_refused(sealed, platform, agency, point):
    jwe = copy.deepcopy(sealed.jwe)
    jwe["recipients"][0]["header"]["epk"]["x"] = b64url_encode(bytes.fromhex(point))
    tampered = forge.resign(sealed, agency.identity.signing_key, jwe=jwe)
    with pytest.raises(errors.LowOrderPointError, match="low-order point"):
        _open(tampered, platform, agency)


def test_unknown_recipient_kid(sealed, outsider, agency):
    with pytest.raises(errors.UnknownRecipientError):
        env.open(sealed, outsider.identity.encryption_key, agency.signing_keys, PLATFORM)


@pytest.mark.parametrize(
    ("member", "value", "error"),
    [
        ("alg", "ECDH-ES", errors.UnsupportedAlgorithmError),
        ("alg", "RSA-OAEP", errors.UnsupportedAlgorithmError),
        ("jku", "https://evil.example/keys", errors.ForbiddenHeaderError),
    ],
)
def test_recipient_header_policy(sealed, agency, member, value, error):
    jwe = copy.deepcopy(sealed.jwe)
    jwe["recipients"][0]["header"][member] = value
    tampered = forge.resign(sealed, agency.identity.signing_key, jwe=jwe)
    with pytest.raises(error):
        env.verify_statement(tampered, agency.signing_keys)


def test_content_encryption_other_than_a256gcm(sealed, agency):
    jwe = copy.deepcopy(sealed.jwe)
    jwe["protected"] = b64url_encode(b'{"cty":"hotline-record+jws","enc":"A128CBC-HS256"}')
    tampered = forge.resign(sealed, agency.identity.signing_key, jwe=jwe)
    with pytest.raises(errors.UnsupportedAlgorithmError, match="only A256GCM"):
        env.verify_statement(tampered, agency.signing_keys)


# --- The inner record -------------------------------------------------------------------------


def _recipients(platform, agency):
    return [platform.identity.encryption_public_key, agency.identity.encryption_public_key]


def test_tampered_inner_signature(sealed, platform, agency):
    inner = _open(sealed, platform, agency).record_jws
    head, payload, signature = inner.split(".")
    bad = f"{head}.{payload}.{forge.flip_bit(signature, 7)}"
    tampered = forge.reseal_record(sealed, agency.identity, bad, _recipients(platform, agency))
    with pytest.raises(errors.BadInnerSignatureError, match="record signature does not verify"):
        _open(tampered, platform, agency)


def test_record_digest_mismatch(sealed, platform, agency):
    payload = forge.statement_payload(sealed)
    payload["record_sha256"] = forge.flip_bit(payload["record_sha256"], 0)
    tampered = forge.resign(sealed, agency.identity.signing_key, payload)
    with pytest.raises(errors.DigestMismatchError, match="record_sha256"):
        _open(tampered, platform, agency)


def test_inner_record_from_another_case(sealed, platform, agency, case_record):
    other = {**case_record, "typ": "hotline.record/v1", "case_id": examples.NCII_CASE_ID}
    inner = forge.sign_record(other, agency.identity.signing_key)
    tampered = forge.reseal_record(sealed, agency.identity, inner, _recipients(platform, agency))
    with pytest.raises(errors.RecordCaseMismatchError, match="belongs to case"):
        _open(tampered, platform, agency)


def test_statement_resigned_by_someone_else(sealed, platform, agency, outsider):
    """Mallory wraps Alice's signed record in a statement of her own."""
    payload = forge.statement_payload(sealed)
    payload["sender"] = outsider.sender()
    stolen = forge.resign(sealed, outsider.identity.signing_key, payload)
    keys = {**agency.signing_keys, **outsider.signing_keys}
    with pytest.raises(errors.SignerMismatchError, match="signed by"):
        env.open(stolen, platform.identity.encryption_key, keys, PLATFORM)


def test_surreptitious_forwarding_to_another_platform(agency, outsider, case_record):
    """A record addressed to one platform, re-encrypted to another, is refused there."""
    sealed = env.seal(
        case_record, agency.identity.signing_key, [outsider.identity.encryption_public_key]
    )
    with pytest.raises(errors.NotAddressedError, match="not other-platform"):
        env.open(sealed, outsider.identity.encryption_key, agency.signing_keys, outsider.org)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kind", "supplement"),
        ("issued_at", "2026-03-03T05:12:10Z"),
        ("to", ["other-platform"]),
        ("meta", {"priority": "normal"}),
    ],
)
def test_statement_disagreeing_with_its_record(sealed, platform, agency, field, value):
    payload = forge.statement_payload(sealed)
    if field == "meta":
        payload["meta"].update(value)
    elif field == "kind":
        payload.update(kind=value, meta={}, in_reply_to=examples.QUESTION_HANDOFF)
    else:
        payload[field] = value
    tampered = forge.resign(sealed, agency.identity.signing_key, payload)
    with pytest.raises(errors.RecordMismatchError):
        env.open(tampered, platform.identity.encryption_key, agency.signing_keys, None)


def test_invalid_inner_record_schema(sealed, platform, agency, case_record):
    record = {**case_record, "typ": "hotline.record/v1"}
    record["body"] = {**record["body"], "priority": "whenever"}
    inner = forge.sign_record(record, agency.identity.signing_key)
    tampered = forge.reseal_record(sealed, agency.identity, inner, _recipients(platform, agency))
    with pytest.raises(errors.InvalidRecordError) as caught:
        _open(tampered, platform, agency)
    assert "priority" in caught.value.messages["body"]


def test_open_of_a_receipt_has_no_record(platform, agency):
    fields = examples.receipt_statement()
    for name in ("typ", "jwe_sha256", "record_sha256"):
        del fields[name]
    fields["sender"] = platform.sender()
    receipt = env.sign_statement(fields, platform.identity.signing_key)
    with pytest.raises(errors.NoRecordError):
        env.open(receipt, agency.identity.encryption_key, platform.signing_keys, examples.AGENCY)


def test_a_sealed_kind_without_its_jwe(sealed, agency):
    with pytest.raises(errors.MalformedEnvelopeError, match="needs its jwe"):
        env.verify_statement(env.Envelope(sealed.statement, None), agency.signing_keys)


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        {"statement": "a.b.c"},
        {"statement": "a.b.c", "jwe": None, "extra": 1},
        {"statement": 5, "jwe": None},
        {"statement": "a.b.c", "jwe": "not an object"},
    ],
)
def test_malformed_envelope_documents(document):
    with pytest.raises(errors.MalformedEnvelopeError):
        env.Envelope.from_json(document)


def test_non_ascii_plaintext_is_malformed(sealed, platform, agency):
    inner = "é" + _open(sealed, platform, agency).record_jws
    jwe = forge.encrypt(inner.encode("utf-8"), _recipients(platform, agency))
    payload = forge.statement_payload(sealed)
    payload["record_sha256"] = forge.sha256_b64url(inner.encode("utf-8"))
    tampered = forge.resign(sealed, agency.identity.signing_key, payload, jwe)
    with pytest.raises(errors.MalformedEnvelopeError, match="not a compact JWS"):
        _open(tampered, platform, agency)
