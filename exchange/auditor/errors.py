"""Why an audit failed: one class per cause, each naming where in the log it is.

Every class derives from `exchange.protocol.verification.VerificationError`. `index` is the first
log index the problem concerns; where only a range of entries can be blamed (a root that
does not match, with no signed checkpoint in between), `end` closes it. `code` is stable,
for scripts that read the CLI's output.
"""

from typing import ClassVar

from exchange.protocol.verification import VerificationError


class AuditError(VerificationError):
    """The log, as the source presents it, is not what the log signed or not a valid history."""

    code: ClassVar[str] = "audit"

    def __init__(self, reason: str, index: int | None = None, *, end: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.index = index
        self.end = end if end is not None and index is not None and end > index + 1 else None

    @property
    def where(self) -> str | None:
        if self.index is None:
            return None
        if self.end is None:
            return f"entry {self.index}"
        return f"entries {self.index}..{self.end - 1}"

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return f"{where}{self.reason} [{self.code}]"


class CheckpointInvalidError(AuditError):
    """A checkpoint is malformed, from another log, or not signed by a pinned key."""

    code = "bad-checkpoint"


class RollbackError(AuditError):
    """The log is smaller than a checkpoint this auditor verified before: history vanished."""

    code = "rollback"


class InconsistentLogError(AuditError):
    """The log does not extend the checkpoint this auditor verified before: it was rewritten."""

    code = "inconsistent"


class MissingEntriesError(AuditError):
    """The source served fewer entries than its checkpoint covers."""

    code = "missing-entries"


class ExtraEntriesError(AuditError):
    """The source served entries beyond its checkpoint: nothing the log signed covers them."""

    code = "extra-entries"


class TreeMismatchError(AuditError):
    """The entries do not hash to the root of a checkpoint the log signed."""

    code = "root-mismatch"


class EntryFormatError(AuditError):
    """An entry is not RFC 8785 canonical JSON, or not the shape of a log entry."""

    code = "malformed-entry"


class EntryIndexError(EntryFormatError):
    """An entry's `index` is not its position: an entry is missing, repeated or moved."""

    code = "index-mismatch"


class StatementError(AuditError):
    """A statement in an entry does not verify, or disagrees with the entry that logs it."""

    code = "bad-statement"


class SignerKeyError(StatementError):
    """A statement is signed by a key that was not valid for its actor at that index."""

    code = "signer-key"


class DirectoryEventError(AuditError):
    """An organisation, official or key event does not replay on the log's own history."""

    code = "directory-event"


class KeyEventError(DirectoryEventError):
    """A key enrollment, rotation or revocation does not verify or does not replay."""

    code = "key-event"


class MembershipEventError(DirectoryEventError):
    """A membership change is not signed by a current lead of its organisation, or does not
    replay (the operator alone may only bootstrap an organisation's first lead)."""

    code = "membership-event"


class CaseReplayError(AuditError):
    """A case event does not fit the case's history (unknown case, reply, party, state)."""

    code = "case-replay"


class ReplayedTransitionError(CaseReplayError):
    """A handoff the state machine does not allow from that side in that state."""

    code = "invalid-transition"


class DirectoryCommitmentMismatchError(AuditError):
    """The checkpoint's directory line is not the tree of the log's entries about no case."""

    code = "directory-mismatch"


class DeadlinePolicyError(AuditError):
    """A deadline policy change does not replay, or a case was not given the policy in force."""

    code = "deadline-policy"
