"""What an auditor keeps between runs: the last checkpoint it fully verified, and its frontier.

The frontier (the hashes of the complete subtrees of that tree, `merkle.root_plan`) folds
to the checkpoint's root, so it is as trustworthy as the checkpoint. It lets the next run
say where a rewritten log parts from the one verified before, not only that it does.
"""

from dataclasses import dataclass
from typing import Any

from exchange.auditor.errors import AuditError
from exchange.auditor.heads import claimed
from exchange.auditor.tree import fold
from exchange.protocol import merkle
from exchange.protocol.checkpoint import Checkpoint
from exchange.protocol.merkle import NodeId
from keys.b64 import NonCanonicalBase64Error, b64_decode, b64_encode

STATE_FORMAT = "hotline-audit-state/v1"


class StateError(ValueError):
    """The state file is not one this auditor wrote: a usage problem, not a tampered log."""


@dataclass(frozen=True)
class AuditState:
    origin: str
    verifier_keys: tuple[str, ...]
    checkpoint: str
    frontier: tuple[bytes, ...]

    def __post_init__(self) -> None:
        try:
            parsed = claimed(self.checkpoint, "saved checkpoint")
        except AuditError as exc:
            raise StateError(str(exc)) from exc
        if parsed.origin != self.origin:
            raise StateError(f"saved checkpoint is of log {parsed.origin!r}, not {self.origin!r}")
        if len(self.frontier) != len(merkle.root_plan(parsed.size)):
            raise StateError("saved frontier does not have the shape of the saved tree")
        if any(len(h) != merkle.HASH_SIZE for h in self.frontier) or (
            fold(self.frontier) != parsed.root
        ):
            raise StateError("saved frontier does not hash to the saved checkpoint's root")

    @property
    def tree(self) -> Checkpoint:
        return claimed(self.checkpoint, "saved checkpoint")

    def frontier_nodes(self) -> list[tuple[NodeId, bytes]]:
        return list(zip(merkle.root_plan(self.tree.size), self.frontier, strict=True))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "origin": self.origin,
            "verifier_keys": list(self.verifier_keys),
            "checkpoint": self.checkpoint,
            "frontier": [b64_encode(h) for h in self.frontier],
        }

    @classmethod
    def from_json(cls, document: object) -> "AuditState":
        if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
            raise StateError(f"not a {STATE_FORMAT} document")
        origin, keys = document.get("origin"), document.get("verifier_keys")
        checkpoint, frontier = document.get("checkpoint"), document.get("frontier")
        if (
            not isinstance(origin, str)
            or not isinstance(checkpoint, str)
            or not isinstance(keys, list)
            or not all(isinstance(k, str) for k in keys)
            or not isinstance(frontier, list)
            or not all(isinstance(h, str) for h in frontier)
        ):
            raise StateError("state fields are missing or of the wrong type")
        try:
            hashes = tuple(b64_decode(h) for h in frontier)
        except NonCanonicalBase64Error as exc:
            raise StateError("saved frontier is not base64") from exc
        return cls(origin, tuple(keys), checkpoint, hashes)
