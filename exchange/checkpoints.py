"""Signed checkpoints: one per committed batch of appends, each consistent with the last.

Checkpoints are signed inside the writing transaction, after its appends and before its
commit, while the transaction holds the log's write lock: two checkpoints can never
describe diverging trees.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange import logstore
from exchange.checkpoint import Checkpoint as CheckpointText
from exchange.checkpoint import sign_checkpoint
from exchange.errors import LogKeyRetiredError
from exchange.merkle import NodeId
from exchange.models import Checkpoint, LogHead
from exchange.serverkeys import LogSigner

_PENDING = "exchange.log.pending"


@dataclass
class PendingAppends:
    """What this transaction appended so far: where the log started and where it is now."""

    head: LogHead
    start_size: int
    size: int
    signer: LogSigner
    now: datetime
    nodes: dict[NodeId, bytes] = field(default_factory=dict)
    # Set by a log key rotation: the key this transaction hands the log over from.
    handover_from: str | None = None


def pending(session: Session, signer: LogSigner, now: datetime) -> PendingAppends:
    """The transaction's append state, created on its first append from the log head."""
    state: PendingAppends | None = session.info.get(_PENDING)
    if state is None:
        head = session.get(LogHead, 1)
        if head is None:
            raise LookupError("the log head row is missing: run the migrations")
        state = PendingAppends(head, head.size, head.size, signer, now)
        session.info[_PENDING] = state
    return state


def seal_pending(session: Session) -> PendingAppends | None:
    """Advance the head and sign a checkpoint over everything this transaction appended.

    Returns what was sealed, so that its nodes can be remembered once the commit succeeds.
    """
    state: PendingAppends | None = session.info.pop(_PENDING, None)
    if state is None or state.size == state.start_size:
        return None
    if state.head.size != state.start_size:
        raise RuntimeError("the log head moved while this transaction held its lock")
    signer_key = state.signer.verifier_key
    if state.head.key_name not in (None, signer_key, state.handover_from):
        # Another instance rotated the log key: this one must not sign another checkpoint.
        raise LogKeyRetiredError("this instance holds a log key that has been rotated out")
    state.head.key_name = signer_key
    state.head.size = state.size
    root = logstore.root(session, state.size, state.nodes)
    text = CheckpointText(state.signer.name, state.size, root)
    session.add(
        Checkpoint(
            size=state.size,
            root=root,
            note=sign_checkpoint(text, state.signer.name, state.signer.private_key),
            key_name=state.signer.verifier_key,
            signed_at=state.now,
        )
    )
    session.flush()
    return state


def latest(session: Session) -> Checkpoint | None:
    return session.scalars(select(Checkpoint).order_by(Checkpoint.size.desc()).limit(1)).first()


def covering(session: Session, index: int) -> Checkpoint | None:
    """The first checkpoint that includes entry `index`: the one signed when it was added."""
    return session.scalars(
        select(Checkpoint).where(Checkpoint.size > index).order_by(Checkpoint.size).limit(1)
    ).first()


def at_size(session: Session, size: int) -> Checkpoint | None:
    return session.get(Checkpoint, size)
