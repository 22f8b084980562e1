"""Public keys as RFC 8037 OKP JWKs, named by their RFC 7638 thumbprint."""

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from joserfc.jwk import OKPKey

from keys.b64 import NonCanonicalBase64Error, b64url_decode, b64url_encode
from keys.errors import InvalidJWKError

PublicKey = Ed25519PublicKey | X25519PublicKey
Use = Literal["sig", "enc"]

_CURVE_OF_USE: dict[str, str] = {"sig": "Ed25519", "enc": "X25519"}
_USE_OF_CURVE: dict[str, Use] = {"Ed25519": "sig", "X25519": "enc"}
_PUBLIC_MEMBERS = frozenset({"kty", "crv", "x", "kid", "use", "alg"})
_ALG_OF_USE: dict[str, str] = {"sig": "Ed25519", "enc": "ECDH-ES+A256KW"}
MAX_JWKS_KEYS = 64


def _raw(key: PublicKey) -> bytes:
    return key.public_bytes_raw()


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url) of an OKP public key."""
    return _thumbprint(str(jwk["crv"]), str(jwk["kty"]), str(jwk["x"]))


# Kids are looked up on every seal, open and verify; a key's thumbprint never changes.
@lru_cache(maxsize=4096)
def _thumbprint(crv: str, kty: str, x: str) -> str:
    return OKPKey.import_key({"kty": kty, "crv": crv, "x": x}).thumbprint()


def public_jwk(key: PublicKey) -> dict[str, str]:
    """The public JWK of a key, with `kid` = its thumbprint and `use` from its curve."""
    crv = "Ed25519" if isinstance(key, Ed25519PublicKey) else "X25519"
    use = _USE_OF_CURVE[crv]
    jwk = {"kty": "OKP", "crv": crv, "x": b64url_encode(_raw(key))}
    return {**jwk, "kid": thumbprint(jwk), "use": use, "alg": _ALG_OF_USE[use]}


def kid_of(key: PublicKey) -> str:
    return public_jwk(key)["kid"]


# A process signs and decrypts with a few keys, again and again (every seal names its
# signer's kid three times); private keys hash by identity, as in the JOSE key cache.
@lru_cache(maxsize=256)
def kid_of_private(key: Ed25519PrivateKey | X25519PrivateKey) -> str:
    """The kid of a private key's public half."""
    return kid_of(key.public_key())


def load_public_jwk(jwk: Mapping[str, Any], *, use: Use | None = None) -> PublicKey:
    """Parse an OKP public JWK, refusing private parts, foreign curves and a wrong kid."""
    if not isinstance(jwk, Mapping):
        raise InvalidJWKError("a JWK must be a JSON object")
    if "d" in jwk:
        raise InvalidJWKError("a public JWK must not carry a private key ('d')")
    extra = set(jwk) - _PUBLIC_MEMBERS
    if extra:
        raise InvalidJWKError(f"unexpected JWK members: {', '.join(sorted(extra))}")
    if jwk.get("kty") != "OKP":
        raise InvalidJWKError("only OKP keys (RFC 8037) are accepted")
    crv = jwk.get("crv")
    if crv not in _USE_OF_CURVE:
        raise InvalidJWKError("only Ed25519 and X25519 keys are accepted")
    expected_use = _USE_OF_CURVE[crv]
    if use is not None and expected_use != use:
        raise InvalidJWKError(f"expected a {_CURVE_OF_USE[use]} key for use '{use}', got {crv}")
    if "use" in jwk and jwk["use"] != expected_use:
        raise InvalidJWKError(f"a {crv} key must have use '{expected_use}'")
    if "alg" in jwk and jwk["alg"] != _ALG_OF_USE[expected_use]:
        raise InvalidJWKError(f"a {crv} key must have alg '{_ALG_OF_USE[expected_use]}'")
    x = jwk.get("x")
    if not isinstance(x, str):
        raise InvalidJWKError("JWK member 'x' must be a string")
    try:
        raw = b64url_decode(x)
    except NonCanonicalBase64Error as exc:
        raise InvalidJWKError(f"JWK member 'x': {exc}") from exc
    if len(raw) != 32:
        raise InvalidJWKError("JWK member 'x' must hold 32 bytes")
    key: PublicKey = (
        Ed25519PublicKey.from_public_bytes(raw)
        if crv == "Ed25519"
        else X25519PublicKey.from_public_bytes(raw)
    )
    if "kid" in jwk and jwk["kid"] != thumbprint(jwk):
        raise InvalidJWKError("JWK 'kid' is not the RFC 7638 thumbprint of the key")
    return key


def jwks(keys: Iterable[PublicKey]) -> dict[str, list[dict[str, str]]]:
    return {"keys": [public_jwk(key) for key in keys]}


def load_jwks(document: Mapping[str, Any]) -> dict[str, PublicKey]:
    """Parse a JWKS into {kid: key}; every key must be valid and carry its thumbprint kid."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise InvalidJWKError("a JWKS must be an object with a 'keys' list")
    entries = document["keys"]
    if len(entries) > MAX_JWKS_KEYS:
        raise InvalidJWKError(f"a JWKS may hold at most {MAX_JWKS_KEYS} keys")
    parsed: dict[str, PublicKey] = {}
    for entry in entries:
        key = load_public_jwk(entry)
        kid = public_jwk(key)["kid"]
        if kid in parsed:
            raise InvalidJWKError(f"duplicate key {kid} in JWKS")
        parsed[kid] = key
    return parsed
