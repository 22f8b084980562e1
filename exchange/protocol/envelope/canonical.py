"""RFC 8785 canonical JSON, and the strict parse that insists a signed payload is canonical."""

import hashlib
import json
from typing import Any

import rfc8785

from exchange.protocol.envelope.errors import MalformedEnvelopeError, NonCanonicalJSONError
from keys.b64 import b64url_encode


def canonical(value: Any) -> bytes:
    return rfc8785.dumps(value)


def sha256_b64url(data: bytes) -> str:
    return b64url_encode(hashlib.sha256(data).digest())


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise MalformedEnvelopeError("duplicate member name in a JSON object")
    return result


def strict_json(data: bytes, what: str) -> Any:
    """Parse JSON, refusing duplicate member names (two parsers could pick different ones)."""
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, MalformedEnvelopeError):
            raise
        raise MalformedEnvelopeError(f"{what} is not valid JSON") from exc


def parse_canonical_object(data: bytes, what: str) -> dict[str, Any]:
    """Parse a signed payload that must be the canonical JSON of an object.

    Requiring the one canonical spelling means the signed bytes and the meaning are the same
    thing: nobody can re-serialise a statement into different bytes that still verify.
    """
    value = strict_json(data, what)
    if not isinstance(value, dict):
        raise MalformedEnvelopeError(f"{what} must be a JSON object")
    if canonical(value) != data:
        raise NonCanonicalJSONError(f"{what} is not RFC 8785 canonical JSON")
    return value
