"""The auditor: verify the transparency log offline, from its entries and a signed checkpoint.

Pure (no Flask, no database): it reads what any source serves (a bundle file, the HTTP
API) and trusts only the pinned checkpoint key. `verify_log` is the whole audit;
`LogVerifier` the same audit resumed as the log grows.
"""

from exchange.auditor.errors import (
    AuditError,
    CaseReplayError,
    CheckpointInvalidError,
    DirectoryEventError,
    EntryFormatError,
    EntryIndexError,
    ExtraEntriesError,
    InconsistentLogError,
    KeyEventError,
    MissingEntriesError,
    ReplayedTransitionError,
    RollbackError,
    SignerKeyError,
    StatementError,
    TreeMismatchError,
)
from exchange.auditor.incremental import LogVerifier, SpentVerifierError
from exchange.auditor.signatures import verify_bare_statement
from exchange.auditor.state import AuditState, StateError
from exchange.auditor.verify import AuditReport, verify_log

__all__ = [
    "AuditError",
    "AuditReport",
    "AuditState",
    "CaseReplayError",
    "CheckpointInvalidError",
    "DirectoryEventError",
    "EntryFormatError",
    "EntryIndexError",
    "ExtraEntriesError",
    "InconsistentLogError",
    "KeyEventError",
    "LogVerifier",
    "MissingEntriesError",
    "ReplayedTransitionError",
    "RollbackError",
    "SignerKeyError",
    "SpentVerifierError",
    "StateError",
    "StatementError",
    "TreeMismatchError",
    "verify_bare_statement",
    "verify_log",
]
