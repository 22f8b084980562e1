"""`append`: the one way anything enters the log.

The entry is `exchange.protocol.leaf`'s document. `append` runs inside the log's unit of
work (`exchange.log.transaction.write`) and never commits: the state change and its entry
commit together, with the checkpoint that the unit of work signs over them. The entry's
row and its Merkle nodes are written when the batch seals, with the batch's others.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from exchange.log import batch, nodes
from exchange.protocol import directory_commitment, merkle
from exchange.protocol.envelope.canonical import canonical
from exchange.protocol.events import Event
from exchange.protocol.leaf import Actor, entry_document


@dataclass(frozen=True)
class Appended:
    index: int
    leaf_hash: bytes


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
) -> Appended:
    """Append one entry in the current write transaction; the checkpoint follows at commit.

    `actor` is None for the operator's and the server's own events (the sweep); those are
    vouched for by the log's checkpoint signature alone.
    """
    state = batch.pending(session, now)
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
    state.entries.append(
        {
            "index": index,
            "leaf": leaf.decode("utf-8"),
            "event": str(event),
            "case_id": case_id,
            "handoff_id": handoff_id,
            "logged_at": now,
        }
    )
    nodes.add_leaf(session, index, leaf_hash, state.nodes)
    if directory_commitment.is_directory_entry(case_id):
        state.directory_leaves.append(leaf_hash)
    state.size += 1
    return Appended(index, leaf_hash)


__all__ = ["Actor", "Appended", "append"]
