"""The handoff envelope: a signed record, encrypted to its readers, under a signed statement.

`seal` and `sign_statement` build envelopes; `open` decrypts and verifies one for a
recipient; `verify_statement` is the server's check, which never decrypts. Every refusal is
a subclass of `errors.EnvelopeError`.
"""

from exchange.protocol.envelope import errors
from exchange.protocol.envelope.bounds import DEFAULT_LIMITS, Limits
from exchange.protocol.envelope.errors import EnvelopeError, SealError
from exchange.protocol.envelope.opening import open
from exchange.protocol.envelope.seal import seal, sign_statement
from exchange.protocol.envelope.structures import Envelope, OpenedRecord, VerifiedStatement
from exchange.protocol.envelope.verify import verify_statement

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
