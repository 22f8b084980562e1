"""Why an envelope was refused: one class per cause, each with a stable `code`.

The codes are part of the API: the server turns them into problem types
(`.../problems/envelope/<code>`) and the CLI prints them, so clients can react to the cause
(for example reseal to a refreshed key set) without parsing prose.
"""

from collections.abc import Mapping
from typing import Any, ClassVar

from marshmallow import ValidationError

from exchange.protocol.verification import VerificationError


class EnvelopeError(VerificationError):
    """An envelope, statement or record did not pass the strict policy."""

    code: ClassVar[str] = "invalid-envelope"
    title: ClassVar[str] = "The envelope is invalid"


class MalformedEnvelopeError(EnvelopeError):
    code = "malformed"
    title = "The envelope is not well-formed"


class EnvelopeBase64Error(MalformedEnvelopeError):
    code = "non-canonical-base64"
    title = "A base64url value is not in its one canonical form"


class NonCanonicalJSONError(MalformedEnvelopeError):
    code = "non-canonical-json"
    title = "A signed payload is not RFC 8785 canonical JSON"


class SignatureCountError(MalformedEnvelopeError):
    code = "signature-count"
    title = "A JWS must be compact, with exactly one signature"


class OversizeError(EnvelopeError):
    code = "oversize"
    title = "The envelope exceeds a size limit"


class UnsupportedAlgorithmError(EnvelopeError):
    code = "unsupported-algorithm"
    title = "Only Ed25519, ECDH-ES+A256KW and A256GCM are accepted"


class AlgNoneError(UnsupportedAlgorithmError):
    code = "alg-none"
    title = "Unsigned JWS (alg 'none') is refused"


class SymmetricAlgorithmError(UnsupportedAlgorithmError):
    code = "symmetric-algorithm"
    title = "MAC algorithms (HS*) are refused: a public key is not a secret"


class ForbiddenHeaderError(EnvelopeError):
    code = "forbidden-header"
    title = "A JOSE header parameter outside the policy was present"


class WrongTypeError(EnvelopeError):
    code = "wrong-type"
    title = "A JOSE object has the wrong typ or cty"


class UnknownSignerKeyError(EnvelopeError):
    code = "unknown-signer-key"
    title = "The signing key is not one of the sender's keys"


class BadSignatureError(EnvelopeError):
    code = "bad-signature"
    title = "The statement's signature does not verify"


class InvalidContentError(EnvelopeError):
    """Schema errors, keyed by field like marshmallow's `messages`."""

    code = "invalid-content"
    title = "A signed document does not match its schema"

    def __init__(self, message: str, messages: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.messages: Mapping[str, Any] = messages or {}

    @classmethod
    def from_validation(cls, what: str, exc: ValidationError) -> "InvalidContentError":
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return cls(f"{what} does not match its schema", messages)


class InvalidStatementError(InvalidContentError):
    code = "invalid-statement"
    title = "The statement does not match its schema"


class InvalidRecordError(InvalidContentError):
    code = "invalid-record"
    title = "The record does not match its schema"


class DigestMismatchError(EnvelopeError):
    code = "digest-mismatch"
    title = "A digest in the statement does not match what it covers"


class UnknownRecipientError(EnvelopeError):
    code = "unknown-recipient"
    title = "The JWE is not encrypted to this key"


class LowOrderPointError(EnvelopeError):
    code = "low-order-point"
    title = "An ephemeral X25519 key is a low-order point"


class DecryptionFailedError(EnvelopeError):
    code = "decryption-failed"
    title = "The JWE does not decrypt with this key"


class BadInnerSignatureError(BadSignatureError):
    code = "bad-inner-signature"
    title = "The inner record's signature does not verify"


class SignerMismatchError(EnvelopeError):
    code = "signer-mismatch"
    title = "The statement and the record are signed by different keys"


class RecordMismatchError(EnvelopeError):
    code = "record-mismatch"
    title = "The record and the statement disagree"


class RecordCaseMismatchError(RecordMismatchError):
    code = "case-mismatch"
    title = "The record belongs to another case"


class NotAddressedError(EnvelopeError):
    code = "not-addressed"
    title = "The record is not addressed to this organisation"


class NoRecordError(EnvelopeError):
    code = "no-record"
    title = "This kind of statement carries no encrypted record"


class SealError(ValueError):
    """The caller asked seal() to sign something it must not: a programming or input error."""
