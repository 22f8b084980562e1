"""Closed vocabularies of the wire format.

Every value is part of the signed format: adding one is a format change, renaming one
breaks every stored statement. Schemas load these as plain strings (never as enum
members) so that loaded documents stay plain JSON for RFC 8785 canonicalisation.
"""

from enum import StrEnum


class Kind(StrEnum):
    """What a handoff is. Sealed kinds carry an encrypted record; the others are signed only."""

    CASE = "case"
    RECEIPT = "receipt"
    RESPONSE = "response"
    QUESTION = "question"
    SUPPLEMENT = "supplement"
    WITHDRAWAL = "withdrawal"
    CLOSURE = "closure"
    ASSIGNMENT = "assignment"


SEALED_KINDS: frozenset[Kind] = frozenset(
    {
        Kind.CASE,
        Kind.RESPONSE,
        Kind.QUESTION,
        Kind.SUPPLEMENT,
        Kind.WITHDRAWAL,
        Kind.CLOSURE,
    }
)
# Receipts and assignments say nothing sensitive: their whole content is the clear meta.
SIGNED_ONLY_KINDS: frozenset[Kind] = frozenset({Kind.RECEIPT, Kind.ASSIGNMENT})


class RequestType(StrEnum):
    """The legal nature of the request (DSA Art. 9 order, Art. 16 notice, ...)."""

    REMOVAL_ORDER = "removal_order"
    NOTICE = "notice"
    REFERRAL = "referral"
    PRESERVATION_REQUEST = "preservation_request"
    INFO_REQUEST = "info_request"


class Category(StrEnum):
    CSAM = "csam"
    NCII = "ncii"
    SEXUAL_DEEPFAKE = "sexual_deepfake"
    SEXTORTION = "sextortion"
    GROOMING = "grooming"
    ILLEGAL_FILMING = "illegal_filming"
    DRUGS = "drugs"
    FRAUD = "fraud"
    TERRORISM = "terrorism"
    OTHER = "other"


class MinorInvolved(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"


class OnBehalfOf(StrEnum):
    VICTIM = "victim"
    AGENCY = "agency"
    COURT = "court"


class LocatorType(StrEnum):
    URL = "url"
    PLATFORM_ITEM_ID = "platform_item_id"
    ACCOUNT = "account"
    CHANNEL = "channel"
    MESSAGE = "message"


class Action(StrEnum):
    REMOVE = "remove"
    DISABLE_ACCESS = "disable_access"
    GEO_RESTRICT = "geo_restrict"
    PRESERVE = "preserve"
    SUSPEND_ACCOUNT = "suspend_account"
    HASH_BLOCK = "hash_block"
    LABEL = "label"
    DISCLOSE_INFO = "disclose_info"


class HashAlgo(StrEnum):
    """Hash families used by hash-sharing programmes (StopNCII, NCMEC, GIFCT)."""

    SHA256 = "sha256"
    MD5 = "md5"
    PDQ = "pdq"
    PHOTODNA = "photodna"
    TMK_PDQF = "tmk_pdqf"
    VPDQ = "vpdq"


class ContentType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    TEXT = "text"
    LIVE_STREAM = "live_stream"
    ACCOUNT = "account"
    CHANNEL = "channel"
    LINK = "link"
    OTHER = "other"


class Annotation(StrEnum):
    GENERATIVE_AI = "generative_ai"
    VIRAL = "viral"
    LIVE_STREAM = "live_stream"
    RECURRING = "recurring"
    KNOWN_HASH_MATCH = "known_hash_match"
    COMMERCIAL = "commercial"
    CROSS_PLATFORM = "cross_platform"


class Outcome(StrEnum):
    ACTIONED = "actioned"
    PARTIALLY_ACTIONED = "partially_actioned"
    NOT_ACTIONED = "not_actioned"
    UNABLE_TO_LOCATE = "unable_to_locate"
    ALREADY_UNAVAILABLE = "already_unavailable"
    REJECTED_INVALID = "rejected_invalid"
    REFERRED_TO_REGULATOR = "referred_to_regulator"
    # Interim answers: the platform is working on it. They stop no deadline.
    RECEIVED = "received"
    UNDER_LEGAL_REVIEW = "under_legal_review"
    NEEDS_INFORMATION = "needs_information"


INTERIM_OUTCOMES: frozenset[Outcome] = frozenset(
    {Outcome.RECEIVED, Outcome.UNDER_LEGAL_REVIEW, Outcome.NEEDS_INFORMATION}
)
FINAL_OUTCOMES: frozenset[Outcome] = frozenset(Outcome) - INTERIM_OUTCOMES


class ItemOutcome(StrEnum):
    """What became of one item of a case, in a final response."""

    ACTIONED = "actioned"
    NOT_ACTIONED = "not_actioned"
    UNABLE_TO_LOCATE = "unable_to_locate"
    ALREADY_UNAVAILABLE = "already_unavailable"


class ReasonCode(StrEnum):
    NOT_ILLEGAL_IN_JURISDICTION = "not_illegal_in_jurisdiction"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    CONTENT_NOT_FOUND = "content_not_found"
    ALREADY_REMOVED = "already_removed"
    OUTSIDE_TERRITORIAL_SCOPE = "outside_territorial_scope"
    LEGAL_BASIS_INVALID = "legal_basis_invalid"
    DISPROPORTIONATE_REQUEST = "disproportionate_request"
    TECHNICAL_IMPOSSIBILITY = "technical_impossibility"
    PENDING_LEGAL_REVIEW = "pending_legal_review"
    REFERRED_TO_REGULATOR = "referred_to_regulator"
    OTHER = "other"


class WithdrawalReason(StrEnum):
    RESOLVED_ELSEWHERE = "resolved_elsewhere"
    ISSUED_IN_ERROR = "issued_in_error"
    LEGAL_BASIS_LAPSED = "legal_basis_lapsed"
    VICTIM_REQUEST = "victim_request"
    COURT_ORDER = "court_order"
    OTHER = "other"


class ClosureReason(StrEnum):
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    NO_RESPONSE = "no_response"
    DUPLICATE = "duplicate"
    OTHER = "other"


class OrgKind(StrEnum):
    AGENCY = "agency"
    PLATFORM = "platform"
    AUDITOR = "auditor"


class Role(StrEnum):
    AGENCY_OFFICER = "agency_officer"
    PLATFORM_OFFICIAL = "platform_official"
    PLATFORM_LEAD = "platform_lead"
    AUDITOR = "auditor"


class KeyUse(StrEnum):
    """What an official's key is for (the JWK `use`)."""

    SIG = "sig"
    ENC = "enc"


class KeyStatus(StrEnum):
    """Where a registered key is in its life. Keys are never deleted."""

    ACTIVE = "active"
    # Replaced by a rotation: verifies what it signed while active, does nothing new.
    RETIRED = "retired"
    # Withdrawn by its owner or the operator: trusted for nothing from then on.
    REVOKED = "revoked"
