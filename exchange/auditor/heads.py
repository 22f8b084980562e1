"""Checkpoints as the auditor takes them: verified against pinned keys, or merely claimed."""

from collections.abc import Sequence

from exchange.auditor.errors import CheckpointInvalidError, InconsistentLogError, RollbackError
from exchange.protocol import merkle
from exchange.protocol.checkpoint import Checkpoint, CheckpointError, verify_checkpoint
from exchange.protocol.note import NoteError


def verified(note: str, verifier_keys: Sequence[str], origin: str, what: str) -> Checkpoint:
    """The checkpoint `note` signs, if a pinned key signed it for this origin."""
    try:
        return verify_checkpoint(note, verifier_keys, origin)
    except (NoteError, CheckpointError) as exc:
        raise CheckpointInvalidError(f"{what} does not verify: {exc}") from exc


def claimed(note: str, what: str) -> Checkpoint:
    """The checkpoint a note claims, signature unchecked: use it only as a lead.

    The auditor compares the entries with every checkpoint a source offers, and verifies
    the signatures of the few that end up as evidence.
    """
    # Signature lines never contain a blank line, so the last one ends the text.
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointInvalidError(f"{what} is not a signed note")
    try:
        return Checkpoint.parse(note[: split + 1])
    except CheckpointError as exc:
        raise CheckpointInvalidError(f"{what}: {exc}") from exc


def check_consistency(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """Raise unless `new` extends `old` by this RFC 9162 consistency proof."""
    if old.size > new.size:
        raise RollbackError(
            f"the log has {new.size} entries, but you verified a checkpoint of {old.size}:"
            f" entries from {new.size} on have vanished",
            new.size,
        )
    try:
        merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    except merkle.ProofError as exc:
        raise InconsistentLogError(
            f"the checkpoint of size {new.size} does not extend the one of size {old.size}"
            f" you verified before: {exc}"
        ) from exc
