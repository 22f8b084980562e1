"""The handover from one log key to the next: a C2SP signed note signed by both keys.

When the log's checkpoint key is rotated, the `log_key_rotated` entry carries this note in
its details. Its text is

    <origin>\\n
    log-key-rotation\\n
    <tree size>\\n           the index of the rotation entry: the first entry the new key covers
    <old verifier key>\\n
    <new verifier key>\\n

signed first by the old key (so an auditor who trusts only the old key learns the new one
from a key it already trusts) and then by the new key (so the new key's holder took part).
The second line can never be a tree size, so the note cannot pass for a checkpoint.
Pure: no Flask, no database, for the server and the auditor alike.
"""

import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.protocol import note
from exchange.protocol.verification import VerificationError

MARKER = "log-key-rotation"
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class HandoverError(VerificationError):
    """The handover note is malformed, or not signed by both the keys it names."""


@dataclass(frozen=True)
class Handover:
    origin: str
    tree_size: int
    old_verifier_key: str
    new_verifier_key: str

    def text(self) -> str:
        lines = [self.origin, MARKER, str(self.tree_size), self.old_verifier_key]
        return "".join(line + "\n" for line in [*lines, self.new_verifier_key])


def sign_handover(
    handover: Handover, old_key: Ed25519PrivateKey, new_key: Ed25519PrivateKey
) -> str:
    """The note, signed by the old key and cosigned by the new one (both named `origin`)."""
    text = handover.text()
    by_old = note.sign(text, handover.origin, old_key)
    by_new = note.sign(text, handover.origin, new_key)
    return by_old + by_new[len(text) + 1 :]  # the new key's signature line, appended


def verify_handover(signed: str) -> Handover:
    """The handover a note states, once both keys it names have verified it."""
    text = signed[: signed.rfind("\n\n") + 1] if "\n\n" in signed else ""
    lines = text[:-1].split("\n") if text else []
    if len(lines) != 5 or lines[1] != MARKER or not _SIZE.fullmatch(lines[2]):
        raise HandoverError("not a log key handover note")
    origin, _, size, old, new = lines
    try:
        for verifier_key in (old, new):
            if note.parse_verifier_key(verifier_key)[0] != origin:
                raise HandoverError("a key in the handover is not named for the log's origin")
            note.verify(signed, [verifier_key])
    except note.NoteError as exc:
        raise HandoverError(f"the handover is not signed by both keys: {exc}") from exc
    if old == new:
        raise HandoverError("the handover names the same key twice")
    return Handover(origin, int(size), old, new)
