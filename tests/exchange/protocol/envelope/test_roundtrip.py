import json

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from exchange.protocol import envelope as env
from exchange.protocol.envelope.canonical import canonical, sha256_b64url
from exchange.protocol.envelope.errors import UnknownRecipientError
from keys import b64url_decode, public_jwk
from tests.schemas import examples


@pytest.mark.parametrize("count", [1, 2, 3, 7, 20])
def test_every_recipient_opens_with_only_its_own_key(agency, case_record, count):
    keys = [X25519PrivateKey.generate() for _ in range(count)]
    sealed = env.seal(case_record, agency.identity.signing_key, [k.public_key() for k in keys])
    assert [r["header"]["kid"] for r in sealed.jwe["recipients"]] == [
        public_jwk(k.public_key())["kid"] for k in keys
    ]
    for key in keys:
        opened = env.open(sealed, key, agency.signing_keys, examples.PLATFORM)
        assert opened.record == {"typ": "hotline.record/v1", **case_record}
    with pytest.raises(UnknownRecipientError, match="not encrypted to key"):
        env.open(sealed, X25519PrivateKey.generate(), agency.signing_keys, examples.PLATFORM)


def test_envelope_layout_is_the_documented_one(sealed, case_record, agency):
    header = json.loads(b64url_decode(sealed.statement.split(".")[0]))
    assert header == {
        "alg": "Ed25519",
        "kid": agency.identity.signing_kid,
        "typ": "hotline-statement+jws",
    }
    statement = env.verify_statement(sealed, agency.signing_keys).payload
    assert statement == {
        "typ": "hotline.handoff/v1",
        **{k: case_record[k] for k in ("handoff_id", "case_id", "kind", "issued_at")},
        "sender": agency.sender(),
        "to": [examples.PLATFORM],
        "in_reply_to": None,
        "meta": {
            "category": "sexual_deepfake",
            "priority": "urgent",
            "minor_involved": "no",
            "request_type": "removal_order",
            "item_count": 2,
            "issuer_case_ref": "MCU/2026/000417",
            "legal_basis": case_record["body"]["legal_basis"],
        },
        "jwe_sha256": sha256_b64url(canonical(sealed.jwe)),
        "record_sha256": statement["record_sha256"],
    }
    assert set(sealed.jwe) == {"protected", "recipients", "iv", "ciphertext", "tag"}
    assert json.loads(b64url_decode(sealed.jwe["protected"])) == {
        "cty": "hotline-record+jws",
        "enc": "A256GCM",
    }
    for entry in sealed.jwe["recipients"]:
        assert set(entry["header"]) == {"alg", "kid", "epk"}
        assert entry["header"]["alg"] == "ECDH-ES+A256KW"


def test_record_digest_binds_the_inner_jws(sealed, platform, agency):
    opened = env.open(sealed, platform.identity.encryption_key, agency.signing_keys, "clipshare")
    assert opened.record_sha256 == sha256_b64url(opened.record_jws.encode("ascii"))
    assert opened.record_sha256 == opened.statement.payload["record_sha256"]
    inner_header = json.loads(b64url_decode(opened.record_jws.split(".")[0]))
    assert inner_header["typ"] == "hotline-record+jws"


def test_senders_own_organisation_may_open(sealed, agency):
    opened = env.open(sealed, agency.identity.encryption_key, agency.signing_keys, examples.AGENCY)
    assert opened.record["sender"]["org"] == examples.AGENCY


@pytest.mark.parametrize("kind", sorted(examples.records()))
def test_every_sealed_kind_round_trips(agency, platform, kind):
    record = examples.records()[kind]
    party = platform if record["sender"]["org"] == examples.PLATFORM else agency
    record["sender"] = party.sender()
    opener = agency if party is platform else platform
    sealed = env.seal(record, party.identity.signing_key, [opener.identity.encryption_public_key])
    opened = env.open(sealed, opener.identity.encryption_key, party.signing_keys, opener.org)
    assert opened.record["body"] == record["body"]
    assert opened.statement.kind == kind


@pytest.mark.parametrize("statement", ["receipt", "assignment"])
def test_signed_only_statements_verify(platform, statement):
    fields = examples.statements()[statement]
    for name in ("typ", "jwe_sha256", "record_sha256"):
        del fields[name]
    fields["sender"] = platform.sender()
    signed = env.sign_statement(fields, platform.identity.signing_key)
    assert signed.jwe is None
    verified = env.verify_statement(signed, platform.signing_keys)
    assert verified.payload["meta"] == fields["meta"]
    assert verified.token == signed.statement


def test_envelope_json_round_trip(sealed):
    assert env.Envelope.from_json(json.loads(json.dumps(sealed.to_json()))) == sealed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "receipt"}, "use sign_statement"),
        ({"sender": {"org": "x", "official": "y", "kid": "z" * 43}}, "signing key's kid"),
        ({"to": []}, "invalid record"),
    ],
)
def test_seal_refuses_what_it_must_not_sign(agency, platform, case_record, change, message):
    with pytest.raises(env.SealError, match=message):
        env.seal(
            {**case_record, **change},
            agency.identity.signing_key,
            [platform.identity.encryption_public_key],
        )


def test_seal_refuses_no_or_repeated_recipients(agency, platform, case_record):
    key = platform.identity.encryption_public_key
    with pytest.raises(env.SealError, match="at least one recipient"):
        env.seal(case_record, agency.identity.signing_key, [])
    with pytest.raises(env.SealError, match="named twice"):
        env.seal(case_record, agency.identity.signing_key, [key, key])
    with pytest.raises(env.SealError, match="at most 1 recipient"):
        env.seal(case_record, agency.identity.signing_key, [key, key], env.Limits(max_recipients=1))
