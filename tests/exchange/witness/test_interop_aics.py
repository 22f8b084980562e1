"""Interop with an independent C2SP witness: aics-witness (PyPI, Python >= 3.12, run from its
own venv that `make test` builds as .venv-interop). Our cosigner gets its cosignatures, our
verifier accepts them in a quorum with our own witness, and it refuses our split view too.
"""

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from exchange import create_app, runtime
from exchange.ops.devserver import free_port
from exchange.protocol.checkpoint import Checkpoint, sign_checkpoint
from exchange.protocol.witness_policy import parse_policy, require_quorum
from exchange.protocol.witness_requests import AddCheckpoint
from exchange.services import transparency
from tests.conftest import app_config
from tests.exchange.witness.test_cosigner import cosign, grow
from tests.helpers.databases import in_ci

REPO = Path(__file__).resolve().parents[3]
AICS = Path(os.environ.get("HOTLINE_AICS_WITNESS", REPO / ".venv-interop" / "bin" / "aics-witness"))


@pytest.fixture
def aics(tmp_path):
    if not AICS.exists():
        reason = f"{AICS} is missing: `make test` installs aics-witness with Python 3.12"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    port = free_port()
    config = tmp_path / "aics" / "witness.json"
    config.parent.mkdir()
    made = subprocess.run(
        [
            str(AICS),
            "init",
            "-c",
            str(config),
            "--name",
            "aics.test/w1",
            "--listen",
            f"127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    vkey = made.stdout.strip().splitlines()[-1]

    def serve(log_vkey: str, origin: str) -> subprocess.Popen[bytes]:
        subprocess.run(
            [str(AICS), "add-log", "-c", str(config), "--origin", origin, "--vkey", log_vkey],
            capture_output=True,
            check=True,
        )
        # Our checkpoints carry the directory line (a C2SP extension line, docs/protocol.md);
        # aics-witness refuses extension lines unless the log is configured with them.
        settings = json.loads(config.read_text())
        for logged in settings["logs"]:
            if logged["origin"] == origin:
                logged["extension_lines"] = True
        config.write_text(json.dumps(settings))
        process = subprocess.Popen(
            [str(AICS), "serve", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "aics-witness did not start"
            time.sleep(0.05)

    started: list[subprocess.Popen[bytes]] = []
    yield vkey, f"http://127.0.0.1:{port}", lambda *a: started.append(serve(*a)) or started[-1]
    for process in started:
        process.terminate()
        process.wait(timeout=15)


def test_our_log_cosigned_by_aics_witness_and_ours_in_one_quorum(
    aics, tmp_path, database_url, clock, thread_witnesses
):
    aics_vkey, aics_url, serve = aics
    policy = tmp_path / "witnesses.policy"
    app = create_app(app_config(tmp_path, database_url, clock, WITNESS_POLICY_FILE=str(policy)))
    with app.app_context():
        log = runtime.server_keys().log
    serve(log.verifier_key, log.name)
    ours = thread_witnesses("w1.test", [log.verifier_key])
    policy.write_text(
        f"witness ours {ours.vkey} {ours.url}\nwitness aics {aics_vkey} {aics_url}\n"
        "group both all ours aics\nquorum both\n"
    )
    first = grow(app, clock, "one", "two")
    assert cosign(app) == [
        f"w1.test size {first}: cosigned",
        f"aics.test/w1 size {first}: cosigned",
    ]
    second = grow(app, clock, "three", "four", "five")  # now with a consistency proof
    assert cosign(app) == [
        f"w1.test size {second}: cosigned",
        f"aics.test/w1 size {second}: cosigned",
    ]
    public = app.test_client().get("/checkpoint").text
    assert require_quorum(public, parse_policy(policy.read_text())) == ["aics", "ours"]

    # The operator's second history: the same key signs another tree of size `second` + 2.
    with app.app_context(), runtime.read() as session:
        stale = transparency.checkpoint_at(session, first).note
        proof_length = len(transparency.consistency(session, first, second))
    forked = sign_checkpoint(Checkpoint(log.name, second + 2, bytes(32)), log.name, log.private_key)
    bogus = AddCheckpoint(second, tuple(bytes([n]) * 32 for n in range(proof_length)), forked)
    for witness in (aics_url, ours.url):
        answer = httpx.post(f"{witness}/add-checkpoint", content=bogus.encode())
        assert answer.status_code == 422, (witness, answer.text)
        answer = httpx.post(
            f"{witness}/add-checkpoint", content=AddCheckpoint(first, (), stale).encode()
        )
        assert (answer.status_code, answer.text) == (409, f"{second}\n")
        assert answer.headers["content-type"] == "text/x.tlog.size"
    with app.app_context():
        runtime.get_database().engine.dispose()
