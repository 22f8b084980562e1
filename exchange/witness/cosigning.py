"""What the witness decides for one add-checkpoint request (C2SP tlog-witness), HTTP aside.

Each refusal is a `RefusedError` with the status code the spec assigns to its case, checked in
the spec's order: malformed 400, unknown origin 404, no valid log signature 403, old size
above the checkpoint's 400, old size other than the one last cosigned 409 (the body says
which), a different root at the same size 409, a consistency proof that does not verify
422. Only then is the new state committed and the cosignature returned.
"""

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.protocol import cosignature, merkle, note
from exchange.protocol.checkpoint import Checkpoint, CheckpointError
from exchange.protocol.verification import VerificationError
from exchange.protocol.witness_requests import (
    SIZE_CONTENT_TYPE,
    WitnessRequestError,
    parse_add_checkpoint,
)
from exchange.witness.state import Latest, WitnessState

EMPTY_ROOT = hashlib.sha256(b"").digest()


class RefusedError(Exception):
    """The witness refuses a request: HTTP status, a one-line reason, and a body."""

    def __init__(self, status: int, reason: str, body: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.body = body if body is not None else reason + "\n"
        self.content_type = SIZE_CONTENT_TYPE if status == 409 else "text/plain; charset=utf-8"


@dataclass(frozen=True)
class WitnessIdentity:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def vkey(self) -> str:
        return cosignature.witness_vkey(self.name, self.private_key.public_key())


def logs_by_origin(log_vkeys: Sequence[str]) -> dict[str, list[str]]:
    """The configured log keys by origin (a key's name is its log's origin)."""
    logs: dict[str, list[str]] = {}
    for vkey in log_vkeys:
        name, _, _ = note.parse_verifier_key(vkey)
        logs.setdefault(name, []).append(vkey)
    return logs


def _origin(signed_note: str) -> tuple[str, Checkpoint]:
    try:
        text, _ = note.split(signed_note)
        return text.split("\n", 1)[0], Checkpoint.parse(text)
    except (note.NoteError, CheckpointError) as exc:
        raise RefusedError(400, f"malformed checkpoint: {exc}") from None


def add_checkpoint(
    body: bytes,
    identity: WitnessIdentity,
    logs: Mapping[str, Sequence[str]],
    state: WitnessState,
    clock: Callable[[], int],
) -> str:
    """The cosignature line for the checkpoint in body, once its state is committed."""
    try:
        request = parse_add_checkpoint(body)
    except WitnessRequestError as exc:
        raise RefusedError(400, f"malformed request: {exc}") from None
    origin, checkpoint = _origin(request.checkpoint)
    if origin not in logs:
        raise RefusedError(404, f"unknown log origin {origin[:100]!r}")
    try:
        text = note.verify(request.checkpoint, logs[origin])
    except VerificationError as exc:
        raise RefusedError(403, f"checkpoint is not signed by the log's key: {exc}") from None
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        raise RefusedError(422, "a checkpoint of size 0 must have the empty tree's root")
    if request.old_size > checkpoint.size:
        raise RefusedError(
            400, f"old size {request.old_size} is above the checkpoint's {checkpoint.size}"
        )

    def decide(latest: Latest | None) -> tuple[int, bytes, str]:
        known_size = latest.size if latest else 0
        if request.old_size != known_size:
            raise RefusedError(
                409, f"old size {request.old_size} is not {known_size}", f"{known_size}\n"
            )
        if latest is not None and checkpoint.size == latest.size and checkpoint.root != latest.root:
            raise RefusedError(409, f"a different root for size {latest.size}", f"{known_size}\n")
        if latest is None or request.old_size == 0:
            if request.proof:
                raise RefusedError(422, "a consistency proof from size 0 must be empty")
        else:
            try:
                merkle.verify_consistency(
                    latest.size, checkpoint.size, latest.root, checkpoint.root, request.proof
                )
            except VerificationError as exc:
                raise RefusedError(422, f"consistency proof does not verify: {exc}") from None
        return checkpoint.size, checkpoint.root, request.checkpoint

    state.advance(origin, decide)
    return cosignature.cosign(text, identity.name, identity.private_key, clock())
