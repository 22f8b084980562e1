"""Witnessing: how many checkpoints a witness cosigns per second (each with its consistency
proof, its state committed to SQLite with synchronous=FULL), against the floor of the two
signatures it must check and make; and serving a public tile against the proof API."""

import tempfile
import time
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.log import Exchange
from bench.timing import fmt_seconds, in_turn
from exchange.protocol import merkle, note
from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint
from exchange.protocol.cosignature import cosign
from exchange.protocol.witness_requests import AddCheckpoint
from exchange.services import operator
from exchange.witness.cosigning import WitnessIdentity, add_checkpoint, logs_by_origin
from exchange.witness.state import WitnessState

ORIGIN = "bench.test/log"
CHECKPOINTS = 400
TREE = 2000


def cosigning(directory: Path) -> list[str]:
    log_key = Ed25519PrivateKey.generate()
    identity = WitnessIdentity("bench.test/witness", Ed25519PrivateKey.generate())
    logs = logs_by_origin([note.verifier_key(ORIGIN, log_key.public_key())])
    tree = merkle.MemoryTree()
    bodies = []
    old = 0
    for size in range(1, CHECKPOINTS + 1):
        tree.append(merkle.leaf_hash(b"entry %d" % size))
        signed = sign_checkpoint(Checkpoint(ORIGIN, size, tree.root(size)), ORIGIN, log_key)
        proof = tree.consistency_proof(old, size) if old else []
        bodies.append(AddCheckpoint(old, tuple(proof), signed).encode())
        old = size
    state = WitnessState(directory / "witness.db")
    start = time.perf_counter()
    for body in bodies:
        add_checkpoint(body, identity, logs, state, lambda: 1700000000)
    per_checkpoint = (time.perf_counter() - start) / CHECKPOINTS

    text = Checkpoint(ORIGIN, 1, tree.root(1)).format()
    signed = sign_checkpoint(Checkpoint(ORIGIN, 1, tree.root(1)), ORIGIN, log_key)
    vkey = [note.verifier_key(ORIGIN, log_key.public_key())]
    floor = in_turn(
        {"verify + cosign": lambda: (note.verify(signed, vkey), cosign(text, "w", log_key, 1))}
    )["verify + cosign"]
    return [
        f"  witness: {1 / per_checkpoint:.0f} checkpoints/s ({fmt_seconds(per_checkpoint)} each:"
        " parse, verify the log signature and the consistency proof, commit the state"
        " with fsync, cosign)",
        f"    = {per_checkpoint / floor:.1f} x the floor of one Ed25519 verify and one sign"
        f" ({fmt_seconds(floor)}); the rest is SQLite's durable commit",
    ]


def tiles(directory: Path) -> list[str]:
    exchange = Exchange(directory)
    with exchange.operator() as session:
        operator.create_organisation(session, exchange.now(), "regulator", "auditor", "R")
    auditor = exchange.enroll("regulator", "auditor-1", "auditor", [])
    for number in range(TREE):
        with exchange.operator() as session:
            operator.create_organisation(
                session, exchange.now(), f"org-{number}", "agency", f"Org {number}"
            )
    exchange.moment += timedelta(seconds=1)
    headers = auditor.headers(exchange.now())
    client = exchange.client
    size = int(client.get("/v1/log/checkpoint").text.split("\n")[1])

    def get(path: str, **kwargs: object) -> None:
        response = client.get(path, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code}")

    times = in_turn(
        {
            "tile": lambda: get("/tile/0/003"),
            "consistency": lambda: get(
                f"/v1/log/proof/consistency?old={size // 2}&new={size}", headers=headers
            ),
            "inclusion": lambda: get(
                f"/v1/log/proof/inclusion?index={size // 3}&tree_size={size}", headers=headers
            ),
        }
    )
    with exchange.app.app_context():
        from exchange import runtime

        runtime.get_database().engine.dispose()
    return [
        f"  GET /tile/0/003 (256 hashes, public, immutable): {fmt_seconds(times['tile'])}",
        f"  GET /v1/log/proof/consistency (token): {fmt_seconds(times['consistency'])};"
        f" tile / proof = {times['tile'] / times['consistency']:.2f}",
        f"  GET /v1/log/proof/inclusion (token): {fmt_seconds(times['inclusion'])};"
        f" tile / proof = {times['tile'] / times['inclusion']:.2f}"
        " (a tile serves every proof through its 256 leaves, and any cache can hold it)",
    ]


def run() -> list[str]:
    lines = ["witness (SQLite state, synchronous=FULL)"]
    with tempfile.TemporaryDirectory(prefix="bench-witness-") as name:
        lines += cosigning(Path(name))
    lines.append(f"tiles against the proof API (a log of {TREE} entries, in-process)")
    with tempfile.TemporaryDirectory(prefix="bench-tiles-") as name:
        lines += tiles(Path(name))
    return lines
