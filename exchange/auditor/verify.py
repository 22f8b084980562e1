"""The audit: one pass over the entries, stopping at the first problem and naming it.

Order of judgement: a signed checkpoint first (nothing else means anything without one);
then, for each entry in log order, its leaf, its shape and what it means (statement
signature against the key the log's own key events made valid for its actor, directory
and case replay). The Merkle comparison runs over every entry even after a replay
problem, because tampering can cause one: if the entries do not hash to what the log
signed, the earliest place they part is the first problem, unless a replay problem comes
before it.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from exchange.auditor.checks import StatementChecks, default_workers
from exchange.auditor.entries import parse_entry
from exchange.auditor.errors import (
    AuditError,
    CheckpointInvalidError,
    DirectoryCommitmentMismatchError,
    DirectoryEventError,
    EntryFormatError,
    ExtraEntriesError,
    RollbackError,
    StatementError,
)
from exchange.auditor.heads import check_consistency, claimed, verified
from exchange.auditor.integrity import Integrity
from exchange.auditor.membership import Change
from exchange.auditor.replay import Replay
from exchange.auditor.state import AuditState
from exchange.auditor.tree import CompactRange
from exchange.protocol import directory_commitment, merkle
from exchange.protocol.checkpoint import Checkpoint
from exchange.protocol.handover import Handover

PROGRESS_EVERY = 1024


@dataclass(frozen=True)
class AuditReport:
    """A log that verified: its checkpoint, what was checked, and the state to keep."""

    checkpoint: Checkpoint
    note: str
    entries: int
    signatures: int
    frontier: tuple[bytes, ...]
    previous_size: int | None
    verifier_keys: tuple[str, ...]  # the pinned keys and those the log handed over to
    learned_keys: tuple[str, ...]  # of those, the ones this audit learned from handovers
    # Every change to an organisation's membership or keys, marked authorised (signed by a
    # lead, or by the official for their own keys) or not (the operator alone).
    changes: tuple[Change, ...] = ()

    def state(self, origin: str) -> AuditState:
        return AuditState(origin, self.verifier_keys, self.note, self.frontier)


def _comes_first(broken: AuditError, first: AuditError | None) -> bool:
    """Whether the tree's verdict is reported before the entry-by-entry one.

    Entries that are not what the log signed make their meaning moot: the tree wins when
    its suspect range starts at or before a problem of meaning. An entry's own bytes
    (not canonical, wrong index) are as precise as the tree, so those win where they fall
    inside the range.
    """
    if first is None or first.index is None or broken.index is None:
        return True
    if isinstance(first, EntryFormatError):
        end = broken.end if broken.end is not None else broken.index + 1
        return end <= first.index
    return broken.index <= first.index


def _checkpoint(
    note: str, verifier_keys: Sequence[str], origin: str
) -> tuple[Checkpoint, CheckpointInvalidError | None]:
    """The checkpoint, and why it did not verify with the pinned keys if it did not.

    A checkpoint signed by another key of this log may verify with a key the log handed
    over to since the keys were pinned; the handovers are entries, so that question waits
    for the pass over them (`_follow`). A note that is not even a checkpoint of this log
    fails here.
    """
    try:
        return verified(note, verifier_keys, origin, "the log's checkpoint"), None
    except CheckpointInvalidError as exc:
        try:
            unverified = claimed(note, "the log's checkpoint")
        except CheckpointInvalidError:
            raise exc from None
        if unverified.origin != origin:
            raise
        return unverified, exc


def _follow(pinned: Sequence[str], handovers: Sequence[Handover], origin: str) -> tuple[str, ...]:
    """The pinned keys, then each key a trusted key handed the log over to, in log order.

    Each handover is signed by its old key (`exchange.protocol.handover`), so trusting its new
    key rests on a key already trusted, not on the source; the log's checkpoint then
    vouches that the handover is on record at its index.
    """
    trusted = list(pinned)
    for handover in handovers:
        if handover.origin != origin:
            raise DirectoryEventError(
                f"the log key handover is for log {handover.origin!r}", handover.tree_size
            )
        if handover.old_verifier_key in trusted and handover.new_verifier_key not in trusted:
            trusted.append(handover.new_verifier_key)
    return tuple(trusted)


def verify_log(
    entries: Iterable[str | bytes],
    checkpoint_note: str,
    verifier_keys: Sequence[str],
    origin: str,
    *,
    previous: AuditState | None = None,
    consistency_proof: Sequence[bytes] | None = None,
    witnesses: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> AuditReport:
    """Verify the log `entries` (their RFC 8785 text, from index 0) up to the checkpoint.

    `previous` is the state this auditor saved after its last full success; the new
    checkpoint must extend it (by `consistency_proof` if given, else one computed from the
    entries). `witnesses` are earlier signed checkpoints of the log, used to say which
    entry differs. `workers` is how many processes check statements beside the replay
    (default: one per CPU for a large log, none for a small one). Raises an AuditError
    naming the first problem; returns the report.
    """
    checkpoint, untrusted = _checkpoint(checkpoint_note, verifier_keys, origin)
    saved = None
    if previous is not None:
        saved = verified(previous.checkpoint, verifier_keys, origin, "your saved checkpoint")
        if saved.size > checkpoint.size:
            raise RollbackError(
                f"the log has {checkpoint.size} entries, but you verified a checkpoint of"
                f" {saved.size} before: entries from {checkpoint.size} on have vanished",
                checkpoint.size,
            )
    integrity = Integrity(checkpoint, verifier_keys, origin, previous, witnesses)
    old = saved.size if saved is not None else 0
    tree = CompactRange(
        merkle.plan_nodes(merkle.consistency_plan(old, checkpoint.size))
        if 0 < old < checkpoint.size and consistency_proof is None
        else ()
    )
    run = Run(verifier_keys, origin, tree)
    trusted = run.verify(
        entries, checkpoint_note, checkpoint, untrusted, integrity, progress, workers
    )
    if saved is not None and saved.size < checkpoint.size:
        proof = (
            consistency_proof
            if consistency_proof is not None
            else merkle.assemble(
                merkle.consistency_plan(saved.size, checkpoint.size), tree.captured
            )
        )
        check_consistency(saved, checkpoint, proof)
    return run.report(checkpoint, checkpoint_note, trusted, saved.size if saved else None)


class Run:
    """The state of a pass over the entries, which can go on where it stopped.

    `verify` reads entries from `tree.size` on and judges them against one checkpoint;
    the leaf hashes, the directory tree and the replay's state carry over to the next
    call (`exchange.auditor.incremental`). After a call that raised, the state is
    half-judged: discard it.
    """

    def __init__(self, verifier_keys: Sequence[str], origin: str, tree: CompactRange) -> None:
        self.verifier_keys = tuple(verifier_keys)
        self.origin = origin
        self.tree = tree
        self.directory_tree = CompactRange()
        self.replay = Replay(StatementChecks(0))
        self.signatures = 0

    def verify(
        self,
        entries: Iterable[str | bytes],
        checkpoint_note: str,
        checkpoint: Checkpoint,
        untrusted: CheckpointInvalidError | None,
        integrity: Integrity,
        progress: Callable[[int], None] | None,
        workers: int | None,
    ) -> tuple[str, ...]:
        """Read and judge the entries up to `checkpoint`; the log's trusted keys."""
        tree, directory_tree, replay = self.tree, self.directory_tree, self.replay
        wanted = integrity.sizes
        new = checkpoint.size - tree.size
        checks = StatementChecks(default_workers(new) if workers is None else workers)
        replay.checks = checks
        first: AuditError | None = None
        extra = False
        try:
            for raw in entries:
                position = tree.size
                if position == checkpoint.size:
                    extra = True
                    break
                if isinstance(raw, str):
                    # A lone surrogate cannot be in a UTF-8 leaf: hash it anyway so the tree
                    # comparison still says where the entries part from what was signed.
                    try:
                        data = raw.encode("utf-8")
                    except UnicodeEncodeError:
                        data = raw.encode("utf-8", "surrogatepass")
                        if first is None:
                            first = EntryFormatError("the entry is not valid UTF-8", position)
                else:
                    data = raw
                leaf = merkle.leaf_hash(data)
                tree.append(leaf)
                if tree.size in wanted:
                    integrity.observe(tree)
                if first is None:
                    try:
                        entry = parse_entry(data, position)
                        if directory_commitment.is_directory_entry(entry.case_id):
                            directory_tree.append(leaf)
                        replay.entry(entry)
                    except AuditError as exc:
                        first = exc
                    if checks.failure is not None:
                        first = StatementError(checks.failure[1], checks.failure[0])
                if progress is not None and tree.size % PROGRESS_EVERY == 0:
                    progress(tree.size)
            failed = checks.finish()
        finally:
            checks.close()
        self.signatures += checks.count
        if progress is not None:
            progress(tree.size)
        trusted = _follow(self.verifier_keys, replay.directory.handovers, self.origin)
        if untrusted is not None:
            try:
                verified(checkpoint_note, trusted, self.origin, "the log's checkpoint")
            except CheckpointInvalidError:
                raise untrusted from None  # nothing else means anything without a checkpoint
            integrity.verifier_keys = trusted
        # A statement's own check outranks a replay problem at the same index: it says why.
        if failed is not None and (
            first is None or first.index is None or failed[0] <= first.index
        ):
            first = StatementError(failed[1], failed[0])
        broken = integrity.error(tree)
        if broken is not None and _comes_first(broken, first):
            raise broken
        if first is not None:
            raise first
        if extra:
            raise ExtraEntriesError(
                f"the source serves entries beyond its checkpoint of size {checkpoint.size}",
                checkpoint.size,
            )
        _check_directory_line(checkpoint, directory_tree)
        return trusted

    def report(
        self,
        checkpoint: Checkpoint,
        checkpoint_note: str,
        trusted: tuple[str, ...],
        previous_size: int | None,
    ) -> AuditReport:
        return AuditReport(
            checkpoint,
            checkpoint_note,
            self.tree.size,
            self.signatures,
            tuple(digest for _, digest in self.tree.frontier()),
            previous_size,
            trusted,
            trusted[len(self.verifier_keys) :],
            tuple(self.replay.directory.changes),
        )


def _check_directory_line(checkpoint: Checkpoint, directory_tree: CompactRange) -> None:
    """The checkpoint's directory line describes exactly the log's entries about no case.

    Clients trust that line to know they hold the whole directory; a log that signed a
    directory tree other than its own entries would show a client another directory.
    """
    try:
        claimed_line = directory_commitment.of_checkpoint(checkpoint)
    except directory_commitment.DirectoryCommitmentError as exc:
        raise CheckpointInvalidError(str(exc)) from exc
    if claimed_line is None:  # signed before checkpoints committed to the directory
        return
    if (claimed_line.size, claimed_line.root) != (directory_tree.size, directory_tree.root()):
        raise DirectoryCommitmentMismatchError(
            f"the checkpoint commits to a directory of {claimed_line.size} entries that is not"
            f" the log's {directory_tree.size} entries about no case"
        )
