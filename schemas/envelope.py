"""The envelope: what travels over the wire for one handoff.

`{"statement": <compact JWS of the statement>, "jwe": <General JSON JWE of the signed
record, or null for signed-only kinds>}`. Only the shape is checked here; signatures,
digests and decryption belong to the envelope code.
"""

import re
from typing import Unpack

from marshmallow import fields

from keys.b64 import is_canonical_b64url
from schemas.common import (
    JWE_KEY_ALG,
    MAX_JWE_CIPHERTEXT_CHARS,
    MAX_JWE_ENCRYPTED_KEY_CHARS,
    MAX_JWE_IV_CHARS,
    MAX_JWE_PROTECTED_CHARS,
    MAX_JWE_RECIPIENTS,
    MAX_JWE_TAG_CHARS,
    EpkSchema,
    FieldOptions,
    JweSchema,
    RecipientHeaderSchema,
    RecipientSchema,
    StrictSchema,
    Text,
)

__all__ = [
    "JWE_KEY_ALG",
    "MAX_JWE_CIPHERTEXT_CHARS",
    "MAX_JWE_ENCRYPTED_KEY_CHARS",
    "MAX_JWE_IV_CHARS",
    "MAX_JWE_PROTECTED_CHARS",
    "MAX_JWE_RECIPIENTS",
    "MAX_JWE_TAG_CHARS",
    "MAX_STATEMENT_CHARS",
    "CompactJws",
    "EnvelopeSchema",
    "EpkSchema",
    "JweSchema",
    "RecipientHeaderSchema",
    "RecipientSchema",
]

MAX_STATEMENT_CHARS = 64 * 1024
COMPACT_JWS_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", re.ASCII)


class CompactJws(Text):
    """A compact JWS (RFC 7515 §7.1) with three non-empty, canonical base64url segments.

    Non-empty: an empty signature is an unsecured JWS. Canonical: a second spelling of the
    same signature would give the same statement two different log entries.
    """

    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            max_length=MAX_STATEMENT_CHARS,
            pattern=COMPACT_JWS_RE,
            pattern_error="Not a compact JWS (three base64url segments joined by dots).",
            **kwargs,
        )
        self.error_messages = {
            **self.error_messages,
            "base64url": "A JWS segment is not canonical unpadded base64url.",
        }

    def _check(self, value: str) -> None:
        if not all(is_canonical_b64url(segment) for segment in value.split(".")):
            raise self.make_error("base64url")


class EnvelopeSchema(StrictSchema):
    statement = CompactJws(required=True)
    jwe = fields.Nested(JweSchema, required=True, allow_none=True)
