"""Witness cosignatures of the log's checkpoints: what each witness last cosigned, storing a
verified cosignature, and the checkpoint the public API serves with its cosignatures.

The cosignatures are verified by the caller (`exchange.ops.cosigner`) with the witness's key
before they reach `store`; this module trusts nothing it did not get from there.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exchange.protocol.cosignature import Cosignature as VerifiedCosignature
from exchange.storage.models import Checkpoint, Cosignature


@dataclass(frozen=True)
class CosignedCheckpoint:
    size: int
    note: str  # the log-signed note followed by every cosignature line stored for it
    witnesses: Sequence[str]


def last_cosigned_sizes(session: Session) -> dict[str, int]:
    """Per witness (its key name), the largest checkpoint size it has cosigned for us."""
    rows = session.execute(
        select(Cosignature.witness, func.max(Cosignature.size)).group_by(Cosignature.witness)
    )
    return {witness: int(size) for witness, size in rows}


def store(
    session: Session, size: int, cosignature: VerifiedCosignature, received_at: datetime
) -> None:
    """Keep a verified cosignature of checkpoint `size` (a newer one replaces an older
    cosignature of the same checkpoint by the same witness)."""
    row = session.get(Cosignature, (size, cosignature.witness))
    if row is None:
        session.add(
            Cosignature(
                size=size,
                witness=cosignature.witness,
                line=cosignature.line,
                timestamp=cosignature.timestamp,
                received_at=received_at,
            )
        )
    else:
        row.line, row.timestamp, row.received_at = (
            cosignature.line,
            cosignature.timestamp,
            received_at,
        )


def cosigned_checkpoint(session: Session) -> CosignedCheckpoint | None:
    """The newest checkpoint any witness cosigned, with all its cosignatures; without any
    cosignature yet, the newest checkpoint alone. None while the log is empty."""
    size = session.scalar(select(func.max(Cosignature.size)))
    if size is None:
        size = session.scalar(select(func.max(Checkpoint.size)))
        if size is None:
            return None
    checkpoint = session.get(Checkpoint, size)
    if checkpoint is None:
        return None
    rows = session.scalars(
        select(Cosignature).where(Cosignature.size == size).order_by(Cosignature.witness)
    ).all()
    return CosignedCheckpoint(
        size, checkpoint.note + "".join(row.line for row in rows), [row.witness for row in rows]
    )
