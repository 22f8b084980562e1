"""SQLAlchemy models. Alembic migrations (exchange/storage/migrations) are the only way the schema
is created or changed; these classes describe it."""

from exchange.storage.models.auth import UsedAssertion
from exchange.storage.models.base import Base, table
from exchange.storage.models.cases import (
    Case,
    DeadlineBreach,
    Delivery,
    Handoff,
    InboxHead,
    InboxItem,
    Question,
)
from exchange.storage.models.directory import (
    DirectoryVersion,
    EnrollmentCode,
    LeadReplacement,
    MembershipStatement,
    Official,
    OfficialKey,
    Organisation,
    Route,
)
from exchange.storage.models.log import (
    APPEND_ONLY_TABLES,
    Checkpoint,
    Cosignature,
    LogEntry,
    LogHead,
    LogNode,
)
from exchange.storage.models.notifications import DeliveryAttempt, Notification, Subscription
from exchange.storage.models.policies import DeadlinePolicyVersion

__all__ = [
    "APPEND_ONLY_TABLES",
    "Base",
    "Case",
    "Checkpoint",
    "Cosignature",
    "DeadlineBreach",
    "DeadlinePolicyVersion",
    "Delivery",
    "DeliveryAttempt",
    "DirectoryVersion",
    "EnrollmentCode",
    "Handoff",
    "InboxHead",
    "InboxItem",
    "LeadReplacement",
    "LogEntry",
    "LogHead",
    "LogNode",
    "MembershipStatement",
    "Notification",
    "Official",
    "OfficialKey",
    "Organisation",
    "Question",
    "Route",
    "Subscription",
    "UsedAssertion",
    "table",
]
