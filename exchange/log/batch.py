"""The appends of one write transaction, and the signed checkpoint that closes them.

A batch is opened by the log's unit of work (`exchange.log.transaction`) with the key that
will sign its checkpoint. Appends extend it; at the end of the transaction, before its
commit and while it holds the log's write lock, `seal` advances the log head and signs
one checkpoint over everything appended: two checkpoints can never describe diverging
trees, and a checkpoint is never committed without its entries, nor entries without it.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from exchange.errors import LogKeyRetiredError
from exchange.log import nodes
from exchange.log.keyring import LogSigner
from exchange.protocol import directory_commitment, merkle
from exchange.protocol.checkpoint import Checkpoint as CheckpointText
from exchange.protocol.checkpoint import sign_checkpoint_with
from exchange.protocol.merkle import NodeId
from exchange.storage import database
from exchange.storage.models import Checkpoint, LogEntry, LogHead, table

_BATCH = "exchange.log.batch"
_SEALED = "exchange.log.batch.sealed"
_DIRECTORIES = "exchange.log.batch.directories"
# Built once: every write transaction runs them under the log's write lock.
_NEW_ENTRIES: Final = insert(table(LogEntry))
_NEW_CHECKPOINT: Final = insert(table(Checkpoint))
_HEAD_ROW: Final = 1
_HEADS: Final = table(LogHead)
_CHECKPOINTS: Final = table(Checkpoint)
# The head, with the note of the checkpoint it stands at: a batch carries that note's
# directory line over, and with several processes writing in turn, the last checkpoint
# was often another process's (not in this one's `CommittedDirectories`).
_READ_HEAD: Final = (
    select(_HEADS.c.size, _HEADS.c.key_name, _CHECKPOINTS.c.note)
    .outerjoin(_CHECKPOINTS, _CHECKPOINTS.c.size == _HEADS.c.size)
    .where(_HEADS.c.id == _HEAD_ROW)
)
_LOCK_HEAD: Final = _READ_HEAD.with_for_update(of=_HEADS)
# Moves the head only from where this batch found it: a head that moved under the
# transaction's lock is a bug, and is refused rather than overwritten.
_MOVE_HEAD: Final = (
    update(_HEADS)
    .where(_HEADS.c.id == _HEAD_ROW, _HEADS.c.size == bindparam("start_size"))
    .values(size=bindparam("new_size"), key_name=bindparam("signer_key"))
)


@dataclass(frozen=True)
class Head:
    """The log head row as the batch found it: its size, the key that signed it last, and
    the signed note of its checkpoint (None while the log is empty)."""

    size: int
    key_name: str | None
    note: str | None = None


@dataclass
class Batch:
    """What this transaction appended so far: where the log started and where it is now."""

    signer: LogSigner
    # Set by a log key rotation: the key this transaction hands the log over from.
    handover_from: str | None = None
    # The head row, if the transaction locked it on opening (PostgreSQL): not read again.
    locked_head: Head | None = None
    head: Head | None = None
    start_size: int = 0
    size: int = 0
    now: datetime | None = None
    # The Merkle nodes and entry rows appended so far: written when the batch seals.
    nodes: dict[NodeId, bytes] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    # Leaf hashes of the entries this transaction appended that are about no case.
    directory_leaves: list[bytes] = field(default_factory=list)
    # The checkpoint `seal` signed over this batch, and the directory tree it commits to.
    checkpoint: Checkpoint | None = None
    directory: directory_commitment.DirectoryCommitment | None = None


def open_batch(
    session: Session,
    signer: LogSigner,
    handover_from: str | None = None,
    locked_head: Head | None = None,
) -> None:
    """Let this transaction append to the log; `seal` signs its checkpoint with `signer`."""
    if _BATCH in session.info:
        raise RuntimeError("this transaction already appends to the log")
    session.info[_BATCH] = Batch(signer, handover_from, locked_head)


def pending(session: Session, now: datetime) -> Batch:
    """The transaction's batch, reading the log head on its first append."""
    batch: Batch | None = session.info.get(_BATCH)
    if batch is None:
        raise RuntimeError("the log is appended to only inside exchange.log.transaction.write")
    if batch.head is None:
        # The head is no other write's business: reading it need not flush them first, and
        # they are flushed together later.
        with session.no_autoflush:
            head = batch.locked_head or read_head(session)
        batch.head, batch.start_size, batch.size, batch.now = head, head.size, head.size, now
    return batch


@dataclass(frozen=True)
class Mark:
    """Where a batch stood before one unit of a group commit (`exchange.log.group_commit`)."""

    appended: bool
    size: int
    nodes: frozenset[NodeId]
    entries: int
    directory_leaves: int


def mark(session: Session) -> Mark:
    batch = _open(session)
    return Mark(
        batch.head is not None,
        batch.size,
        frozenset(batch.nodes),
        len(batch.entries),
        len(batch.directory_leaves),
    )


def rewind(session: Session, to: Mark) -> None:
    """Forget the appends made since `to`, whose savepoint was rolled back."""
    batch = _open(session)
    if not to.appended:
        batch.head, batch.now = None, None
    batch.size = to.size
    for node in set(batch.nodes) - to.nodes:
        del batch.nodes[node]
    del batch.entries[to.entries :]
    del batch.directory_leaves[to.directory_leaves :]


def _open(session: Session) -> Batch:
    batch: Batch | None = session.info.get(_BATCH)
    if batch is None:
        raise RuntimeError("no log batch is open in this transaction")
    return batch


def sealed_so_far(session: Session) -> Batch | None:
    """What `seal` sealed in this transaction, still inside it (None if nothing yet)."""
    batch: Batch | None = session.info.get(_SEALED)
    return batch


def sealed(session: Session) -> Batch | None:
    """What `seal` sealed in this transaction, if anything: its nodes are remembered once
    the commit succeeds."""
    batch: Batch | None = session.info.pop(_SEALED, None)
    return batch


def seal(session: Session) -> Batch | None:
    """Advance the head and sign a checkpoint over everything this transaction appended.

    Closes the batch: nothing more is appended in this transaction, and sealing again is a
    no-op (None). Returns what was sealed, as `sealed` does later.
    """
    batch: Batch | None = session.info.pop(_BATCH, None)
    if batch is None or batch.head is None or batch.now is None:
        return None
    if batch.size == batch.start_size:
        return None
    signer_key = batch.signer.verifier_key
    if batch.head.key_name not in (None, signer_key, batch.handover_from):
        # Another instance rotated the log key: this one must not sign another checkpoint.
        raise LogKeyRetiredError("this instance holds a log key that has been rotated out")
    moved = session.execute(
        _MOVE_HEAD,
        {"start_size": batch.start_size, "new_size": batch.size, "signer_key": signer_key},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise RuntimeError("the log head moved while this transaction held its lock")
    session.execute(_NEW_ENTRIES, batch.entries)
    nodes.write_new(session, batch.nodes)
    root = nodes.root(session, batch.size, batch.nodes)
    # Reads committed rows only: flushing this transaction's writes early would reorder them.
    with session.no_autoflush:
        directory = batch.directory = _directory(session, batch)
    text = CheckpointText(batch.signer.name, batch.size, root, (directory.line(),))
    row = {
        "size": batch.size,
        "root": root,
        "note": sign_checkpoint_with(text, batch.signer.note_signer),
        "key_name": signer_key,
        "signed_at": batch.now,
    }
    # Inserted as a row, not through the unit of work (an append-only row needs no
    # identity); the object only carries it to the receipts.
    session.execute(_NEW_CHECKPOINT, [row])
    batch.checkpoint = Checkpoint(**row)
    session.flush()
    session.info[_SEALED] = batch
    return batch


def read_head(session: Session, *, lock: bool = False) -> Head:
    """The log head row (locked until the transaction ends, with `lock`, on PostgreSQL)."""
    row = session.execute(_LOCK_HEAD if lock else _READ_HEAD).first()
    if row is None:
        raise LookupError("the log head row is missing: run the migrations")
    return Head(row.size, row.key_name, row.note)


def _directory(session: Session, batch: Batch) -> directory_commitment.DirectoryCommitment:
    """The directory tree after this batch (`exchange.protocol.directory_commitment`).

    Most transactions append case entries only: the previous checkpoint's line carries
    over. Directory changes are rare and the directory small, so its root is then
    recomputed from its leaves rather than kept as a second node store.
    """
    carried = committed_directories(session).get(batch.start_size)
    if carried is None:
        note = batch.head.note if batch.head is not None else None
        if batch.start_size and note is None:
            raise LookupError(f"the checkpoint of the log head ({batch.start_size}) is missing")
        carried = (
            directory_commitment.of_checkpoint(CheckpointText.parse(_body(note)))
            if note is not None
            else directory_commitment.DirectoryCommitment(0, merkle.root([]))
        )
    if carried is not None and not batch.directory_leaves:
        return carried
    leaves = [
        merkle.leaf_hash(leaf.encode("utf-8"))
        for leaf in session.scalars(
            select(LogEntry.leaf)
            .where(LogEntry.case_id.is_(None), LogEntry.index < batch.start_size)
            .order_by(LogEntry.index)
        )
    ]
    leaves += batch.directory_leaves
    return directory_commitment.DirectoryCommitment(len(leaves), merkle.root(leaves))


class CommittedDirectories:
    """The directory line of the newest committed checkpoints this process has seen, by
    log size: a checkpoint never changes, so the next batch need not read it back."""

    def __init__(self, capacity: int = 8) -> None:
        self.capacity = capacity
        self._lines: OrderedDict[int, directory_commitment.DirectoryCommitment] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, size: int) -> directory_commitment.DirectoryCommitment | None:
        with self._lock:
            return self._lines.get(size)

    def remember(self, size: int, line: directory_commitment.DirectoryCommitment) -> None:
        with self._lock:
            self._lines[size] = line
            while len(self._lines) > self.capacity:
                self._lines.popitem(last=False)


def committed_directories(session: Session) -> CommittedDirectories:
    """The process's committed directory lines of the session's database."""
    cache: CommittedDirectories = database.shared(session).setdefault(
        _DIRECTORIES, CommittedDirectories()
    )
    return cache


def _body(note: str) -> str:
    """The checkpoint text of a signed note this server wrote (signatures follow a blank line)."""
    return note.split("\n\n", 1)[0] + "\n"
