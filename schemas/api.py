"""Request and response bodies of the HTTP API (the envelope itself is in envelope.py).

Requests are loaded strictly like every other schema here; responses are dumped from the
services' results and document the API in its OpenAPI description.
"""

import re
from collections.abc import Mapping
from typing import Unpack

from marshmallow import Schema, fields, validate

from schemas.common import (
    Choice,
    FieldOptions,
    StrictSchema,
    Text,
    UtcTimestamp,
)
from schemas.enums import FINAL_OUTCOMES, Category, Outcome, Priority
from schemas.envelope import CompactJws
from schemas.keys import PublicJwkSchema


class ResponseSchema(Schema):
    """Responses are written by the server: documented, not validated on the way out."""

    class Meta:
        register = False


_QUERY_INT_RE = re.compile(r"0|[1-9][0-9]{0,18}", re.ASCII)


class QueryInt(fields.Integer):
    """An integer in a query string, where every value is text: plain decimal digits only.

    Not `int()`, which also takes " 7", "+7", "7_000" and non-ASCII digits.
    """

    def __init__(self, *, min_value: int, max_value: int, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(strict=True, **kwargs)
        self.validators.insert(0, validate.Range(min=min_value, max=max_value))

    def _deserialize(
        self, value: object, attr: str | None, data: Mapping[str, object] | None, **kwargs: object
    ) -> int:
        if not isinstance(value, str) or not _QUERY_INT_RE.fullmatch(value):
            raise self.make_error("invalid")
        return int(value)


# --- Problems --------------------------------------------------------------------------------


class ProblemSchema(ResponseSchema):
    """RFC 9457 problem details; `type` is `urn:hotline:problem:<slug>`."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String()
    request_id = fields.String()
    errors = fields.Dict(metadata={"description": "Schema errors by field (422)."})
    missing_kids = fields.List(fields.String())
    unexpected_kids = fields.List(fields.String())
    case_id = fields.String()
    state = fields.String()
    expected = fields.String()
    server_time = fields.String()


# --- Token -------------------------------------------------------------------------------------


class TokenRequestSchema(StrictSchema):
    grant_type = Choice(["client_credentials"], required=True)
    client_assertion_type = Choice(
        ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"], required=True
    )
    client_assertion = Text(max_length=4096, required=True)
    scope = Text(max_length=200)


class TokenResponseSchema(ResponseSchema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(required=True)


# --- The log -----------------------------------------------------------------------------------


class LogReceiptSchema(ResponseSchema):
    """Proof that an entry is in the log: keep it, and check it offline."""

    index = fields.Integer(required=True)
    leaf_hash = fields.String(required=True, metadata={"description": "Standard base64."})
    tree_size = fields.Integer(required=True)
    checkpoint = fields.String(required=True, metadata={"description": "C2SP signed note."})
    inclusion_proof = fields.List(fields.String(), required=True)


class LogEntrySchema(ResponseSchema):
    index = fields.Integer(required=True)
    entry = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "RFC 8785 JSON; the leaf. Null when withheld from the caller."},
    )
    leaf_hash = fields.String(required=True)


class LogEntriesSchema(ResponseSchema):
    entries = fields.List(fields.Nested(LogEntrySchema), required=True)


class DirectoryEntrySchema(ResponseSchema):
    position = fields.Integer(required=True)
    index = fields.Integer(required=True)
    entry = fields.String(required=True, metadata={"description": "RFC 8785 JSON; the leaf."})


class DirectoryEntriesSchema(ResponseSchema):
    tree_size = fields.Integer(required=True)
    entries = fields.List(fields.Nested(DirectoryEntrySchema), required=True)


class LogEntriesQuerySchema(StrictSchema):
    start = QueryInt(min_value=0, max_value=2**63 - 1, required=True)
    end = QueryInt(min_value=1, max_value=2**63 - 1, required=True)


class InclusionQuerySchema(StrictSchema):
    index = QueryInt(min_value=0, max_value=2**63 - 1, required=True)
    tree_size = QueryInt(min_value=1, max_value=2**63 - 1, required=True)


class InclusionProofSchema(ResponseSchema):
    index = fields.Integer(required=True)
    tree_size = fields.Integer(required=True)
    leaf_hash = fields.String(required=True)
    proof = fields.List(fields.String(), required=True)


class ConsistencyQuerySchema(StrictSchema):
    old = QueryInt(min_value=1, max_value=2**63 - 1, required=True)
    new = QueryInt(min_value=1, max_value=2**63 - 1, required=True)


class ConsistencyProofSchema(ResponseSchema):
    old = fields.Integer(required=True)
    new = fields.Integer(required=True)
    proof = fields.List(fields.String(), required=True)


class LogKeyHandoverSchema(ResponseSchema):
    index = fields.Integer(
        required=True, metadata={"description": "the log_key_rotated entry's index"}
    )
    note = fields.String(
        required=True,
        metadata={"description": "signed note: signed by the old key, cosigned by the new"},
    )


class LogKeySchema(ResponseSchema):
    origin = fields.String(required=True)
    verifier_key = fields.String(required=True, metadata={"description": "name+id+key"})
    retired_verifier_keys = fields.List(fields.String(), required=True)
    handovers = fields.List(fields.Nested(LogKeyHandoverSchema), required=True)


# --- Directory -------------------------------------------------------------------------------


class OrganisationSchema(ResponseSchema):
    id = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    active = fields.Boolean(required=True)


class OrganisationsSchema(ResponseSchema):
    organisations = fields.List(fields.Nested(OrganisationSchema), required=True)


class OfficialSchema(ResponseSchema):
    id = fields.String(required=True)
    org = fields.String(required=True)
    role = fields.String(required=True)
    title = fields.String(required=True)
    categories = fields.List(fields.String(), required=True)
    languages = fields.List(fields.String(), required=True)
    contact = fields.Dict(required=True)
    enrolled = fields.Boolean(required=True)


class OfficialsSchema(ResponseSchema):
    officials = fields.List(fields.Nested(OfficialSchema), required=True)


class DirectoryKeySchema(PublicJwkSchema):
    """A public JWK with whose key it is and where the log registered it."""

    official = fields.String(required=True)
    role = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "active or retired"})
    registered_log_index = fields.Integer(required=True)

    class Meta:
        register = False


class DirectoryKeysQuerySchema(StrictSchema):
    status = Choice(["active", "all"], load_default="active")


class DirectoryKeysSchema(ResponseSchema):
    keys = fields.List(fields.Nested(DirectoryKeySchema), required=True)


# --- Enrollment and keys ---------------------------------------------------------------------


class InvitationRequestSchema(StrictSchema):
    code = Text(max_length=64, required=True)


class InvitationSchema(ResponseSchema):
    org = fields.String(required=True)
    org_name = fields.String(required=True)
    official = fields.String(required=True)
    role = fields.String(required=True)
    title = fields.String(required=True)


class EnrollRequestSchema(StrictSchema):
    code = Text(max_length=64, required=True)
    statement = CompactJws(required=True)


class RotateRequestSchema(StrictSchema):
    statement = CompactJws(required=True)
    proof = CompactJws(required=True)


class RevokeRequestSchema(StrictSchema):
    statement = CompactJws(required=True)


class KeyChangeSchema(ResponseSchema):
    official = fields.String(required=True)
    org = fields.String(required=True)
    role = fields.String(required=True)
    keys = fields.List(fields.Nested(PublicJwkSchema), required=True)
    log = fields.Nested(LogReceiptSchema, required=True)


class EnrollResponseSchema(KeyChangeSchema):
    log_origin = fields.String(required=True)
    log_verifier_key = fields.String(required=True)
    token_endpoint = fields.String(required=True)


# --- Membership: signed by a lead of the organisation ------------------------------------------


class MembershipRequestSchema(StrictSchema):
    statement = CompactJws(
        required=True,
        metadata={"description": "A membership statement (`hotline.membership/v1`) by a lead."},
    )


class MemberSchema(OfficialSchema):
    active = fields.Boolean(required=True)
    approved = fields.Boolean(
        required=True, metadata={"description": "Approved by a current lead: receives cases."}
    )
    lead = fields.Boolean(required=True)


class MembersSchema(ResponseSchema):
    members = fields.List(fields.Nested(MemberSchema), required=True)


class MembershipChangeSchema(ResponseSchema):
    event = fields.String(required=True)
    member = fields.Nested(MemberSchema, required=True)
    code = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "An invitation's one-time enrollment code, else null."},
    )
    log = fields.Nested(LogReceiptSchema, required=True)


# --- Cases -----------------------------------------------------------------------------------


class SenderViewSchema(ResponseSchema):
    org = fields.String(required=True)
    official = fields.String(required=True)
    kid = fields.String(required=True)


class TimelineEntrySchema(ResponseSchema):
    handoff_id = fields.String(required=True)
    kind = fields.String(required=True)
    sender = fields.Nested(SenderViewSchema, required=True)
    in_reply_to = fields.String(allow_none=True, required=True)
    issued_at = fields.String(required=True)
    received_at = fields.String(required=True)
    state_after = fields.String(required=True)
    log_index = fields.Integer(required=True)
    statement = fields.String(required=True, metadata={"description": "The JWS, verbatim."})
    jwe = fields.Dict(
        allow_none=True,
        metadata={"description": "The JWE (null for signed-only kinds; never sent to auditors)."},
    )


class AppliedPolicySchema(ResponseSchema):
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    answer_within = fields.Integer(
        required=True, metadata={"description": "Seconds to answer a question of this case."}
    )


class CaseSummarySchema(ResponseSchema):
    case_id = fields.String(required=True)
    issuer_org = fields.String(required=True)
    issuer_official = fields.String(required=True)
    issuer_case_ref = fields.String(required=True)
    platform_org = fields.String(required=True)
    category = fields.String(required=True)
    priority = fields.String(required=True)
    minor_involved = fields.String(required=True)
    request_type = fields.String(required=True)
    item_count = fields.Integer(required=True)
    state = fields.String(required=True)
    outcome = fields.String(allow_none=True, required=True)
    assignee = fields.String(allow_none=True, required=True)
    submitted_at = fields.String(required=True)
    ack_due_at = fields.String(required=True)
    action_due_at = fields.String(required=True)
    acknowledged_at = fields.String(allow_none=True, required=True)
    responded_at = fields.String(allow_none=True, required=True)
    withdrawn_at = fields.String(allow_none=True, required=True)
    closed_at = fields.String(allow_none=True, required=True)
    updated_at = fields.String(required=True)
    overdue = fields.Boolean(required=True)
    deadline_policy = fields.Nested(
        AppliedPolicySchema,
        required=True,
        allow_none=True,
        metadata={"description": "The deadline policy the case was opened under."},
    )
    withdrawal_ack_due_at = fields.String(allow_none=True, required=True)
    reopened_due_at = fields.String(allow_none=True, required=True)


class CaseDetailSchema(CaseSummarySchema):
    timeline = fields.List(fields.Nested(TimelineEntrySchema), required=True)


class CaseListSchema(ResponseSchema):
    cases = fields.List(fields.Nested(CaseSummarySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


# The case states (exchange.protocol.workflow.State, which the tests hold this list to).
CASE_STATES = (
    "submitted",
    "delivered",
    "acknowledged",
    "needs_info",
    "supplemented",
    *(outcome.value for outcome in Outcome if outcome in FINAL_OUTCOMES),
    "reopened",
    "withdrawn",
    "withdrawal_acknowledged",
    "closed",
)


class CasesQuerySchema(StrictSchema):
    state = Choice(CASE_STATES)
    category = Choice(Category)
    priority = Choice(Priority)
    overdue = fields.Boolean()
    updated_since = UtcTimestamp()
    limit = QueryInt(min_value=1, max_value=100, load_default=50)
    cursor = Text(max_length=512)


class AcceptedHandoffSchema(ResponseSchema):
    handoff_id = fields.String(required=True)
    case_id = fields.String(required=True)
    kind = fields.String(required=True)
    state = fields.String(required=True, metadata={"description": "The case's state after it."})
    log = fields.Nested(LogReceiptSchema, required=True)


class InboxQuerySchema(StrictSchema):
    after = QueryInt(min_value=0, max_value=2**63 - 1, load_default=0)
    limit = QueryInt(min_value=1, max_value=100, load_default=50)


class InboxItemSchema(ResponseSchema):
    seq = fields.Integer(required=True)
    case = fields.Nested(CaseSummarySchema, required=True)
    handoff = fields.Nested(TimelineEntrySchema, required=True)


class InboxPageSchema(ResponseSchema):
    items = fields.List(fields.Nested(InboxItemSchema), required=True)
    last_seq = fields.Integer(required=True, metadata={"description": "The newest seq there is."})


# --- Notifications: subscriptions and the delivery log -----------------------------------------


class SubscriptionRequestSchema(StrictSchema):
    """A target and the signed statement that registers it (naming it by its SHA-256)."""

    statement = CompactJws(required=True)
    target = Text(min_length=3, max_length=2048, required=True)


class SubscriptionRemovalRequestSchema(StrictSchema):
    statement = CompactJws(required=True)


class SubscriptionViewSchema(ResponseSchema):
    id = fields.String(required=True)
    channel = fields.String(required=True)
    target = fields.String(required=True)
    scope = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    priorities = fields.List(fields.String(), required=True)
    created_at = fields.String(required=True)
    removed_at = fields.String(allow_none=True)
    log_index = fields.Integer(required=True)


class SubscriptionCreatedSchema(SubscriptionViewSchema):
    secret = fields.String(
        allow_none=True,
        metadata={"description": "The webhook's signing secret (whsec_…): shown this once."},
    )
    log = fields.Nested(LogReceiptSchema, required=True)


class SubscriptionsSchema(ResponseSchema):
    subscriptions = fields.List(fields.Nested(SubscriptionViewSchema), required=True)


class SubscriptionTestRequestSchema(StrictSchema):
    """An empty object: the test message's content is the server's."""


class NotificationQueuedSchema(ResponseSchema):
    id = fields.String(required=True)
    status = fields.String(required=True)


class DeliveryAttemptSchema(ResponseSchema):
    attempt = fields.Integer(required=True)
    started_at = fields.String(required=True)
    duration_ms = fields.Integer(required=True)
    outcome = fields.String(required=True)
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)


class NotificationViewSchema(ResponseSchema):
    id = fields.String(required=True)
    subscription_id = fields.String(required=True)
    event = fields.String(required=True)
    case_id = fields.String(allow_none=True)
    status = fields.String(required=True)
    created_at = fields.String(required=True)
    delivered_at = fields.String(allow_none=True)
    next_attempt_at = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    attempts = fields.List(fields.Nested(DeliveryAttemptSchema), required=True)


class NotificationsQuerySchema(StrictSchema):
    limit = QueryInt(min_value=1, max_value=100, load_default=50)
    before = Text(max_length=40)


class NotificationsSchema(ResponseSchema):
    notifications = fields.List(fields.Nested(NotificationViewSchema), required=True)
