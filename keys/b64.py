"""Strict unpadded base64url (RFC 7515 §2): exactly one accepted spelling per byte string."""

import base64
import binascii
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


class NonCanonicalBase64Error(ValueError):
    """The text is not the canonical unpadded base64url spelling of any byte string."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode, refusing padding, foreign characters and non-zero trailing bits.

    A lenient decoder lets two different strings name the same bytes, which breaks
    byte-exact digests and lets an attacker change a signed document without changing
    its meaning; so only the one canonical spelling is accepted.
    """
    if not _ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise NonCanonicalBase64Error("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise NonCanonicalBase64Error("not unpadded base64url") from exc
    if b64url_encode(data) != text:
        raise NonCanonicalBase64Error("non-canonical base64url (trailing bits set)")
    return data
