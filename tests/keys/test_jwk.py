import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from keys import (
    Identity,
    InvalidJWKError,
    load_jwks,
    load_public_jwk,
    public_jwk,
    thumbprint,
)

# RFC 8037 Appendix A.1/A.3: the Ed25519 test key and its RFC 7638 thumbprint.
RFC8037_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_thumbprint_matches_rfc8037_appendix():
    assert thumbprint(RFC8037_JWK) == RFC8037_THUMBPRINT


def test_public_jwk_names_key_by_thumbprint_and_use():
    identity = Identity.generate()
    sig = public_jwk(identity.signing_public_key)
    enc = public_jwk(identity.encryption_public_key)
    assert sig["kty"] == "OKP"
    assert (sig["crv"], sig["use"], sig["alg"]) == ("Ed25519", "sig", "Ed25519")
    assert (enc["crv"], enc["use"], enc["alg"]) == ("X25519", "enc", "ECDH-ES+A256KW")
    assert sig["kid"] == thumbprint(sig) == identity.signing_kid
    assert enc["kid"] == thumbprint(enc) == identity.encryption_kid
    assert "d" not in sig
    assert "d" not in enc


def test_jwks_round_trips_both_keys():
    identity = Identity.generate()
    parsed = load_jwks(json.loads(json.dumps(identity.public_jwks())))
    assert set(parsed) == {identity.signing_kid, identity.encryption_kid}
    assert parsed[identity.signing_kid].public_bytes_raw() == (
        identity.signing_public_key.public_bytes_raw()
    )


def _jwk() -> dict[str, str]:
    return public_jwk(Ed25519PrivateKey.generate().public_key())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"d": "AAAA"}, "must not carry a private key"),
        ({"kty": "EC"}, "only OKP"),
        ({"crv": "Ed448"}, "only Ed25519 and X25519"),
        ({"use": "enc"}, "must have use 'sig'"),
        ({"alg": "EdDSA"}, "must have alg 'Ed25519'"),
        ({"kid": "not-the-thumbprint"}, "not the RFC 7638 thumbprint"),
        ({"x": "AAAA"}, "must hold 32 bytes"),
        ({"x": 7}, "must be a string"),
        ({"extra": "1"}, "unexpected JWK members: extra"),
    ],
)
def test_load_public_jwk_refuses(change, message):
    with pytest.raises(InvalidJWKError, match=message):
        load_public_jwk({**_jwk(), **change})


def test_load_public_jwk_refuses_non_canonical_base64():
    jwk = _jwk()
    jwk["x"] = jwk["x"] + "="
    with pytest.raises(InvalidJWKError, match="not unpadded base64url"):
        load_public_jwk(jwk)


def test_load_public_jwk_checks_requested_use():
    enc = public_jwk(X25519PrivateKey.generate().public_key())
    with pytest.raises(InvalidJWKError, match="expected a Ed25519 key for use 'sig'"):
        load_public_jwk(enc, use="sig")
    assert load_public_jwk(enc, use="enc").public_bytes_raw() is not None


def test_load_jwks_refuses_duplicates_and_non_lists():
    jwk = _jwk()
    with pytest.raises(InvalidJWKError, match="duplicate key"):
        load_jwks({"keys": [jwk, jwk]})
    with pytest.raises(InvalidJWKError, match="'keys' list"):
        load_jwks({"keys": jwk})
