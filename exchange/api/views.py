"""Models to response documents. What a caller may see is decided here, field by field."""

import json
from datetime import datetime
from typing import Any

from exchange.services.cases import is_overdue
from exchange.storage.models import Case, Handoff, Official, OfficialKey, Organisation
from schemas.common import format_utc


def _time(moment: datetime | None) -> str | None:
    return format_utc(moment) if moment else None


def case_summary(case: Case, now: datetime) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "issuer_org": case.issuer_org,
        "issuer_official": case.issuer_official,
        "issuer_case_ref": case.issuer_case_ref,
        "platform_org": case.platform_org,
        "category": case.category,
        "priority": case.priority,
        "minor_involved": case.minor_involved,
        "request_type": case.request_type,
        "item_count": case.item_count,
        "state": case.state,
        "outcome": case.outcome,
        "assignee": case.assignee_id,
        "submitted_at": _time(case.submitted_at),
        "ack_due_at": _time(case.ack_due_at),
        "action_due_at": _time(case.action_due_at),
        "acknowledged_at": _time(case.acknowledged_at),
        "responded_at": _time(case.responded_at),
        "withdrawn_at": _time(case.withdrawn_at),
        "closed_at": _time(case.closed_at),
        "updated_at": _time(case.updated_at),
        "overdue": is_overdue(case, now),
        "deadline_policy": (
            {
                "name": case.policy_name,
                "version": case.policy_version,
                "answer_within": case.answer_within_seconds,
            }
            if case.policy_name is not None
            else None
        ),
        "withdrawal_ack_due_at": _time(case.withdrawal_ack_due_at),
        "reopened_due_at": _time(case.reopened_due_at),
    }


def timeline_entry(handoff: Handoff, *, with_jwe: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "handoff_id": handoff.id,
        "kind": handoff.kind,
        "sender": {
            "org": handoff.sender_org,
            "official": handoff.sender_official,
            "kid": handoff.kid,
        },
        "in_reply_to": handoff.in_reply_to,
        "issued_at": _time(handoff.issued_at),
        "received_at": _time(handoff.received_at),
        "state_after": handoff.state_after,
        "log_index": handoff.log_index,
        "statement": handoff.statement,
    }
    # Auditors see what happened, never what was said: no JWE, not even its ciphertext.
    if with_jwe:
        entry["jwe"] = json.loads(handoff.jwe) if handoff.jwe else None
    return entry


def organisation(org: Organisation) -> dict[str, Any]:
    return {"id": org.id, "kind": org.kind, "name": org.name, "active": org.active}


def official(person: Official) -> dict[str, Any]:
    return {
        "id": person.id,
        "org": person.org_id,
        "role": person.role,
        "title": person.title,
        "categories": list(person.categories),
        "languages": list(person.languages),
        "contact": dict(person.contact),
        "enrolled": person.enrolled,
    }


def member(person: Official) -> dict[str, Any]:
    """An official as their organisation's leads see them: with approval and lead status."""
    return {
        **official(person),
        "active": person.active,
        "approved": person.approved,
        "lead": person.lead,
    }


def directory_key(key: OfficialKey, owner: Official) -> dict[str, Any]:
    return {
        **key.jwk,
        "official": owner.id,
        "role": owner.role,
        "status": key.status,
        "registered_log_index": key.registered_log_index,
    }
