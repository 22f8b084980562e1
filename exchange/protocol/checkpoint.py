"""C2SP transparency-log checkpoints (https://c2sp.org/tlog-checkpoint): a signed tree head.

The text of the signed note is

    <origin>\\n<tree size in decimal>\\n<base64 of the 32-byte RFC 9162 root>\\n<extension>\\n...

Parsing is strict (one spelling per checkpoint): no leading zeros or sign in the size,
canonical base64, a size that fits in uint64 like every other implementation's.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.protocol import note
from exchange.protocol.merkle import HASH_SIZE, MAX_TREE_SIZE
from exchange.protocol.verification import VerificationError
from keys.b64 import b64_decode, b64_encode

_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")
_CONTROL = re.compile("[\x00-\x1f]")


class CheckpointError(VerificationError):
    """A checkpoint is malformed, or is not from the expected log."""


class OriginMismatchError(CheckpointError):
    """A correctly signed checkpoint names another log than the one expected."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Refuse at construction what parse() would refuse, so format() never writes a
        # checkpoint that cannot be read back.
        _check_line("origin", self.origin)
        if type(self.size) is not int or not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"tree size {self.size} is outside 0..2**64-1")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointError(f"root is not {HASH_SIZE} bytes")
        if not isinstance(self.extensions, tuple):
            raise CheckpointError("extensions must be a tuple of lines")
        for extension in self.extensions:
            _check_line("extension line", extension)

    def format(self) -> str:
        lines = [
            self.origin,
            str(self.size),
            b64_encode(self.root),
            *self.extensions,
        ]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError(f"checkpoint has {len(lines)} lines, expected at least 3")
        origin, size, root, *extensions = lines
        if not _SIZE.fullmatch(size):
            raise CheckpointError(f"tree size {size[:30]!r} is not a decimal without leading zeros")
        try:
            root_hash = b64_decode(root)
        except ValueError as exc:
            raise CheckpointError(f"root: {exc}") from None
        return cls(origin, int(size), root_hash, tuple(extensions))


def _check_line(what: str, line: str) -> None:
    """A line the note layer can carry: non-empty, UTF-8, no control characters."""
    if not line:
        raise CheckpointError(f"{what} is empty")
    control = _CONTROL.search(line)
    if control:
        raise CheckpointError(f"{what} contains control character U+{ord(control.group()):04X}")
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        raise CheckpointError(f"{what} is not valid UTF-8 (lone surrogate)") from None


def sign_checkpoint(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    """The checkpoint as a signed note. The spec asks that name be the origin."""
    return sign_checkpoint_with(checkpoint, note.NoteSigner(name, private_key))


def sign_checkpoint_with(checkpoint: Checkpoint, signer: note.NoteSigner) -> str:
    """`sign_checkpoint` by a signer whose key id is already worked out (the log's own)."""
    return signer.sign(checkpoint.format())


def verify_checkpoint(note_text: str, verifier_keys: Sequence[str], origin: str) -> Checkpoint:
    """Verify a signed checkpoint from the log named origin and return it.

    verifier_keys are the log's own keys (more than one during a key rotation): a
    signature by any of them suffices. Witness cosignatures are a separate policy,
    checked by their own call to note.verify with the witnesses' keys.
    """
    checkpoint = Checkpoint.parse(note.verify(note_text, verifier_keys))
    if checkpoint.origin != origin:
        raise OriginMismatchError(
            f"checkpoint is from log {checkpoint.origin!r}, expected {origin!r}"
        )
    return checkpoint
