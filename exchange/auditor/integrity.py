"""Do the entries hash to what the log signed, and if not, from which entry on?

Evidence is every signed tree the auditor knows: the source's latest checkpoint, earlier
checkpoints the source offers (a bundle may carry them), and the checkpoint this auditor
verified before with its frontier. Each is compared with the root of the entries at its
size as they stream past. A disagreement at size s and an agreement at size lo < s put the
first differing entry in [lo, s): with a checkpoint per appended entry that is one entry.

Earlier checkpoints are compared on their claimed roots and only the ones that end up
naming the range have their signatures verified: a forged one is refused, not believed.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from exchange.auditor.errors import (
    AuditError,
    CheckpointInvalidError,
    InconsistentLogError,
    MissingEntriesError,
    RollbackError,
    TreeMismatchError,
)
from exchange.auditor.heads import claimed, verified
from exchange.auditor.state import AuditState
from exchange.auditor.tree import CompactRange, node_range
from exchange.protocol.checkpoint import Checkpoint


@dataclass(frozen=True)
class _Lead:
    size: int
    root: bytes
    note: str


@dataclass
class Integrity:
    """Collects the evidence while the entries stream; `error()` judges it at the end."""

    checkpoint: Checkpoint
    verifier_keys: Sequence[str]
    origin: str
    previous: AuditState | None = None
    witnesses: Sequence[str] = ()
    leads: dict[int, list[_Lead]] = field(default_factory=dict)
    # (size, agrees, which evidence, its note if a witness) for every signed prefix compared
    _prefixes: list[tuple[int, bool, str, str | None]] = field(default_factory=list)
    _saved_split: tuple[int, int] | None = None  # [start, end) of the first differing node

    def __post_init__(self) -> None:
        for note in self.witnesses:
            lead = claimed(note, "an earlier checkpoint from the source")
            if lead.origin != self.origin:
                raise CheckpointInvalidError(f"an earlier checkpoint is of log {lead.origin!r}")
            if lead.size > self.checkpoint.size:
                verified(
                    note, self.verifier_keys, self.origin, f"the checkpoint of size {lead.size}"
                )
                raise RollbackError(
                    f"the source's latest checkpoint has {self.checkpoint.size} entries, but the"
                    f" log also signed one of {lead.size}",
                    self.checkpoint.size,
                )
            self.leads.setdefault(lead.size, []).append(_Lead(lead.size, lead.root, note))

    @property
    def sizes(self) -> frozenset[int]:
        """The tree sizes at which `observe` wants the streaming tree."""
        sizes = set(self.leads)
        if self.previous is not None:
            sizes.add(self.previous.tree.size)
        return frozenset(sizes)

    def observe(self, tree: CompactRange) -> None:
        size = tree.size
        if size in self.leads:
            root = tree.root()
            for lead in self.leads[size]:
                self._prefixes.append((size, lead.root == root, "witness", lead.note))
        if self.previous is not None and size == self.previous.tree.size:
            local = tree.frontier()
            for (node, saved), (_, digest) in zip(
                self.previous.frontier_nodes(), local, strict=True
            ):
                if saved != digest:
                    self._saved_split = node_range(node)
                    break
            agrees = self._saved_split is None
            self._prefixes.append((size, agrees, "saved", None))

    def verified_before(self, size: int) -> None:
        """The first `size` entries verified against an earlier checkpoint of this log: the
        first difference, if any, is after them."""
        self._prefixes.append((size, True, "saved", None))

    def error(self, tree: CompactRange) -> AuditError | None:
        """The integrity failure, localised as far as the evidence allows, or None."""
        n, count = self.checkpoint.size, tree.size
        prefixes = list(self._prefixes)
        if count == n:
            prefixes.append((n, tree.root() == self.checkpoint.root, "checkpoint", None))
        if self._saved_split is not None:
            # The saved frontier's earlier nodes agree, so the entries before `start` are
            # the ones verified before; the first difference is inside [start, end).
            start, end = self._saved_split
            prefixes += [(start, True, "saved", None), (end, False, "saved", None)]
        disagreeing = [p for p in prefixes if not p[1]]
        if not disagreeing:
            if count < n:
                return MissingEntriesError(
                    f"the checkpoint covers {n} entries but the source served {count}", count
                )
            return None
        hi_size, _, hi_what, hi_note = min(disagreeing, key=lambda p: p[0])
        latest_agrees = count == n and tree.root() == self.checkpoint.root
        # Where the log parts from the one verified before, only the saved tree tells
        # how far the two agree: the log's own checkpoints all describe the new history.
        fork = hi_what == "saved" and latest_agrees
        below = [p for p in prefixes if p[1] and p[0] < hi_size and (p[2] == "saved" or not fork)]
        lo_size, _, _, lo_note = max(below, key=lambda p: p[0], default=(0, True, "", None))
        for size, note in ((hi_size, hi_note), (lo_size, lo_note)):
            if note is not None:
                verified(note, self.verifier_keys, self.origin, f"the checkpoint of size {size}")
        saved_size = self.previous.tree.size if self.previous else None
        if fork:
            return InconsistentLogError(
                f"the log was rewritten: it does not extend the checkpoint of size {saved_size}"
                " you verified before",
                lo_size,
                end=hi_size,
            )
        if latest_agrees:
            return InconsistentLogError(
                f"the log signed a checkpoint of size {hi_size} that its latest does not extend",
                lo_size,
                end=hi_size,
            )
        if hi_what == "checkpoint":
            what = "the log's latest checkpoint"
        elif hi_what == "saved":
            what = f"the checkpoint of size {saved_size} you verified before"
        else:
            what = f"the log's checkpoint of size {hi_size}"
        return TreeMismatchError(f"the entries do not hash to {what}", lo_size, end=hi_size)
