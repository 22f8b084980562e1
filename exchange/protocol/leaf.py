"""A log leaf: the entry document every auditor reads, as RFC 8785 canonical JSON.

An entry is `{index, logged_at, event, case_id, handoff_id, actor, statement, jwe_sha256,
details}`; its leaf hash is RFC 9162's SHA-256(0x00 ‖ entry). Everything an auditor must
trust, timestamps included, is inside the leaf. Pure: the server writes leaves with it,
and tests build the leaves a dishonest server could write.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from exchange.protocol.events import Event
from schemas.common import format_utc


@dataclass(frozen=True)
class Actor:
    """Who made the change: an official and the key that authenticated or signed it."""

    org: str
    official: str
    kid: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"org": self.org, "official": self.official, "kid": self.kid}


def entry_document(
    index: int,
    logged_at: datetime,
    event: Event,
    *,
    actor: Actor | None,
    case_id: str | None,
    handoff_id: str | None,
    statement: str | None,
    jwe_sha256: str | None,
    details: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "index": index,
        "logged_at": format_utc(logged_at),
        "event": str(event),
        "case_id": case_id,
        "handoff_id": handoff_id,
        "actor": actor.to_json() if actor else None,
        "statement": statement,
        "jwe_sha256": jwe_sha256,
        "details": dict(details),
    }
