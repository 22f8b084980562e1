"""`append`: the one way anything enters the log.

An entry is the RFC 8785 canonical JSON of
`{index, logged_at, event, case_id, handoff_id, actor, statement, jwe_sha256, details}`;
its leaf hash is RFC 9162's SHA-256(0x00 ‖ entry). Everything an auditor must trust,
timestamps included, is inside the leaf. `append` runs inside the caller's write
transaction and never commits: the state change and its entry commit together.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import has_app_context
from sqlalchemy.orm import Session

from exchange import checkpoints, logstore, merkle
from exchange.envelope.canonical import canonical
from exchange.events import Event
from exchange.models import LogEntry
from exchange.serverkeys import LogSigner, server_keys
from schemas.common import format_utc


@dataclass(frozen=True)
class Actor:
    """Who made the change: an official and the key that authenticated or signed it."""

    org: str
    official: str
    kid: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"org": self.org, "official": self.official, "kid": self.kid}


@dataclass(frozen=True)
class Appended:
    index: int
    leaf_hash: bytes


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


def append(
    session: Session,
    event: Event,
    now: datetime,
    *,
    actor: Actor | None = None,
    case_id: str | None = None,
    handoff_id: str | None = None,
    statement: str | None = None,
    jwe_sha256: str | None = None,
    details: Mapping[str, Any] | None = None,
    signer: LogSigner | None = None,
) -> Appended:
    """Append one entry in the current write transaction; the checkpoint follows at commit.

    `actor` is None for the operator's and the server's own events (the sweep); those are
    vouched for by the log's checkpoint signature alone.
    """
    if signer is None:
        if not has_app_context():
            raise RuntimeError("append outside an app needs the log signer passed in")
        signer = server_keys().log
    state = checkpoints.pending(session, signer, now)
    index = state.size
    leaf = canonical(
        entry_document(
            index,
            now,
            event,
            actor=actor,
            case_id=case_id,
            handoff_id=handoff_id,
            statement=statement,
            jwe_sha256=jwe_sha256,
            details=details or {},
        )
    )
    leaf_hash = merkle.leaf_hash(leaf)
    session.add(
        LogEntry(
            index=index,
            leaf=leaf.decode("utf-8"),
            event=str(event),
            case_id=case_id,
            handoff_id=handoff_id,
            logged_at=now,
        )
    )
    logstore.store_leaf(session, index, leaf_hash, state.nodes)
    state.size += 1
    return Appended(index, leaf_hash)


__all__ = ["Actor", "Appended", "append", "entry_document"]
