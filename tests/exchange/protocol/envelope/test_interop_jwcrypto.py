"""jwcrypto, a second independent JOSE implementation, reads what we seal and seals what
we read (we seal with joserfc; test_interop.py checks joserfc's own reading as well)."""

import json

from jwcrypto import jwe as jwc_jwe
from jwcrypto import jws as jwc_jws
from jwcrypto.jwk import JWK

from exchange.protocol import envelope as env
from exchange.protocol.envelope.canonical import canonical, sha256_b64url
from schemas.statement import meta_for


def _verified_payload(token: str, public_key) -> tuple[dict[str, str], bytes]:
    jws = jwc_jws.JWS()
    jws.deserialize(token)
    jws.verify(JWK.from_pyca(public_key), alg="Ed25519")
    return jws.jose_header, jws.payload


def test_jwcrypto_opens_what_we_seal(sealed, platform, agency, case_record):
    header, payload = _verified_payload(sealed.statement, agency.identity.signing_public_key)
    assert header["typ"] == "hotline-statement+jws"
    outer = json.loads(payload)
    assert outer["jwe_sha256"] == sha256_b64url(canonical(sealed.jwe))

    decrypter = jwc_jwe.JWE(algs=["ECDH-ES+A256KW", "A256GCM"])
    decrypter.deserialize(
        json.dumps(sealed.jwe), key=JWK.from_pyca(platform.identity.encryption_key)
    )
    inner = decrypter.payload.decode("ascii")
    assert sha256_b64url(inner.encode("ascii")) == outer["record_sha256"]

    header, record = _verified_payload(inner, agency.identity.signing_public_key)
    assert header == {
        "alg": "Ed25519",
        "kid": agency.identity.signing_kid,
        "typ": "hotline-record+jws",
    }
    assert json.loads(record) == {"typ": "hotline.record/v1", **case_record}


def _jwcrypto_compact(header: dict[str, str], payload: bytes, key) -> str:
    jws = jwc_jws.JWS(payload)
    jws.add_signature(JWK.from_pyca(key), alg="Ed25519", protected=json.dumps(header))
    return jws.serialize(compact=True)


def test_we_open_what_jwcrypto_seals(platform, agency, case_record):
    kid = agency.identity.signing_kid
    record = {"typ": "hotline.record/v1", **case_record}
    inner = _jwcrypto_compact(
        {"alg": "Ed25519", "kid": kid, "typ": "hotline-record+jws"},
        canonical(record),
        agency.identity.signing_key,
    )
    encrypter = jwc_jwe.JWE(
        inner.encode("ascii"),
        # jwcrypto writes the header text it is given: compact, as jwcrypto itself writes JSON.
        protected=json.dumps(
            {"enc": "A256GCM", "cty": "hotline-record+jws"}, separators=(",", ":")
        ),
    )
    for party in (platform, agency):
        encrypter.add_recipient(
            JWK.from_pyca(party.identity.encryption_public_key),
            header=json.dumps({"alg": "ECDH-ES+A256KW", "kid": party.identity.encryption_kid}),
        )
    jwe = json.loads(encrypter.serialize())
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
    outer = _jwcrypto_compact(
        {"alg": "Ed25519", "kid": kid, "typ": "hotline-statement+jws"},
        canonical(statement),
        agency.identity.signing_key,
    )
    sealed = env.Envelope.from_json({"statement": outer, "jwe": jwe})
    for party in (platform, agency):
        opened = env.open(sealed, party.identity.encryption_key, agency.signing_keys, party.org)
        assert opened.record == record
