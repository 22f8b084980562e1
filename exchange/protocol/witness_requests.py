"""C2SP tlog-witness add-checkpoint bodies (https://c2sp.org/tlog-witness), both directions.

Request:   "old <size>\\n" <base64 proof hash>"\\n"... "\\n" <signed checkpoint note>
Response:  200 with one or more cosignature lines; 409 with "<size>\\n" as text/x.tlog.size.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from exchange.protocol.merkle import HASH_SIZE
from exchange.protocol.verification import VerificationError
from keys.b64 import b64_decode, b64_encode

MAX_PROOF_LINES = 63
# A checkpoint note plus 63 proof lines is far below this; it bounds what a witness reads.
MAX_REQUEST_BYTES = 64 * 1024
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class WitnessRequestError(VerificationError):
    """An add-checkpoint request or response body is malformed."""


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str  # the signed note, as sent

    def encode(self) -> bytes:
        lines = [f"old {self.old_size}\n", *(b64_encode(node) + "\n" for node in self.proof)]
        return ("".join(lines) + "\n" + self.checkpoint).encode("utf-8")


def _size(text: str, what: str) -> int:
    if not _SIZE.fullmatch(text) or int(text) >= 2**64:
        raise WitnessRequestError(f"{what} {text[:30]!r} is not a decimal size")
    return int(text)


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    if len(body) > MAX_REQUEST_BYTES:
        raise WitnessRequestError(f"request body is more than {MAX_REQUEST_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessRequestError("request body is not UTF-8") from None
    head, separator, checkpoint = text.partition("\n\n")
    if not separator:
        raise WitnessRequestError("request has no empty line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise WitnessRequestError("request does not start with an old size line")
    old_size = _size(lines[0][4:], "old size")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRequestError(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for number, line in enumerate(lines[1:], 1):
        try:
            node = b64_decode(line)
        except ValueError as exc:
            raise WitnessRequestError(f"proof line {number}: {exc}") from None
        if len(node) != HASH_SIZE:
            raise WitnessRequestError(f"proof line {number} is not a {HASH_SIZE}-byte hash")
        proof.append(node)
    return AddCheckpoint(old_size, tuple(proof), checkpoint)


def parse_conflict(body: bytes) -> int:
    """The witness's latest cosigned size from a 409 body."""
    text = body.decode("ascii", errors="replace")
    if not text.endswith("\n"):
        raise WitnessRequestError("409 body does not end with a newline")
    return _size(text[:-1], "409 size")


def parse_cosignature_lines(body: bytes) -> list[str]:
    """The signature lines of a 200 body (each "— name base64\\n"); not yet verified."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessRequestError("response is not UTF-8") from None
    if not text.endswith("\n") or len(text) > MAX_REQUEST_BYTES:
        raise WitnessRequestError("response is empty, too long, or lacks its final newline")
    lines = [line + "\n" for line in text[:-1].split("\n")]
    for line in lines:
        if not line.startswith("\u2014 ") or line.count(" ") != 2:
            raise WitnessRequestError("response line is not a note signature line")
    return lines


def proof_lines(proof: Sequence[bytes]) -> tuple[bytes, ...]:
    if len(proof) > MAX_PROOF_LINES:
        raise WitnessRequestError(f"a proof of {len(proof)} hashes is longer than the limit")
    return tuple(proof)
