"""joserfc, an independent JOSE implementation, reads what we seal and seals what we read."""

import json

from joserfc import jwe as jrfc_jwe
from joserfc import jws as jrfc_jws
from joserfc.jwe import JWERegistry
from joserfc.jwk import OKPKey

from exchange.protocol import envelope as env
from exchange.protocol.envelope.canonical import canonical, sha256_b64url
from keys import b64url_encode, public_jwk
from schemas.statement import meta_for

ALGORITHMS = ["Ed25519", "ECDH-ES+A256KW", "A256GCM"]


def _public(key):
    return OKPKey.import_key(public_jwk(key))


def _private(key):
    jwk = {k: v for k, v in public_jwk(key.public_key()).items() if k not in ("use", "alg")}
    return OKPKey.import_key({**jwk, "d": b64url_encode(key.private_bytes_raw())})


def test_joserfc_opens_what_we_seal(sealed, platform, agency, case_record):
    statement = jrfc_jws.deserialize_compact(
        sealed.statement, _public(agency.identity.signing_public_key), algorithms=["Ed25519"]
    )
    assert statement.protected["typ"] == "hotline-statement+jws"
    outer = json.loads(statement.payload)
    assert outer["jwe_sha256"] == sha256_b64url(canonical(sealed.jwe))

    decrypted = jrfc_jwe.decrypt_json(
        sealed.jwe,
        _private(platform.identity.encryption_key),
        registry=JWERegistry(algorithms=["ECDH-ES+A256KW", "A256GCM"], verify_all_recipients=False),
    )
    inner_jws = decrypted.plaintext
    assert sha256_b64url(inner_jws) == outer["record_sha256"]

    record = jrfc_jws.deserialize_compact(
        inner_jws, _public(agency.identity.signing_public_key), algorithms=["Ed25519"]
    )
    assert record.protected == {
        "alg": "Ed25519",
        "kid": agency.identity.signing_kid,
        "typ": "hotline-record+jws",
    }
    assert json.loads(record.payload) == {"typ": "hotline.record/v1", **case_record}


def test_we_open_what_joserfc_seals(platform, agency, case_record):
    signing_key = _private(agency.identity.signing_key)
    kid = agency.identity.signing_kid
    record = {"typ": "hotline.record/v1", **case_record}
    inner = jrfc_jws.serialize_compact(
        {"alg": "Ed25519", "kid": kid, "typ": "hotline-record+jws"},
        canonical(record),
        signing_key,
        algorithms=["Ed25519"],
    )
    encryption = jrfc_jwe.GeneralJSONEncryption(
        {"enc": "A256GCM", "cty": "hotline-record+jws"}, inner.encode("ascii")
    )
    for party in (platform, agency):
        encryption.add_recipient(
            {"alg": "ECDH-ES+A256KW", "kid": party.identity.encryption_kid},
            _public(party.identity.encryption_public_key),
        )
    jwe = jrfc_jwe.encrypt_json(encryption, None, algorithms=ALGORITHMS)
    statement = {
        "typ": "hotline.handoff/v1",
        **{
            name: record[name]
            for name in ("handoff_id", "case_id", "kind", "issued_at", "sender", "to")
        },
        "in_reply_to": None,
        "meta": meta_for(record),
        "jwe_sha256": sha256_b64url(canonical(jwe)),
        "record_sha256": sha256_b64url(inner.encode("ascii")),
    }
    outer = jrfc_jws.serialize_compact(
        {"alg": "Ed25519", "kid": kid, "typ": "hotline-statement+jws"},
        canonical(statement),
        signing_key,
        algorithms=["Ed25519"],
    )
    sealed = env.Envelope.from_json(json.loads(json.dumps({"statement": outer, "jwe": jwe})))
    for party in (platform, agency):
        opened = env.open(sealed, party.identity.encryption_key, agency.signing_keys, party.org)
        assert opened.record == record
