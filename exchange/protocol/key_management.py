"""Sign and verify key-management statements (enrollment, rotation, revocation).

The same strict JOSE policy as handoff statements (exchange.protocol.envelope.jose), with its own
`typ` so that no key statement can pass for a handoff, or the other way round.
"""

import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from marshmallow import ValidationError

from exchange.protocol.envelope.canonical import canonical, parse_canonical_object
from exchange.protocol.envelope.errors import InvalidContentError, OversizeError
from exchange.protocol.envelope.jose import parse_compact_jws, sign_compact, verify_compact
from schemas.keys import KEYS_STATEMENT_TYP

MAX_KEY_STATEMENT_CHARS = 8192
T = TypeVar("T")


def sign(payload: Mapping[str, Any], key: Ed25519PrivateKey) -> str:
    return sign_compact(canonical(dict(payload)), key, KEYS_STATEMENT_TYP)


def signer_kid(token: str) -> str:
    """The kid a key statement claims to be signed by (not yet verified)."""
    if len(token) > MAX_KEY_STATEMENT_CHARS:
        raise OversizeError(f"key statement exceeds {MAX_KEY_STATEMENT_CHARS} characters")
    return parse_compact_jws(token, KEYS_STATEMENT_TYP, "key statement").kid


def verify(
    token: str, keys: Mapping[str, Ed25519PublicKey], load: Callable[[Mapping[str, Any]], T]
) -> T:
    """Verify the signature by one of `keys`; return the payload as `load` validates and
    types it (`schemas.keys.load_enrollment`, `load_rotation`, `load_revocation`)."""
    if len(token) > MAX_KEY_STATEMENT_CHARS:
        raise OversizeError(f"key statement exceeds {MAX_KEY_STATEMENT_CHARS} characters")
    jws = parse_compact_jws(token, KEYS_STATEMENT_TYP, "key statement")
    verify_compact(jws, keys, "key statement")
    payload = parse_canonical_object(jws.payload, "key statement payload")
    try:
        return load(payload)
    except ValidationError as exc:
        raise InvalidContentError.from_validation("key statement", exc) from exc


def normalise_code(code: str) -> str:
    """Codes are typed by people: ignore case, spaces and dashes."""
    return re.sub(r"[\s-]", "", code).upper()


def code_sha256(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()
