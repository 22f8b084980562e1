"""The witness's C2SP tlog-witness conformance, over HTTP against a real `hotline-witness`
process: every status code of the spec, each for its exact case, and a restart after kill -9.
"""

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.ops.witness_process import LiveWitness
from exchange.protocol import merkle, note
from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint
from exchange.protocol.cosignature import parse_witness_vkey, verify_cosignatures
from exchange.protocol.witness_requests import AddCheckpoint

ORIGIN = "hotline.test/log"
LOG_KEY = Ed25519PrivateKey.generate()
LOG_VKEY = note.verifier_key(ORIGIN, LOG_KEY.public_key())


class Log:
    """A log the test controls: leaves, checkpoints and proofs."""

    def __init__(self, key: Ed25519PrivateKey = LOG_KEY, salt: bytes = b"") -> None:
        self.tree = merkle.MemoryTree()
        self.key = key
        self.salt = salt

    def grow(self, count: int) -> int:
        for _ in range(count):
            self.tree.append(merkle.leaf_hash(self.salt + b"entry %d" % self.size))
        return self.size

    @property
    def size(self) -> int:
        return self.tree.size

    def checkpoint(self, size: int | None = None, origin: str = ORIGIN) -> str:
        size = self.size if size is None else size
        return sign_checkpoint(Checkpoint(origin, size, self.tree.root(size)), origin, self.key)

    def request(self, old: int, size: int | None = None, **kwargs: object) -> bytes:
        size = self.size if size is None else size
        proof = self.tree.consistency_proof(old, size) if 0 < old < size else []
        return AddCheckpoint(old, tuple(proof), self.checkpoint(size, **kwargs)).encode()  # type: ignore[arg-type]


@pytest.fixture
def witness(tmp_path):
    with LiveWitness(tmp_path / "w1", "w1.test/witness", [LOG_VKEY]) as live:
        yield live


def post(witness: LiveWitness, body: bytes) -> httpx.Response:
    return httpx.post(f"{witness.url}/add-checkpoint", content=body, timeout=10)


def test_200_a_first_checkpoint_is_cosigned_and_the_cosignature_verifies(witness):
    log = Log()
    log.grow(5)
    answer = post(witness, log.request(0))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.text.startswith("\u2014 w1.test/witness ")
    found = verify_cosignatures(log.checkpoint() + answer.text, [parse_witness_vkey(witness.vkey)])
    assert list(found) == ["w1.test/witness"]


def test_200_a_consistent_extension_and_the_same_checkpoint_again(witness):
    log = Log()
    log.grow(5)
    assert post(witness, log.request(0)).status_code == 200
    log.grow(8)
    assert post(witness, log.request(5)).status_code == 200
    assert post(witness, log.request(13)).status_code == 200  # same size, same root: re-cosigned


def test_409_a_stale_old_size_answers_the_size_the_witness_knows(witness):
    log = Log()
    log.grow(5)
    post(witness, log.request(0))
    log.grow(3)
    answer = post(witness, log.request(0))
    assert answer.status_code == 409
    assert answer.headers["content-type"] == "text/x.tlog.size"
    assert answer.text == "5\n"
    answer = post(witness, log.request(4, size=6))
    assert (answer.status_code, answer.text) == (409, "5\n")


def test_409_a_different_root_for_the_size_it_cosigned(witness):
    log = Log()
    log.grow(5)
    post(witness, log.request(0))
    other = Log(salt=b"forked ")
    other.grow(5)
    answer = post(witness, other.request(5))
    assert (answer.status_code, answer.text) == (409, "5\n")


def test_422_a_consistency_proof_that_does_not_verify(witness):
    log = Log()
    log.grow(5)
    post(witness, log.request(0))
    fork = Log(salt=b"forked ")
    fork.grow(9)  # a different history of 9 entries, its proof from its own size 5
    answer = post(witness, fork.request(5))
    assert answer.status_code == 422
    assert answer.text.startswith("consistency proof does not verify: consistency proof from 5")


def test_422_a_proof_from_zero_on_a_fresh_log(witness):
    log = Log()
    log.grow(3)
    body = AddCheckpoint(0, (bytes(32),), log.checkpoint()).encode()
    answer = post(witness, body)
    assert (answer.status_code, answer.text) == (
        422,
        "a consistency proof from size 0 must be empty\n",
    )


def test_400_an_old_size_above_the_checkpoint_and_a_malformed_body(witness):
    log = Log()
    log.grow(3)
    body = AddCheckpoint(4, (), log.checkpoint()).encode()
    answer = post(witness, body)
    assert (answer.status_code, answer.text) == (400, "old size 4 is above the checkpoint's 3\n")
    answer = post(witness, b"old 1\nnot base64!\n\n" + log.checkpoint().encode())
    assert answer.status_code == 400
    assert answer.text.startswith("malformed request: proof line 1:")


def test_404_an_unknown_origin(witness):
    log = Log()
    log.grow(1)
    answer = post(witness, log.request(0, origin="elsewhere.test/log"))
    assert (answer.status_code, answer.text) == (404, "unknown log origin 'elsewhere.test/log'\n")


def test_403_a_checkpoint_not_signed_by_the_log_s_key(witness):
    impostor = Log(key=Ed25519PrivateKey.generate())
    impostor.grow(2)
    answer = post(witness, impostor.request(0))
    assert answer.status_code == 403
    assert answer.text.startswith("checkpoint is not signed by the log's key: no signature by")


def test_a_restart_after_kill_9_keeps_what_it_cosigned(witness):
    log = Log()
    log.grow(7)
    assert post(witness, log.request(0)).status_code == 200
    witness.kill()
    witness.start()
    answer = post(witness, log.request(0))
    assert (answer.status_code, answer.text) == (409, "7\n")
    fork = Log(salt=b"forked ")
    fork.grow(7)
    assert post(witness, fork.request(7)).status_code == 409  # never two roots for size 7
    log.grow(1)
    assert post(witness, log.request(7)).status_code == 200
