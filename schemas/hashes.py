"""The spelling of each hash family, so that one value names one hash.

Hex is lowercase and base64 is canonical: hash lists are matched by string equality, and a
second spelling of the same hash would silently miss.
"""

import re

from marshmallow import ValidationError

from keys.b64 import b64_decode, b64_max_chars
from schemas.common import LOWER_HEX_64_RE
from schemas.enums import HashAlgo

LOWER_HEX_32_RE = re.compile(r"[0-9a-f]{32}", re.ASCII)
PHOTODNA_BYTES = 144
TMK_PDQF_MAX_BYTES = 256 * 1024
VPDQ_MAX_FRAMES = 10_000
# One frame of vPDQ's text form: frame number, quality 0..100, PDQ hash, seconds.
VPDQ_LINE_RE = re.compile(
    r"(?:0|[1-9][0-9]{0,8}),(?:100|[1-9]?[0-9]),[0-9a-f]{64},(?:0|[1-9][0-9]{0,8})(?:\.[0-9]{1,6})?",
    re.ASCII,
)
VPDQ_MAX_LINE_CHARS = len("999999999,100,") + 64 + len(",999999999.999999")
# The longest spelling of any family (a full vPDQ list); each family is then held to its own.
MAX_HASH_VALUE_CHARS = VPDQ_MAX_FRAMES * (VPDQ_MAX_LINE_CHARS + 1)

_MESSAGES: dict[str, str] = {
    HashAlgo.SHA256: "Not a sha256 hash (64 lowercase hex digits).",
    HashAlgo.MD5: "Not an md5 hash (32 lowercase hex digits).",
    HashAlgo.PDQ: "Not a pdq hash (64 lowercase hex digits).",
    HashAlgo.PHOTODNA: f"Not a photodna hash (standard base64 of {PHOTODNA_BYTES} bytes).",
    HashAlgo.TMK_PDQF: (
        f"Not a tmk_pdqf hash (standard base64 of 1 to {TMK_PDQF_MAX_BYTES} bytes)."
    ),
    HashAlgo.VPDQ: (
        f"Not a vpdq hash (1 to {VPDQ_MAX_FRAMES} lines of frame,quality,pdq-hex,seconds)."
    ),
}


def _decoded_size(value: str, max_bytes: int) -> int | None:
    """The decoded size of canonical base64 of at most `max_bytes` bytes, else None."""
    if len(value) > b64_max_chars(max_bytes):
        return None
    try:
        size = len(b64_decode(value))
    except ValueError:
        return None
    return size if size <= max_bytes else None


def _is_vpdq(value: str) -> bool:
    if value.count("\n") >= VPDQ_MAX_FRAMES:
        return False
    return all(VPDQ_LINE_RE.fullmatch(line) for line in value.split("\n"))


def is_valid_hash_value(algo: str, value: str) -> bool:
    """True if `value` is the canonical spelling of a hash of family `algo`."""
    match algo:
        case HashAlgo.SHA256 | HashAlgo.PDQ:
            return LOWER_HEX_64_RE.fullmatch(value) is not None
        case HashAlgo.MD5:
            return LOWER_HEX_32_RE.fullmatch(value) is not None
        case HashAlgo.PHOTODNA:
            return _decoded_size(value, PHOTODNA_BYTES) == PHOTODNA_BYTES
        case HashAlgo.TMK_PDQF:
            return (_decoded_size(value, TMK_PDQF_MAX_BYTES) or 0) >= 1
        case HashAlgo.VPDQ:
            return _is_vpdq(value)
    return False


def validate_hash_value(algo: str, value: str) -> None:
    """Raise ValidationError, naming the expected form, unless `value` fits `algo`."""
    if not is_valid_hash_value(algo, value):
        raise ValidationError(_MESSAGES.get(algo, "Unknown hash algorithm."))
