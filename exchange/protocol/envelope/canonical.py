"""RFC 8785 canonical JSON, and the strict parse that insists a signed payload is canonical.

Both run on orjson and Python's C JSON codec where they are exactly RFC 8785 (see "the
fast path" below) and on the reference `rfc8785` package otherwise: the envelope, the
server and the auditor canonicalise or check several documents per handoff, and the
pure-Python reference costs more than the signatures.
"""

import hashlib
import json
from typing import Any

import orjson
import rfc8785

from exchange.protocol.envelope.errors import MalformedEnvelopeError, NonCanonicalJSONError
from exchange.protocol.strict_json import DuplicateMemberError
from exchange.protocol.strict_json import loads as strict_json_loads
from keys.b64 import b64url_encode


def canonical(value: Any) -> bytes:
    """The RFC 8785 canonical JSON of `value`."""
    try:
        data = orjson.dumps(value, option=_ORJSON_OPTIONS)
        if data.isascii():
            # Parsing back refuses floats, where orjson and RFC 8785 may print differently.
            _decoder.decode(data.decode("ascii"))
            return data
    except (_SlowPathError, TypeError, ValueError):
        pass
    return rfc8785.dumps(value)


def sha256_b64url(data: bytes) -> str:
    return b64url_encode(hashlib.sha256(data).digest())


def strict_json(data: bytes, what: str) -> Any:
    """Parse JSON with `strict_json.loads`; refusals are envelope errors naming `what`."""
    try:
        return strict_json_loads(data)
    except DuplicateMemberError as exc:
        raise MalformedEnvelopeError(f"{what}: duplicate member name in a JSON object") from exc
    except (ValueError, RecursionError) as exc:
        raise MalformedEnvelopeError(f"{what} is not valid JSON") from exc


def _parse_canonical_reference(data: bytes, what: str) -> dict[str, Any]:
    """The reference check: strict parse, then the `rfc8785` spelling must be the input."""
    value = strict_json(data, what)
    if not isinstance(value, dict):
        raise MalformedEnvelopeError(f"{what} must be a JSON object")
    if rfc8785.dumps(value) != data:
        raise NonCanonicalJSONError(f"{what} is not RFC 8785 canonical JSON")
    return value


# --- the fast path -------------------------------------------------------------------------
# Write RFC 8785 canonical JSON with orjson and parse it with the C json codec, with the
# reference `rfc8785` as the fallback. The fast path is exact for the inputs it accepts:
#
# * the text is ASCII, so every string in it is ASCII once re-encoded without escaping
#   (a non-ASCII character would appear raw and the comparison would fail): key order by
#   UTF-16 code units, RFC 8785's rule, is then code point order, orjson's rule;
# * orjson (and `json`, which checks what was received) escapes exactly the characters
#   `rfc8785` escapes, with the same spellings (short forms for \b \t \n \f \r, lowercase
#   \u00xx for the other controls; `tests/.../test_canonical.py` compares all of ASCII);
# * no floats, NaN or infinities reach it (the parse refuses them) and integers stay
#   within ±(2**53 - 1) (orjson's OPT_STRICT_INTEGER refuses the rest), where all three
#   print integers alike;
# * orjson prints what `json` cannot (datetimes, dataclasses) only if asked: it is told to
#   refuse them, so they reach the reference, which refuses them too;
# * a duplicate member collapses in the parse and the re-serialisation comes out shorter.
#
# Anything else (non-ASCII text, floats, a mismatch) goes to the reference path, which
# either accepts it or raises the envelope module's error.

_SAFE_INTEGER = 2**53 - 1


class _SlowPathError(Exception):
    """The input needs the reference path."""


def _integer(text: str) -> int:
    value = int(text)
    if -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
        return value
    raise _SlowPathError


def _refuse(_text: str) -> Any:
    raise _SlowPathError


_decoder = json.JSONDecoder(parse_int=_integer, parse_float=_refuse, parse_constant=_refuse)
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_STRICT_INTEGER
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def parse_canonical_object(data: bytes, what: str) -> dict[str, Any]:
    """The object `data` is the canonical JSON of, or an EnvelopeError saying why not.

    Requiring the one canonical spelling means the signed bytes and the meaning are the same
    thing: nobody can re-serialise a statement into different bytes that still verify.
    """
    if data.isascii():
        text = data.decode("ascii")
        try:
            value = _decoder.decode(text)
            # orjson refuses a lone surrogate (a TypeError): the reference decides.
            if isinstance(value, dict) and orjson.dumps(value, option=_ORJSON_OPTIONS) == data:
                return value
        except (_SlowPathError, TypeError, ValueError):
            pass
    try:
        return _parse_canonical_reference(data, what)
    except ValueError as exc:
        # rfc8785 refuses what JSON allows but JCS cannot express (NaN, huge integers,
        # lone surrogates): not canonical either.
        raise NonCanonicalJSONError(f"{what} is not RFC 8785 canonical JSON: {exc}") from exc
