"""Witnessed receipts verify offline: entry, witnessed checkpoint, inclusion proof."""

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.protocol import merkle, note
from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint
from exchange.protocol.cosignature import cosign, witness_vkey
from exchange.protocol.witness_policy import QuorumError, parse_policy
from exchange.protocol.witnessed import (
    ReceiptFormatError,
    WitnessedReceipt,
    verify_witnessed_receipt,
)

ORIGIN = "hotline.test/log"
LOG = Ed25519PrivateKey.generate()
WITNESSES = {"w1": Ed25519PrivateKey.generate(), "w2": Ed25519PrivateKey.generate()}
POLICY = parse_policy(
    "".join(
        f"witness {n} {witness_vkey(n + '.test', k.public_key())}\n" for n, k in WITNESSES.items()
    )
    + "group both all w1 w2\nquorum both\n"
)
LOG_KEYS = [note.verifier_key(ORIGIN, LOG.public_key())]


def receipt(index: int, cosigners: tuple[str, ...] = ("w1", "w2")) -> WitnessedReceipt:
    tree = merkle.MemoryTree()
    for number in range(11):
        tree.append(merkle.leaf_hash(b"entry %d" % number))
    checkpoint = Checkpoint(ORIGIN, 11, tree.root(11))
    signed = sign_checkpoint(checkpoint, ORIGIN, LOG) + "".join(
        cosign(checkpoint.format(), f"{n}.test", WITNESSES[n], 1700000000) for n in cosigners
    )
    return WitnessedReceipt(
        index, merkle.leaf_hash(b"entry %d" % index), signed, tuple(tree.inclusion_proof(index, 11))
    )


def test_a_receipt_survives_json_and_verifies_offline():
    kept = json.loads(json.dumps(receipt(7).to_json()))
    witnessed = verify_witnessed_receipt(WitnessedReceipt.from_json(kept), LOG_KEYS, ORIGIN, POLICY)
    assert (witnessed.checkpoint.size, witnessed.witnesses) == (11, ["w1", "w2"])


def test_another_entry_or_too_few_witnesses_is_refused():
    forged = receipt(7)
    forged = WitnessedReceipt(
        7, merkle.leaf_hash(b"entry 8"), forged.checkpoint, forged.inclusion_proof
    )
    with pytest.raises(merkle.RootMismatchError):
        verify_witnessed_receipt(forged, LOG_KEYS, ORIGIN, POLICY)
    with pytest.raises(QuorumError, match="cosigned by w2; the policy needs 2 of"):
        verify_witnessed_receipt(receipt(7, ("w2",)), LOG_KEYS, ORIGIN, POLICY)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"index": "7"}, "needs an integer index"),
        ({"inclusion_proof": "AAAA"}, "not a list of base64 hashes"),
        ({"leaf_hash": "A"}, "receipt:"),
    ],
)
def test_malformed_receipts(change, message):
    with pytest.raises(ReceiptFormatError, match=message):
        WitnessedReceipt.from_json({**receipt(1).to_json(), **change})
