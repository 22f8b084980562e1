"""The JOSE subset we accept, parsed strictly before joserfc does the cryptography.

joserfc signs, encrypts and decrypts, and pyca verifies the Ed25519 signature of a token
this module has parsed (`verify_compact` says why); this module decides what may reach them:
compact JWS with exactly the headers {alg, kid, typ} and alg Ed25519 (RFC 9864), and
General JSON JWE with protected {cty, enc: A256GCM} and per-recipient
{alg: ECDH-ES+A256KW, kid, epk}; with exactly one recipient, `epk` may sit in the
protected header instead (RFC 7516 allows either place, and panva/jose's GeneralEncrypt
puts it there), never in both. Anything else is refused with its own error.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from joserfc import jwe as joserfc_jwe
from joserfc import jws as joserfc_jws
from joserfc.errors import JoseError
from joserfc.jwe import FlattenedJSONSerialization, GeneralJSONEncryption
from joserfc.jwk import OKPKey

from exchange.protocol.envelope.canonical import strict_json
from exchange.protocol.envelope.errors import (
    AlgNoneError,
    BadSignatureError,
    DecryptionFailedError,
    EnvelopeBase64Error,
    ForbiddenHeaderError,
    LowOrderPointError,
    MalformedEnvelopeError,
    SignatureCountError,
    SymmetricAlgorithmError,
    UnknownRecipientError,
    UnknownSignerKeyError,
    UnsupportedAlgorithmError,
    WrongTypeError,
)
from exchange.protocol.envelope.key_agreement import CONTENT_ENC, KEY_WRAP_ALG, REGISTRY
from keys import b64
from keys.jwk import kid_of, kid_of_private

SIGNATURE_ALG = "Ed25519"
STATEMENT_TYP = "hotline-statement+jws"
RECORD_TYP = "hotline-record+jws"
_ALGS = [SIGNATURE_ALG]

# Each names a key source, a changed meaning or a compression oracle (RFC 7515 §4.1,
# RFC 7797, RFC 7516 §4.1.3): known attacks, and nothing this protocol needs.
_FORBIDDEN = frozenset({"zip", "crit", "b64", "jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256"})
_JWS_HEADER = frozenset({"alg", "kid", "typ"})
_JWE_PROTECTED = frozenset({"enc", "cty"})
_JWE_RECIPIENT_HEADER = frozenset({"alg", "kid", "epk"})
_JWE_PROTECTED_WITH_EPK = _JWE_PROTECTED | {"epk"}
_JWE_MEMBERS = frozenset({"protected", "recipients", "iv", "ciphertext", "tag"})
_EPK_MEMBERS = frozenset({"kty", "crv", "x"})

# Every X25519 public key whose shared secret is predictable (libsodium's blocklist, top bit
# cleared as RFC 7748 §5 requires); an ephemeral key from this set means a forced shared secret.
_LOW_ORDER_POINTS = frozenset(
    bytes.fromhex(h)
    for h in (
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    )
)


def _compact_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def decode_b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedEnvelopeError(f"{what} must be a base64url string")
    try:
        return b64.b64url_decode(value)
    except b64.NonCanonicalBase64Error as exc:
        raise EnvelopeBase64Error(f"{what}: {exc}") from exc


def _check_header_names(header: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    forbidden = sorted(set(header) & _FORBIDDEN)
    if forbidden:
        raise ForbiddenHeaderError(f"{what} carries forbidden header {', '.join(forbidden)}")
    unexpected = sorted(set(header) - allowed)
    if unexpected:
        raise ForbiddenHeaderError(f"{what} carries unexpected header {', '.join(unexpected)}")
    missing = sorted(allowed - set(header))
    if missing:
        raise MalformedEnvelopeError(f"{what} lacks header {', '.join(missing)}")


def _check_signature_alg(alg: object, what: str) -> None:
    if alg == SIGNATURE_ALG:
        return
    if isinstance(alg, str) and alg.lower() == "none":
        raise AlgNoneError(f"{what}: alg 'none' is refused")
    if isinstance(alg, str) and alg.upper().startswith("HS"):
        raise SymmetricAlgorithmError(f"{what}: alg {alg} is refused")
    raise UnsupportedAlgorithmError(f"{what}: alg {alg!r} is refused; only Ed25519")


@dataclass(frozen=True)
class CompactJWS:
    token: str
    header: dict[str, Any]
    payload: bytes
    protected: str  # the protected header's JSON text, exactly as signed
    signature: bytes

    @property
    def kid(self) -> str:
        return str(self.header["kid"])

    @property
    def signing_input(self) -> bytes:
        """RFC 7515 §5.2's JWS Signing Input: the token's first two parts, as sent."""
        return self.token[: self.token.rindex(".")].encode("ascii")


def parse_compact_jws(token: object, typ: str, what: str) -> CompactJWS:
    """Split and check a compact JWS against the policy; the signature is checked later."""
    if not isinstance(token, str) or not token.isascii():
        raise MalformedEnvelopeError(f"{what} must be a compact JWS string")
    parts = token.split(".")
    if len(parts) != 3:
        raise SignatureCountError(f"{what} must be a compact JWS (three dot-separated parts)")
    header, protected = _checked_jws_header(parts[0], typ, what)
    payload = decode_b64(parts[1], f"{what} payload")
    signature = decode_b64(parts[2], f"{what} signature")
    if len(signature) != 64:
        raise BadSignatureError(f"{what} signature is not 64 bytes")
    return CompactJWS(token, dict(header), payload, protected, signature)


# A few keys sign everything, so a log or an inbox repeats the same few protected headers
# thousands of times: each distinct one is decoded and judged once. Only accepted headers
# are kept (lru_cache does not keep exceptions), and callers get a copy of the dict.
@lru_cache(maxsize=1024)
def _checked_jws_header(encoded: str, typ: str, what: str) -> tuple[dict[str, Any], str]:
    header_bytes = decode_b64(encoded, f"{what} protected header")
    header = strict_json(header_bytes, f"{what} protected header")
    if not isinstance(header, dict):
        raise MalformedEnvelopeError(f"{what} protected header must be a JSON object")
    _check_header_names(header, _JWS_HEADER, what)
    _check_signature_alg(header["alg"], what)
    if header["typ"] != typ:
        raise WrongTypeError(f"{what} has typ {header['typ']!r}, expected {typ!r}")
    if not isinstance(header["kid"], str):
        raise MalformedEnvelopeError(f"{what} kid must be a string")
    return header, header_bytes.decode("utf-8")


# joserfc key objects are built from pyca keys once: a few keys sign and verify everything.
# Public keys are unhashable: they are cached by their raw bytes instead.
@lru_cache(maxsize=64)
def _private_jwk(key: Ed25519PrivateKey | X25519PrivateKey) -> OKPKey:
    return OKPKey.import_key(key)


@lru_cache(maxsize=4096)
def _public_jwk(raw: bytes, curve: str) -> OKPKey:
    key = (
        Ed25519PublicKey.from_public_bytes(raw)
        if curve == "Ed25519"
        else X25519PublicKey.from_public_bytes(raw)
    )
    return OKPKey.import_key(key)


def _jwk_of_public(key: Ed25519PublicKey | X25519PublicKey) -> OKPKey:
    curve = "Ed25519" if isinstance(key, Ed25519PublicKey) else "X25519"
    return _public_jwk(key.public_bytes_raw(), curve)


def sign_compact(payload: bytes, key: Ed25519PrivateKey, typ: str) -> str:
    # Members in RFC 8785 order: joserfc writes them as given, compactly, so the protected
    # header is exactly the canonical JSON of {alg, kid, typ}.
    header = {"alg": SIGNATURE_ALG, "kid": kid_of_private(key), "typ": typ}
    return joserfc_jws.serialize_compact(header, payload, _private_jwk(key), algorithms=_ALGS)


def verify_compact(
    jws: CompactJWS,
    keys: Mapping[str, Ed25519PublicKey],
    what: str,
    error: type[BadSignatureError] = BadSignatureError,
) -> Ed25519PublicKey:
    """Verify the one signature with the key its kid names; return that key.

    `parse_compact_jws` has applied the whole JOSE policy (alg Ed25519, typ, kid, headers,
    canonical base64url, a 64-byte signature), so what is left is RFC 9864's Ed25519
    signature over the JWS Signing Input: pyca checks it on exactly the bytes joserfc
    would, without joserfc parsing the token a second time (a third of this call).
    """
    key = keys.get(jws.kid)
    if key is None:
        raise UnknownSignerKeyError(f"{what} is signed by key {jws.kid}, not a key of the sender")
    try:
        key.verify(jws.signature, jws.signing_input)
    except InvalidSignature as exc:
        raise error(f"{what} signature does not verify") from exc
    return key


@dataclass(frozen=True)
class JWEParts:
    """A policy-checked General JSON JWE; `document` is the object as received."""

    document: dict[str, Any]
    recipient_kids: tuple[str, ...]


def parse_jwe(document: object, max_recipients: int) -> JWEParts:
    if not isinstance(document, dict):
        raise MalformedEnvelopeError("jwe must be a JSON object (General JSON serialization)")
    if "header" in document or "encrypted_key" in document:
        raise MalformedEnvelopeError("jwe must use the General JSON serialization (recipients)")
    _check_header_names(document, _JWE_MEMBERS, "jwe")
    protected_bytes = decode_b64(document["protected"], "jwe protected")
    protected = strict_json(protected_bytes, "jwe protected")
    if not isinstance(protected, dict):
        raise MalformedEnvelopeError("jwe protected header must be a JSON object")
    shared_epk = "epk" in protected
    _check_header_names(
        protected,
        _JWE_PROTECTED_WITH_EPK if shared_epk else _JWE_PROTECTED,
        "jwe protected header",
    )
    if protected["enc"] != CONTENT_ENC:
        raise UnsupportedAlgorithmError(f"jwe enc {protected['enc']!r} is refused; only A256GCM")
    if protected["cty"] != RECORD_TYP:
        raise WrongTypeError(f"jwe cty {protected['cty']!r}, expected {RECORD_TYP!r}")
    # One spelling: joserfc (1.8) re-serialises the parsed header to rebuild the AAD of a
    # JSON-serialised JWE, so any other spelling could not decrypt. Refused here, by name,
    # rather than later as a decryption failure. Every producer we know writes this form.
    if _compact_json(protected) != protected_bytes:
        raise MalformedEnvelopeError(
            "jwe protected header must be compact JSON (no whitespace, non-ASCII escaped)"
        )
    if len(decode_b64(document["iv"], "jwe iv")) != 12:
        raise MalformedEnvelopeError("jwe iv must be 96 bits")
    if len(decode_b64(document["tag"], "jwe tag")) != 16:
        raise MalformedEnvelopeError("jwe tag must be 128 bits")
    decode_b64(document["ciphertext"], "jwe ciphertext")
    recipients = document["recipients"]
    if not isinstance(recipients, list) or not recipients:
        raise MalformedEnvelopeError("jwe recipients must be a non-empty list")
    if len(recipients) > max_recipients:
        raise MalformedEnvelopeError(f"jwe has more than {max_recipients} recipients")
    if shared_epk:
        if len(recipients) != 1:
            raise MalformedEnvelopeError(
                "jwe protected header carries epk, which only a single recipient may share"
            )
        _check_epk(protected["epk"], "jwe protected header")
    kids = tuple(_check_recipient(entry, i, shared_epk) for i, entry in enumerate(recipients))
    if len(set(kids)) != len(kids):
        raise MalformedEnvelopeError("jwe names a recipient kid twice")
    return JWEParts(document, kids)


def _check_recipient(entry: object, position: int, shared_epk: bool) -> str:
    what = f"jwe recipient {position}"
    if not isinstance(entry, dict) or set(entry) != {"header", "encrypted_key"}:
        raise MalformedEnvelopeError(f"{what} must hold exactly header and encrypted_key")
    header = entry["header"]
    if not isinstance(header, dict):
        raise MalformedEnvelopeError(f"{what} header must be a JSON object")
    if shared_epk and "epk" in header:
        raise ForbiddenHeaderError(
            f"{what} carries epk and so does the protected header: one place only"
        )
    allowed = _JWE_RECIPIENT_HEADER - {"epk"} if shared_epk else _JWE_RECIPIENT_HEADER
    _check_header_names(header, allowed, what)
    if header["alg"] != KEY_WRAP_ALG:
        raise UnsupportedAlgorithmError(f"{what} alg {header['alg']!r}; only {KEY_WRAP_ALG}")
    if not isinstance(header["kid"], str):
        raise MalformedEnvelopeError(f"{what} kid must be a string")
    if not shared_epk:
        _check_epk(header["epk"], what)
    if len(decode_b64(entry["encrypted_key"], f"{what} encrypted_key")) != 40:
        raise MalformedEnvelopeError(f"{what} encrypted_key must be a wrapped 256-bit key")
    return header["kid"]


def _check_epk(epk: object, what: str) -> None:
    if not isinstance(epk, dict) or set(epk) != _EPK_MEMBERS:
        raise MalformedEnvelopeError(f"{what} epk must hold exactly kty, crv and x")
    if epk["kty"] != "OKP" or epk["crv"] != "X25519":
        raise UnsupportedAlgorithmError(f"{what} epk must be an X25519 OKP key")
    point = decode_b64(epk["x"], f"{what} epk")
    if len(point) != 32:
        raise MalformedEnvelopeError(f"{what} epk must be 32 bytes")
    if bytes([*point[:31], point[31] & 0x7F]) in _LOW_ORDER_POINTS:
        raise LowOrderPointError(f"{what} epk is a low-order point")


def encrypt(plaintext: bytes, recipients: Sequence[X25519PublicKey]) -> dict[str, Any]:
    """Encrypt once (A256GCM) and wrap the content key for every recipient key."""
    message = GeneralJSONEncryption({"cty": RECORD_TYP, "enc": CONTENT_ENC}, plaintext)
    for key in recipients:
        message.add_recipient({"alg": KEY_WRAP_ALG, "kid": kid_of(key)}, _jwk_of_public(key))
    document = joserfc_jwe.encrypt_json(message, None, registry=REGISTRY)
    return dict(document)


def decrypt(jwe: JWEParts, key: X25519PrivateKey) -> bytes:
    """Decrypt with one recipient key, unwrapping only that recipient's entry."""
    kid = kid_of_private(key)
    try:
        position = jwe.recipient_kids.index(kid)
    except ValueError as exc:
        raise UnknownRecipientError(f"the jwe is not encrypted to key {kid}") from exc
    entry = jwe.document["recipients"][position]
    # The flattened form of our own entry decrypts with one unwrap instead of trying them all.
    flattened: FlattenedJSONSerialization = {
        "protected": jwe.document["protected"],
        "header": entry["header"],
        "encrypted_key": entry["encrypted_key"],
        "iv": jwe.document["iv"],
        "ciphertext": jwe.document["ciphertext"],
        "tag": jwe.document["tag"],
    }
    try:
        message = joserfc_jwe.decrypt_json(flattened, _private_jwk(key), registry=REGISTRY)
    except (JoseError, ValueError) as exc:
        raise DecryptionFailedError(f"the jwe does not decrypt with key {kid}") from exc
    if message.plaintext is None:
        raise DecryptionFailedError(f"the jwe does not decrypt with key {kid}")
    return message.plaintext
