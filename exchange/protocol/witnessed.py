"""A receipt that verifies offline, for anyone: a log entry's leaf hash, a checkpoint a quorum
of witnesses cosigned, and the inclusion proof between them.

    {"index": 17, "leaf_hash": "<base64>", "checkpoint": "<cosigned note>",
     "inclusion_proof": ["<base64>", ...]}

A sender keeps it; a court checks it years later with the log's key and a witness policy,
with no server: the entry was in the log that the witnesses saw, the one every party saw.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exchange.protocol import merkle
from exchange.protocol.verification import VerificationError
from exchange.protocol.witness_policy import WitnessedCheckpoint, WitnessPolicy, verify_witnessed
from keys.b64 import b64_decode, b64_encode


class ReceiptFormatError(VerificationError):
    """A witnessed receipt document is malformed."""


@dataclass(frozen=True)
class WitnessedReceipt:
    index: int
    leaf_hash: bytes
    checkpoint: str
    inclusion_proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "leaf_hash": b64_encode(self.leaf_hash),
            "checkpoint": self.checkpoint,
            "inclusion_proof": [b64_encode(node) for node in self.inclusion_proof],
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> "WitnessedReceipt":
        index, leaf, note, proof = (
            document.get(name) for name in ("index", "leaf_hash", "checkpoint", "inclusion_proof")
        )
        if type(index) is not int or not isinstance(leaf, str) or not isinstance(note, str):
            raise ReceiptFormatError(
                "a receipt needs an integer index, a leaf_hash and a checkpoint"
            )
        if not isinstance(proof, list) or not all(isinstance(node, str) for node in proof):
            raise ReceiptFormatError("inclusion_proof is not a list of base64 hashes")
        try:
            return cls(index, b64_decode(leaf), note, tuple(b64_decode(node) for node in proof))
        except ValueError as exc:
            raise ReceiptFormatError(f"receipt: {exc}") from None


def verify_witnessed_receipt(
    receipt: WitnessedReceipt, log_keys: Sequence[str], origin: str, policy: WitnessPolicy
) -> WitnessedCheckpoint:
    """The witnessed checkpoint that includes the receipt's entry; raises if anything fails."""
    witnessed = verify_witnessed(receipt.checkpoint, log_keys, origin, policy)
    tree = witnessed.checkpoint
    merkle.verify_inclusion(
        receipt.leaf_hash, receipt.index, tree.size, receipt.inclusion_proof, tree.root
    )
    return witnessed
