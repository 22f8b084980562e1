"""Domain errors: what services raise. Each names its HTTP status and a stable problem type.

Services never build responses; `exchange.api.problems` turns these (and envelope errors)
into RFC 9457 problem details in one place. `slug` is the stable part of the problem
type URI; `extensions` become members of the problem object.
"""

from typing import Any, ClassVar


class ExchangeError(Exception):
    status: ClassVar[int] = 400
    # Seconds after which a retry may succeed: sent as Retry-After (503s).
    retry_after: ClassVar[int | None] = None
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "The request is malformed"
    # Sent as WWW-Authenticate: the scheme a refused client should authenticate with.
    challenge: ClassVar[str | None] = None

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


# --- 401: who is asking --------------------------------------------------------------------


class AuthenticationError(ExchangeError):
    status = 401
    slug = "unauthenticated"
    title = "Authentication is required"


class InvalidTokenError(AuthenticationError):
    slug = "invalid-token"
    title = "The access token is missing, malformed, expired or revoked"
    # RFC 6750 §3: a request refused for its bearer token is answered with the challenge.
    challenge: ClassVar[str | None] = 'Bearer realm="hotline"'


class InvalidClientAssertionError(AuthenticationError):
    slug = "invalid-client-assertion"
    title = "The client assertion is not acceptable"


class AssertionReplayError(InvalidClientAssertionError):
    slug = "assertion-replayed"
    title = "The client assertion was already used"


# --- 403: what they may do -----------------------------------------------------------------


class ForbiddenError(ExchangeError):
    status = 403
    slug = "forbidden"
    title = "This official may not do this"


class SenderMismatchError(ForbiddenError):
    slug = "sender-mismatch"
    title = "The statement's sender is not the authenticated official"


class EnrollmentCodeError(ForbiddenError):
    slug = "enrollment-code-invalid"
    title = "The enrollment code is unknown, used or expired"


class NotLeadError(ForbiddenError):
    slug = "not-a-lead"
    title = "Only a current lead of the organisation signs its membership"


class OtherOrganisationLeadError(ForbiddenError):
    slug = "lead-of-another-organisation"
    title = "The signer is a lead of another organisation"


# --- 404 -------------------------------------------------------------------------------------


class NotFoundError(ExchangeError):
    status = 404
    slug = "not-found"
    title = "No such resource"


class UnknownOfficialError(NotFoundError):
    slug = "unknown-official"
    title = "The statement names no official of this organisation"


# --- 409: conflicts with the current state -------------------------------------------------


class ConflictError(ExchangeError):
    status = 409
    slug = "conflict"
    title = "The request conflicts with the current state"


class InvalidTransitionError(ConflictError):
    slug = "invalid-transition"
    title = "This kind of handoff is not allowed for this role in this state"


class HandoffConflictError(ConflictError):
    slug = "handoff-conflict"
    title = "A different handoff with this handoff_id exists"


class CaseExistsError(ConflictError):
    slug = "case-exists"
    title = "A case with this case_id or issuer_case_ref exists"


class AlreadyExistsError(ConflictError):
    slug = "already-exists"
    title = "The resource already exists"


class StatementReplayedError(ConflictError):
    slug = "statement-replayed"
    title = "This membership statement was already used"


class LastLeadError(ConflictError):
    slug = "last-lead"
    title = "The change would leave the organisation without a current lead"


class OrganisationHasLeadsError(ConflictError):
    slug = "organisation-has-leads"
    title = "The organisation already has a lead; only its leads change its membership"


# --- 422: well-formed but unacceptable -----------------------------------------------------


class UnprocessableError(ExchangeError):
    status = 422
    slug = "unprocessable"
    title = "The request is well-formed but cannot be accepted"


class ClockSkewError(UnprocessableError):
    slug = "clock-skew"
    title = "issued_at is too far from the server's time"


class WrongEndpointError(UnprocessableError):
    slug = "wrong-endpoint"
    title = "This kind of handoff is not accepted at this endpoint"


class CaseMismatchError(UnprocessableError):
    slug = "case-mismatch"
    title = "The statement names another case than the URL"


class WrongAddresseeError(UnprocessableError):
    slug = "wrong-addressee"
    title = "The statement is not addressed to the case's counterpart"


class UnknownHandoffError(UnprocessableError):
    slug = "unknown-handoff"
    title = "in_reply_to names no handoff of this case"


class MissingRecipientKeysError(UnprocessableError):
    slug = "missing-recipient-keys"
    title = "The JWE is not encrypted to every key of the recipient's officials"


class UnexpectedRecipientKeysError(UnprocessableError):
    slug = "unexpected-recipient-keys"
    title = "The JWE is encrypted to keys outside the case's organisations"


class UnapprovedRecipientKeysError(UnprocessableError):
    slug = "unapproved-recipient-keys"
    title = "The JWE is encrypted to an official their organisation's leads have not approved"


class InvalidMembershipStatementError(UnprocessableError):
    slug = "invalid-membership-statement"
    title = "The membership statement does not verify or does not fit the request"


class RecipientUnreachableError(UnprocessableError):
    slug = "recipient-unreachable"
    title = "The recipient organisation has no enrolled official to read this"


class ReceiptMismatchError(UnprocessableError):
    slug = "receipt-digest-mismatch"
    title = "The receipt's record_sha256 differs from the acknowledged record's"


class InvalidAssigneeError(UnprocessableError):
    slug = "invalid-assignee"
    title = "The assignee is not an active official of this platform"


class InvalidCursorError(UnprocessableError):
    slug = "invalid-cursor"
    title = "The cursor is not one this server gave"


class KeyRegistrationError(UnprocessableError):
    slug = "invalid-keys"
    title = "The keys or their proof of possession are not acceptable"


# --- 503: this instance cannot serve writes now -------------------------------------------


class LogKeyRetiredError(ExchangeError):
    """Another instance rotated the log key; this one still holds the old key."""

    status = 503
    slug = "log-key-retired"
    title = "This instance's log key was rotated out"
    retry_after = 5


class UnsafeDestinationError(UnprocessableError):
    slug = "unsafe-destination"
    title = "The notification target is not an address the exchange may send to"


class SubscriptionStatementError(UnprocessableError):
    slug = "subscription-statement-invalid"
    title = "The subscription statement does not verify or does not match the request"
