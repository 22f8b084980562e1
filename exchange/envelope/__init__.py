"""The handoff envelope: a signed record, encrypted to its readers, under a signed statement.

`seal` and `sign_statement` build envelopes; `open` decrypts and verifies one for a
recipient; `verify_statement` is the server's check, which never decrypts. Every refusal is
a subclass of `errors.EnvelopeError`.
"""

from exchange.envelope import errors
from exchange.envelope.errors import EnvelopeError, SealError
from exchange.envelope.limits import DEFAULT_LIMITS, Limits
from exchange.envelope.model import Envelope, OpenedRecord, VerifiedStatement
from exchange.envelope.opening import open
from exchange.envelope.seal import seal, sign_statement
from exchange.envelope.verify import verify_statement

__all__ = [
    "DEFAULT_LIMITS",
    "Envelope",
    "EnvelopeError",
    "Limits",
    "OpenedRecord",
    "SealError",
    "VerifiedStatement",
    "errors",
    "open",
    "seal",
    "sign_statement",
    "verify_statement",
]
