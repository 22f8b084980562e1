"""Parse RFC 8785 canonical JSON objects fast, with the reference check as the fallback.

The auditor parses two canonical documents per entry (the entry and its statement's
payload); `exchange.protocol.envelope.canonical.parse_canonical_object` re-serialises each with the
pure-Python `rfc8785`, which would cost more than the signature check. The fast path here
uses the C json codec and is exact for the inputs it accepts:

* the text is ASCII, so every string in it is ASCII once re-encoded without escaping
  (a non-ASCII character would appear raw and the comparison would fail): key order by
  UTF-16 code units, RFC 8785's rule, is then code point order, `sort_keys`' rule;
* `json` escapes exactly the characters `rfc8785` escapes, with the same spellings
  (short forms for \\b \\t \\n \\f \\r, lowercase \\u00xx for the other controls);
* no floats, NaN or infinities reach it and integers stay within ±(2**53 - 1), where
  both print integers alike;
* a duplicate member collapses in the parse and the re-serialisation comes out shorter.

Anything else (non-ASCII text, floats, a mismatch) goes to the reference path, which
either accepts it or raises the envelope module's error.
"""

import json
from typing import Any

from exchange.protocol.envelope.canonical import parse_canonical_object
from exchange.protocol.envelope.errors import NonCanonicalJSONError

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
_encoder = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


def parse_canonical(data: bytes, what: str) -> dict[str, Any]:
    """The object `data` is the canonical JSON of, or an EnvelopeError saying why not."""
    if data.isascii():
        text = data.decode("ascii")
        try:
            value = _decoder.decode(text)
        except (_SlowPathError, ValueError):
            value = None
        if isinstance(value, dict) and _encoder.encode(value) == text:
            return value
    try:
        return parse_canonical_object(data, what)
    except ValueError as exc:
        # rfc8785 refuses what JSON allows but JCS cannot express (NaN, huge integers,
        # lone surrogates): not canonical either.
        raise NonCanonicalJSONError(f"{what} is not RFC 8785 canonical JSON: {exc}") from exc
