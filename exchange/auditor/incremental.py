"""The audit resumed: verify a growing log as it grows, each entry read once.

`LogVerifier.extend` reads the entries after those it verified before and judges them
with exactly the checks of `verify_log` (leaf hashes into the same Merkle tree, parse,
statement checks and replay with the same replay state, the directory tree), then the
new checkpoint: its signature with the pinned keys (or keys the log handed over to), its
size, its root over every entry so far, its directory line. The root over every entry is
what makes the resumed audit as strong as a whole one: the tree kept from the earlier
calls holds the entries verified before, so the new checkpoint vouches for them too (a
log rewritten since fails here, as if it had been verified against a saved state).

An entry verified before is not read again: an edit of one afterwards, behind the log's
back, changes nothing the verifier derived from it. A call that raises leaves the
verifier half-way through its judgement: it refuses further calls, start a new one.
"""

from collections.abc import Callable, Iterable, Sequence

from exchange.auditor.errors import RollbackError
from exchange.auditor.integrity import Integrity
from exchange.auditor.tree import CompactRange
from exchange.auditor.verify import AuditReport, Run, _checkpoint


class SpentVerifierError(RuntimeError):
    """A verifier whose last call raised was asked to go on: its state is not trustworthy."""


class LogVerifier:
    """The verified state of one log (pinned keys, origin), extended one checkpoint at a time."""

    def __init__(
        self, verifier_keys: Sequence[str], origin: str, *, workers: int | None = None
    ) -> None:
        self.verifier_keys = tuple(verifier_keys)
        self.origin = origin
        self.workers = workers
        self._run = Run(self.verifier_keys, origin, CompactRange())
        self._spent = False

    @property
    def size(self) -> int:
        """How many entries verified so far: the next call reads from this index on."""
        return self._run.tree.size

    def extend(
        self,
        entries: Iterable[str | bytes],
        checkpoint_note: str,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> AuditReport:
        """Verify the entries from index `size` (their RFC 8785 text) up to the checkpoint.

        Raises an AuditError naming the first problem, as `verify_log` does (the first
        call's verdicts and messages are verify_log's); after that, or any other
        exception (`progress` may raise one to stop), the verifier is spent.
        """
        if self._spent:
            raise SpentVerifierError("this verifier failed before: start a new one")
        self._spent = True
        checkpoint, untrusted = _checkpoint(checkpoint_note, self.verifier_keys, self.origin)
        before = self.size
        if checkpoint.size < before:
            raise RollbackError(
                f"the log has {checkpoint.size} entries, but you verified a checkpoint of"
                f" {before} before: entries from {checkpoint.size} on have vanished",
                checkpoint.size,
            )
        integrity = Integrity(checkpoint, self.verifier_keys, self.origin)
        if before:
            integrity.verified_before(before)
        trusted = self._run.verify(
            entries, checkpoint_note, checkpoint, untrusted, integrity, progress, self.workers
        )
        self._spent = False
        return self._run.report(checkpoint, checkpoint_note, trusted, before or None)
