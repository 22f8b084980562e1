"""Witnesses served from this process (werkzeug on a free port, in a thread): real HTTP, and
the witness's code measured by coverage. The process-level tests use `hotline-witness`."""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.serving import BaseWSGIServer, make_server

from exchange.witness.app import create_witness_app
from exchange.witness.cosigning import WitnessIdentity, logs_by_origin
from exchange.witness.state import WitnessState


class ThreadWitness:
    def __init__(self, folder: Path, name: str, log_vkeys: list[str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.identity = WitnessIdentity(name, Ed25519PrivateKey.generate())
        self.state = WitnessState(folder / "state.db")
        app = create_witness_app(self.identity, logs_by_origin(log_vkeys), self.state)
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def vkey(self) -> str:
        return self.identity.vkey

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def thread_witnesses(tmp_path) -> Iterator:
    started: list[ThreadWitness] = []

    def start(name: str, log_vkeys: list[str]) -> ThreadWitness:
        witness = ThreadWitness(tmp_path / name.replace("/", "_"), name, log_vkeys)
        started.append(witness)
        return witness

    yield start
    for witness in started:
        witness.close()
