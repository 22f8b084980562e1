"""The enumerated names of log events. Every state change is one of these, on record."""

from enum import StrEnum

from schemas.enums import Kind


class Event(StrEnum):
    # One per handoff kind: the event is the accepted, signed statement itself.
    CASE = Kind.CASE.value
    RECEIPT = Kind.RECEIPT.value
    RESPONSE = Kind.RESPONSE.value
    QUESTION = Kind.QUESTION.value
    SUPPLEMENT = Kind.SUPPLEMENT.value
    WITHDRAWAL = Kind.WITHDRAWAL.value
    CLOSURE = Kind.CLOSURE.value
    ASSIGNMENT = Kind.ASSIGNMENT.value
    # Reads are on record too: who fetched which handoff, when.
    DELIVERED = "delivered"
    # The directory, so the log itself says which key was valid for whom at every index.
    ORGANISATION_CREATED = "organisation_created"
    OFFICIAL_INVITED = "official_invited"
    OFFICIAL_ENROLLED = "official_enrolled"
    OFFICIAL_DEACTIVATED = "official_deactivated"
    KEY_ROTATED = "key_rotated"
    KEY_REVOKED = "key_revoked"
    ROUTING_CHANGED = "routing_changed"
    # Membership: signed by a current lead of the organisation (the bootstrap by the operator).
    LEAD_BOOTSTRAPPED = "lead_bootstrapped"
    MEMBER_INVITED = "member_invited"
    MEMBER_APPROVED = "member_approved"
    MEMBER_REMOVED = "member_removed"
    ROUTING_SIGNED = "routing_signed"
    # Replacing all leads: the operator starts it, a lead may object, it ends after the wait.
    LEAD_REPLACEMENT_STARTED = "lead_replacement_started"
    LEAD_REPLACEMENT_OBJECTED = "lead_replacement_objected"
    LEAD_REPLACEMENT_COMPLETED = "lead_replacement_completed"
    # Lateness as a fact, not a query over mutable rows.
    DEADLINE_BREACHED = "deadline_breached"
    # The operator put a deadline policy version in force (or retired it), for new cases.
    DEADLINE_POLICY_CHANGED = "deadline_policy_changed"
    # The log's own checkpoint key changed (old checkpoints stay verifiable).
    LOG_KEY_ROTATED = "log_key_rotated"
    # An official registered or removed a notification target (a signed statement).
    SUBSCRIPTION_ADDED = "subscription_added"
    SUBSCRIPTION_REMOVED = "subscription_removed"


HANDOFF_EVENTS = frozenset(Event(kind.value) for kind in Kind)
# Events that register or retire an official's keys: the auditor replays them.
KEY_EVENTS = frozenset({Event.OFFICIAL_ENROLLED, Event.KEY_ROTATED, Event.KEY_REVOKED})
# Membership statements signed by a lead: the auditor and `hotline monitor` replay them.
MEMBERSHIP_EVENTS = frozenset(
    {Event.MEMBER_INVITED, Event.MEMBER_APPROVED, Event.MEMBER_REMOVED, Event.ROUTING_SIGNED}
)
