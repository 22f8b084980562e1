"""Reading the log: checkpoints, entries, proofs, and the receipt of an accepted handoff."""

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.errors import NotFoundError, UnprocessableError
from exchange.log import nodes, transaction
from exchange.protocol import merkle, tiles
from exchange.protocol.events import Event
from exchange.services.caller import Caller
from exchange.services.visibility import case_filter
from exchange.storage.models import Case, Checkpoint, LogEntry
from keys.b64 import b64_encode


def latest_checkpoint(session: Session) -> Checkpoint | None:
    return session.scalars(select(Checkpoint).order_by(Checkpoint.size.desc()).limit(1)).first()


def covering_checkpoint(session: Session, index: int) -> Checkpoint | None:
    """The first checkpoint that includes entry `index`: the one signed when it was added."""
    return session.scalars(
        select(Checkpoint).where(Checkpoint.size > index).order_by(Checkpoint.size).limit(1)
    ).first()


def next_step(session: Session, start: int, most: int, end: int) -> Checkpoint | None:
    """The checkpoint that ends a verification step from `start`: the largest of at most
    `start + most` entries (and at most `end`), else the first beyond `start` (one write
    transaction may have appended more than `most`)."""
    within = session.scalars(
        select(Checkpoint)
        .where(Checkpoint.size > start, Checkpoint.size <= min(start + most, end))
        .order_by(Checkpoint.size.desc())
        .limit(1)
    ).first()
    if within is not None:
        return within
    return session.scalars(
        select(Checkpoint).where(Checkpoint.size > start).order_by(Checkpoint.size).limit(1)
    ).first()


def checkpoint_at(session: Session, size: int) -> Checkpoint | None:
    return session.get(Checkpoint, size)


@dataclass(frozen=True)
class LogReceipt:
    """What a sender keeps: its entry, a checkpoint that includes it, and the proof."""

    index: int
    leaf_hash: bytes
    tree_size: int
    checkpoint: str
    inclusion_proof: Sequence[bytes]

    def to_json(self) -> dict[str, object]:
        return {
            "index": self.index,
            "leaf_hash": b64_encode(self.leaf_hash),
            "tree_size": self.tree_size,
            "checkpoint": self.checkpoint,
            "inclusion_proof": [b64_encode(node) for node in self.inclusion_proof],
        }


def leaf_hash(entry: LogEntry) -> bytes:
    return merkle.leaf_hash(entry.leaf.encode("utf-8"))


def key_handovers(session: Session) -> list[tuple[int, str]]:
    """Every handover of the log key, in log order: (entry index, the signed note)."""
    rows = session.scalars(
        select(LogEntry)
        .where(LogEntry.event == str(Event.LOG_KEY_ROTATED))
        .order_by(LogEntry.index)
    )
    return [(row.index, json.loads(row.leaf)["details"]["handover"]) for row in rows]


def current_checkpoint(session: Session) -> Checkpoint:
    latest = latest_checkpoint(session)
    if latest is None:
        raise NotFoundError("the log is empty: no checkpoint yet")
    return latest


def receipt(session: Session, index: int) -> LogReceipt:
    """The receipt of entry `index` against the checkpoint signed when it was appended.

    Deterministic, so an idempotent re-post gets the same bytes as the first answer.
    """
    covering = covering_checkpoint(session, index)
    entry = session.get(LogEntry, index)
    if covering is None or entry is None:
        raise NotFoundError(f"no log entry {index}")
    return LogReceipt(
        index,
        leaf_hash(entry),
        covering.size,
        covering.note,
        nodes.inclusion_proof(session, index, covering.size),
    )


def sealed_receipt(session: Session, index: int) -> LogReceipt:
    """The receipt of entry `index`, from inside the write transaction that appended it.

    Seals the transaction's checkpoint early (`exchange.log.transaction.seal`): the
    checkpoint and the new Merkle nodes (the entry's leaf among them) are this
    transaction's own, so the receipt needs no transaction of its own and is committed
    with the change it proves. Where
    the transaction appended nothing (an identical re-post), the log is read as it is.
    """
    batch = transaction.seal(session) or transaction.sealed_so_far(session)
    if batch is None or batch.checkpoint is None or not batch.start_size <= index < batch.size:
        return receipt(session, index)
    plan = merkle.inclusion_plan(index, batch.size)
    proof = merkle.assemble(plan, nodes.fetch_nodes(session, merkle.plan_nodes(plan), batch.nodes))
    # The entry's leaf is the level-0 node the append stored.
    leaf = batch.nodes[(0, index)]
    return LogReceipt(index, leaf, batch.size, batch.checkpoint.note, proof)


def _tree_size(session: Session) -> int:
    latest = latest_checkpoint(session)
    return latest.size if latest else 0


def entries(session: Session, start: int, end: int, max_page: int) -> Sequence[LogEntry]:
    """Entries [start, end) of the checkpointed log, at most `max_page`: the server's view."""
    if start < 0 or end <= start:
        raise UnprocessableError("need 0 <= start < end")
    end = min(end, start + max_page, _tree_size(session))
    return session.scalars(
        select(LogEntry)
        .where(LogEntry.index >= start, LogEntry.index < end)
        .order_by(LogEntry.index)
    ).all()


def entries_for(
    session: Session, caller: Caller, start: int, end: int, max_page: int
) -> list[tuple[LogEntry, bool]]:
    """Entries [start, end) of the checkpointed log, at most `max_page`, each with whether
    the caller may read it.

    Auditors read everything. Officials read the directory's entries (organisations,
    officials, keys: what they must check before encrypting) and those of cases they may
    see; of the others they get only the leaf hash, enough to check the tree, nothing about
    whose case it is.
    """
    rows = entries(session, start, end, max_page)
    if caller.is_auditor:
        return [(row, True) for row in rows]
    case_ids = {row.case_id for row in rows if row.case_id}
    visible = set(
        session.scalars(select(Case.id).where(Case.id.in_(case_ids), case_filter(caller)))
    )
    return [(row, row.case_id is None or row.case_id in visible) for row in rows]


def directory_entries(
    session: Session, start: int, end: int, max_page: int
) -> tuple[int, Sequence[LogEntry]]:
    """The directory's entries at positions [start, end) of its tree, at most `max_page`.

    Positions count the checkpointed log's entries about no case, in log order
    (`exchange.protocol.directory_commitment`); returns the tree size they are cut at too.
    """
    if start < 0 or end <= start:
        raise UnprocessableError("need 0 <= start < end")
    size = _tree_size(session)
    rows = session.scalars(
        select(LogEntry)
        .where(LogEntry.case_id.is_(None), LogEntry.index < size)
        .order_by(LogEntry.index)
        .offset(start)
        .limit(min(end - start, max_page))
    ).all()
    return size, rows


def inclusion(session: Session, index: int, tree_size: int) -> tuple[bytes, list[bytes]]:
    if tree_size > _tree_size(session) or checkpoint_at(session, tree_size) is None:
        raise NotFoundError(f"no checkpoint of size {tree_size}")
    if not 0 <= index < tree_size:
        raise UnprocessableError(f"index must be in 0..{tree_size - 1}")
    entry = session.get(LogEntry, index)
    if entry is None:
        raise NotFoundError(f"no log entry {index}")
    return leaf_hash(entry), nodes.inclusion_proof(session, index, tree_size)


def consistency(session: Session, old: int, new: int) -> list[bytes]:
    size = _tree_size(session)
    if not 0 < old <= new <= size:
        raise UnprocessableError(f"need 0 < old <= new <= {size}")
    for each in (old, new):
        if checkpoint_at(session, each) is None:
            raise NotFoundError(f"no checkpoint of size {each}")
    return nodes.consistency_proof(session, old, new)


def tile_hashes(session: Session, tile: tiles.Tile) -> bytes:
    """The bytes of a C2SP tlog-tiles hash tile of the checkpointed tree: its hashes, in order.

    A tile is served only if the newest checkpoint covers all of it, so a partial tile of
    width W is the same bytes forever, like a full one.
    """
    if not tile.fits(_tree_size(session)):
        raise NotFoundError(f"no {tile.path()} in the checkpointed tree")
    return b"".join(nodes.level_hashes(session, tile.node_level, tile.first_node, tile.width))
