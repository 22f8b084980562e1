"""Base64, the one implementation: strict, so that every byte string has one spelling.

Two alphabets are in use: unpadded base64url (RFC 7515 §2: JOSE, kids, digests) and
standard padded base64 (RFC 4648 §4: signed notes, checkpoints, Merkle proofs). Decoders
refuse padding where there is none, foreign characters and non-zero unused bits. A lenient
decoder lets two different strings name the same bytes, which breaks byte-exact digests
and lets an attacker change a signed document without changing its meaning.
"""

import base64
import binascii
import re

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_URL_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_B64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


class NonCanonicalBase64Error(ValueError):
    """The text is not the canonical spelling of any byte string in its alphabet."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def is_canonical_b64url(text: str) -> bool:
    """True if `text` is the one unpadded base64url spelling of some byte string.

    Checked without decoding: a length of 1 mod 4 encodes nothing, and the unused low bits
    of the last character must be zero.
    """
    rest = len(text) % 4
    return rest != 1 and _B64URL.fullmatch(text) is not None and _unused_bits_zero(text, rest)


def _unused_bits_zero(text: str, rest: int) -> bool:
    """The last character's bits beyond the encoded bytes are zero (2 or 3 characters of
    the last group encode 1 or 2 bytes and leave 4 or 2 bits unused)."""
    if rest == 2:
        return text[-1] in "AQgw"
    if rest == 3:
        return text[-1] in "AEIMQUYcgkosw048"
    return True


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing every spelling but the canonical one."""
    # Payloads and ciphertexts run to kilobytes: the alphabet is checked by binascii's
    # strict decoder after '-' and '_' become '+' and '/' (so those two and '=' must not be
    # there to begin with), which costs half of a regex scan followed by a lenient decode.
    rest = len(text) % 4
    if rest == 1 or not text.isascii() or "+" in text or "/" in text or "=" in text:
        raise NonCanonicalBase64Error("not unpadded base64url")
    try:
        data = binascii.a2b_base64(
            text.encode("ascii").translate(_URL_TO_STANDARD) + b"=" * (-rest % 4),
            strict_mode=True,
        )
    except binascii.Error as exc:
        raise NonCanonicalBase64Error("not unpadded base64url") from exc
    if not _unused_bits_zero(text, rest):
        raise NonCanonicalBase64Error("non-canonical base64url (trailing bits set)")
    return data


def b64_encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64_decode(text: str) -> bytes:
    """Decode standard padded base64, refusing every spelling but the canonical one."""
    if not _B64.fullmatch(text):
        raise NonCanonicalBase64Error("not standard padded base64")
    data = base64.b64decode(text)
    if b64_encode(data) != text:
        raise NonCanonicalBase64Error("non-canonical base64 (unused bits set)")
    return data


def b64_decoded_size(text: str) -> int:
    """Bytes encoded by well-formed padded base64, computed without decoding."""
    return len(text) // 4 * 3 - (len(text) - len(text.rstrip("=")))


def b64_max_chars(max_bytes: int) -> int:
    """Length of padded base64 holding `max_bytes` bytes."""
    return -(-max_bytes // 3) * 4
