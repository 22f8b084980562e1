"""The directory's own tree, committed to by every checkpoint in one extension line.

The directory is every log entry that is not about a case (`case_id` is null): the
organisations, officials, their keys, rotations, revocations, routing, the log key's
handovers. Those entries, in log order, are the leaves of a second RFC 9162 tree (same
leaf hashes as in the log's tree). Each checkpoint carries

    directory <number of directory entries> <base64 of that tree's root>

so a client that replicates the directory entries and hashes them to that root knows it
holds all of them up to the checkpoint, not only that the ones it was shown are in the log:
a revocation the server hides changes the root. Auditors, who read every entry, check that
the line describes exactly the log's entries without a case (`exchange.auditor.verify`).
"""

import re
from dataclasses import dataclass

from exchange.protocol.checkpoint import Checkpoint
from exchange.protocol.merkle import HASH_SIZE
from exchange.protocol.verification import VerificationError
from keys.b64 import b64_decode, b64_encode

PREFIX = "directory "
_LINE = re.compile(r"directory (0|[1-9][0-9]{0,19}) ([A-Za-z0-9+/]{43}=)")


class DirectoryCommitmentError(VerificationError):
    """A checkpoint's directory line is missing or malformed."""


@dataclass(frozen=True)
class DirectoryCommitment:
    size: int
    root: bytes

    def line(self) -> str:
        return f"{PREFIX}{self.size} {b64_encode(self.root)}"


def is_directory_entry(case_id: str | None) -> bool:
    """The rule, written once: an entry belongs to the directory iff it is about no case."""
    return case_id is None


def parse(line: str) -> DirectoryCommitment:
    match = _LINE.fullmatch(line)
    if match is None:
        raise DirectoryCommitmentError(f"malformed directory line {line[:80]!r}")
    root = b64_decode(match.group(2))
    if len(root) != HASH_SIZE:
        raise DirectoryCommitmentError("the directory root is not a SHA-256 hash")
    return DirectoryCommitment(int(match.group(1)), root)


def of_checkpoint(checkpoint: Checkpoint) -> DirectoryCommitment | None:
    """The checkpoint's directory commitment; None if it has none (signed before it existed)."""
    lines = [line for line in checkpoint.extensions if line.startswith(PREFIX)]
    if len(lines) > 1:
        raise DirectoryCommitmentError("the checkpoint has more than one directory line")
    return parse(lines[0]) if lines else None
