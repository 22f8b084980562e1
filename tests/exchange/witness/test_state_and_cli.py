"""The witness's state is checked and advanced atomically, and its command line refuses
what it cannot use."""

import threading

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.protocol import merkle, note
from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint
from exchange.protocol.cosignature import parse_witness_vkey
from exchange.protocol.witness_requests import AddCheckpoint
from exchange.witness.app import create_witness_app
from exchange.witness.cli import main
from exchange.witness.cosigning import WitnessIdentity, logs_by_origin
from exchange.witness.state import Latest, WitnessState

ORIGIN = "hotline.test/log"


def test_concurrent_requests_from_one_old_size_get_one_cosignature(tmp_path):
    """The spec's race: requests checked against the same stored size; only one may win,
    or the state could roll back. Twelve threads, one origin, twelve different sizes."""
    key = Ed25519PrivateKey.generate()
    tree = merkle.MemoryTree()
    for number in range(12):
        tree.append(merkle.leaf_hash(b"%d" % number))
    state = WitnessState(tmp_path / "state.db")
    app = create_witness_app(
        WitnessIdentity("w.test", Ed25519PrivateKey.generate()),
        logs_by_origin([note.verifier_key(ORIGIN, key.public_key())]),
        state,
        clock=lambda: 1700000000,
    )
    bodies = [
        AddCheckpoint(
            0, (), sign_checkpoint(Checkpoint(ORIGIN, size, tree.root(size)), ORIGIN, key)
        ).encode()
        for size in range(1, 13)
    ]
    statuses: list[int] = []
    barrier = threading.Barrier(len(bodies))

    def post(body: bytes) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/add-checkpoint", data=body).status_code)

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 11
    latest = state.latest(ORIGIN)
    assert latest is not None
    assert latest.root == tree.root(latest.size)


def test_a_refusal_writes_nothing(tmp_path):
    state = WitnessState(tmp_path / "state.db")
    state.advance(ORIGIN, lambda _latest: (3, bytes(32), "note"))

    def refuse(latest: Latest | None) -> tuple[int, bytes, str]:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        state.advance(ORIGIN, refuse)
    assert state.latest(ORIGIN) == Latest(3, bytes(32))
    assert state.latest("other") is None


def test_keygen_vkey_and_refusals(tmp_path):
    runner = CliRunner()
    key = tmp_path / "w.pem"
    made = runner.invoke(main, ["keygen", "--key", str(key), "--name", "w.test/1"])
    assert made.exit_code == 0, made.output
    assert parse_witness_vkey(made.output.strip()).name == "w.test/1"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    shown = runner.invoke(main, ["vkey", "--key", str(key), "--name", "w.test/1"])
    assert shown.output == made.output
    again = runner.invoke(main, ["keygen", "--key", str(key), "--name", "w.test/1"])
    assert again.exit_code == 1
    assert "exists; a witness keeps its key for life" in again.output
    bad_name = runner.invoke(main, ["vkey", "--key", str(key), "--name", "has space"])
    assert bad_name.exit_code == 1
    assert "witness name 'has space' is empty or has '+' or space" in bad_name.output
    (tmp_path / "junk.pem").write_text("junk")
    junk = runner.invoke(main, ["vkey", "--key", str(tmp_path / "junk.pem"), "--name", "w"])
    assert junk.exit_code == 1
    assert "cannot read the witness key" in junk.output
    bad_log = runner.invoke(
        main,
        [
            "serve",
            "--key",
            str(key),
            "--name",
            "w.test/1",
            "--state",
            str(tmp_path / "s.db"),
            "--log",
            "not-a-key",
        ],
    )
    assert bad_log.exit_code == 1
    assert "--log: verifier key is not <name>+<key id>+<key>" in bad_log.output


def test_every_refusal_in_process(tmp_path):
    """The statuses of test_protocol.py again, in this process (where coverage sees them)."""
    key = Ed25519PrivateKey.generate()
    tree = merkle.MemoryTree()
    for number in range(6):
        tree.append(merkle.leaf_hash(b"%d" % number))
    app = create_witness_app(
        WitnessIdentity("w.test", Ed25519PrivateKey.generate()),
        logs_by_origin([note.verifier_key(ORIGIN, key.public_key())]),
        WitnessState(tmp_path / "state.db"),
    )
    client = app.test_client()

    def signed(size: int, origin: str = ORIGIN, signer: Ed25519PrivateKey = key) -> str:
        return sign_checkpoint(Checkpoint(origin, size, tree.root(size)), origin, signer)

    def post(old: int, proof: tuple[bytes, ...], checkpoint: str) -> tuple[int, str]:
        answer = client.post("/add-checkpoint", data=AddCheckpoint(old, proof, checkpoint).encode())
        return answer.status_code, answer.text

    assert post(0, (), "not a note\n")[0] == 400
    assert post(0, (), "o\n1\nAAAA\n\n\u2014 o AAAAAAAA\n") == (
        400,
        "malformed checkpoint: root is not 32 bytes\n",
    )
    assert post(0, (), signed(2, origin="other.test/log"))[0] == 404
    assert post(0, (), signed(2, signer=Ed25519PrivateKey.generate()))[0] == 403
    assert post(3, (), signed(2)) == (400, "old size 3 is above the checkpoint's 2\n")
    assert post(0, (bytes(32),), signed(2)) == (
        422,
        "a consistency proof from size 0 must be empty\n",
    )
    empty = sign_checkpoint(Checkpoint(ORIGIN, 0, bytes(32)), ORIGIN, key)
    assert post(0, (), empty) == (422, "a checkpoint of size 0 must have the empty tree's root\n")
    assert post(0, (), signed(2))[0] == 200
    assert post(1, (), signed(4)) == (409, "2\n")
    status, text = post(2, (bytes(32),), signed(4))
    assert (status, text.split(":")[0]) == (422, "consistency proof does not verify")
    assert post(2, tuple(tree.consistency_proof(2, 6)), signed(6))[0] == 200
    assert client.get("/vkey").text.startswith("w.test+")
