"""Where the auditor reads a log from: anything that serves these few things.

Nothing a source says is trusted: checkpoints are verified with the pinned key, entries
against the checkpoint, proofs against both.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from exchange.auditor.bundle import Bundle
from exchange.auditor.errors import AuditError
from exchange.auditor.heads import claimed
from exchange.auditor.tree import CompactRange
from exchange.protocol import merkle


class SourceError(Exception):
    """The source cannot be read (connection, authentication, file): not a verdict."""


class ProofUnavailableError(SourceError):
    """The source has no consistency proof between these sizes: it does not know one of them."""


@dataclass(frozen=True)
class LogKey:
    """The key a source advertises for its log: a lead, until pinned."""

    origin: str
    verifier_keys: tuple[str, ...]


class LogSource(Protocol):
    def checkpoint(self) -> str:
        """The latest signed checkpoint note."""

    def witnessed_checkpoint(self) -> str:
        """The latest checkpoint with the witness cosignatures the source has for it."""

    def log_key(self) -> LogKey:
        """The origin and verifier keys the source advertises."""

    def entries(self, start: int, end: int) -> Sequence[str]:
        """Entries [start, end), or a shorter non-empty prefix (a page); empty past the end."""

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """The RFC 9162 proof that the tree of size `new` extends the one of size `old`."""

    def witnesses(self) -> Sequence[str]:
        """Earlier signed checkpoints the source holds (may be none)."""


def iter_entries(source: LogSource, end: int, start: int = 0) -> Iterator[str]:
    """Entries [start, end) page by page; stops early where the source has no more."""
    while start < end:
        page = source.entries(start, end)
        if not page:
            return
        yield from page[: end - start]
        start += len(page)


class BundleSource:
    """A bundle file's log, read offline."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle

    def checkpoint(self) -> str:
        return self.bundle.checkpoint

    def witnessed_checkpoint(self) -> str:
        # A bundle exported from /checkpoint keeps its cosignature lines.
        return self.bundle.checkpoint

    def log_key(self) -> LogKey:
        return LogKey(self.bundle.origin, self.bundle.verifier_keys)

    def entries(self, start: int, end: int) -> Sequence[str]:
        return self.bundle.entries[start:end]

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """Computed from the bundle's own entries, streaming, as a server would from storage."""
        try:
            plan = merkle.consistency_plan(old, new)
        except merkle.ProofError as exc:
            raise SourceError(f"no consistency proof from {old} to {new}: {exc}") from exc
        if new > len(self.bundle.entries):
            raise SourceError(f"the bundle has {len(self.bundle.entries)} entries, not {new}")
        tree = CompactRange(merkle.plan_nodes(plan))
        for entry in self.bundle.entries[:new]:
            tree.append(merkle.leaf_hash(entry.encode("utf-8", "surrogatepass")))
        return merkle.assemble(plan, tree.captured)

    def witnesses(self) -> Sequence[str]:
        return self.bundle.checkpoints


def checkpoint_size(note: str) -> int:
    """The size a note claims, to plan fetches before it is verified."""
    try:
        return claimed(note, "the checkpoint").size
    except AuditError as exc:
        raise SourceError(str(exc)) from exc
