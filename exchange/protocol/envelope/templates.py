"""Example records, one per kind: a starting point for users and the protocol docs.

Ids and timestamps are fresh on every call, a response's too (an action taken now, evidence
kept 180 days: a response dated before its case is refused); `sender.kid` is left out
because the key that will sign is not known here (`hotline envelope seal` fills it in).
"""

import copy
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.common import format_utc
from schemas.enums import SIGNED_ONLY_KINDS, Kind

EXAMPLE_AGENCY = "example-agency"
EXAMPLE_PLATFORM = "example-platform"

_BODIES: dict[Kind, dict[str, Any]] = {
    Kind.CASE: {
        "issuer_case_ref": "EX/2026/0001",
        "request_type": "removal_order",
        "category": "sexual_deepfake",
        "keywords": ["deepfake"],
        "minor_involved": "no",
        "priority": "urgent",
        "escalation_reason": "The person depicted is being extorted with the video.",
        "legal_basis": [
            {
                "jurisdiction": "EU",
                "instrument": "Regulation (EU) 2022/2065 (Digital Services Act)",
                "article": "Art. 9",
            }
        ],
        "statement_of_reasons": "A fabricated sexual video of an identifiable adult, "
        "published without consent.",
        "territorial_scope": ["EU"],
        "redress_info": "The provider may challenge this order within one month of receipt.",
        "language": "en",
        "on_behalf_of": {"type": "victim", "victim_ref": "V-2026-0001"},
        "contact": {"title": "Duty desk", "email": "duty@agency.example"},
        "items": [
            {
                "item_id": "item-1",
                "locators": [
                    {"type": "url", "value": "https://platform.example/v/abc123"},
                    {"type": "channel", "value": "platform.example/@uploader"},
                ],
                "requested_actions": ["remove", "preserve"],
                "hashes": [
                    {"algo": "sha256", "value": hashlib.sha256(b"example video").hexdigest()}
                ],
                "content_type": "video",
                "annotations": ["generative_ai"],
                "first_seen_at": "2026-01-01T00:00:00Z",
                "publicly_available": True,
            }
        ],
    },
    Kind.RESPONSE: {
        "outcome": "actioned",
        "actions_taken": [
            {
                "item_id": "item-1",
                "action": "remove",
                "at": "2026-01-01T02:00:00Z",
                "territorial_scope": None,
            }
        ],
        "automated_detection": False,
        "preservation": {"preserved": True, "until": "2026-07-01T00:00:00Z"},
    },
    Kind.QUESTION: {"questions": ["Which account uploaded the video first?"]},
    Kind.SUPPLEMENT: {"text": "The first upload was by @uploader on 1 January."},
    Kind.WITHDRAWAL: {"reason": "resolved_elsewhere"},
    Kind.CLOSURE: {"reason": "completed"},
}

_META: dict[Kind, dict[str, Any]] = {
    Kind.RECEIPT: {
        "handoff_id": "00000000-0000-4000-8000-000000000000",
        "record_sha256": "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
        "received_at": "2026-01-01T00:00:00Z",
    },
    Kind.ASSIGNMENT: {"assignee": "platform-official"},
}

# Who writes each kind: the agency or the platform.
_FROM_PLATFORM = {Kind.RECEIPT, Kind.RESPONSE, Kind.QUESTION, Kind.ASSIGNMENT}


def template(kind: Kind) -> dict[str, Any]:
    """A valid example of `kind`: a record for sealed kinds, statement fields otherwise."""
    from_platform = kind in _FROM_PLATFORM
    org, counterpart = (
        (EXAMPLE_PLATFORM, EXAMPLE_AGENCY) if from_platform else (EXAMPLE_AGENCY, EXAMPLE_PLATFORM)
    )
    now = datetime.now(UTC).replace(microsecond=0)
    document: dict[str, Any] = {
        "handoff_id": str(uuid.uuid4()),
        "case_id": str(uuid.uuid4()),
        "kind": str(kind),
        "issued_at": format_utc(now),
        "sender": {"org": org, "official": f"{org}-official"},
        "to": [EXAMPLE_PLATFORM if kind == Kind.ASSIGNMENT else counterpart],
        "in_reply_to": None if kind == Kind.CASE else "00000000-0000-4000-8000-000000000000",
    }
    if kind in SIGNED_ONLY_KINDS:
        document["meta"] = copy.deepcopy(_META[kind])
        if kind == Kind.RECEIPT:
            document["meta"]["received_at"] = document["issued_at"]
    else:
        document["body"] = _fresh_times(kind, copy.deepcopy(_BODIES[kind]), now)
    return document


def _fresh_times(kind: Kind, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    if kind == Kind.RESPONSE:
        for action in body["actions_taken"]:
            action["at"] = format_utc(now)
        body["preservation"]["until"] = format_utc(now + timedelta(days=180))
    return body
