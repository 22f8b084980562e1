"""The exchange collects cosignatures (`flask admin cosign`, the background thread): each
outcome, the 409 catch-up, bad witnesses, and the settings that stop the app at start."""

import threading
import time

import httpx
import pytest
from flask import Flask, Response

from exchange import create_app, runtime
from exchange.config import ConfigError
from exchange.ops import cosigner
from exchange.ops.devserver import free_port
from exchange.protocol.cosignature import witness_vkey
from exchange.protocol.witness_policy import parse_policy, require_quorum
from exchange.protocol.witness_requests import AddCheckpoint
from exchange.services import operator, transparency
from tests.conftest import app_config
from tests.exchange.witness.conftest import ThreadWitness


def grow(app, clock, *names: str) -> int:
    with app.app_context():
        for name in names:
            with runtime.write() as session:
                operator.create_organisation(session, clock(), name, "agency", name.title())
        with runtime.read() as session:
            latest = transparency.latest_checkpoint(session)
            assert latest is not None
            return latest.size


@pytest.fixture
def exchange(tmp_path, database_url, clock, thread_witnesses):
    """An app whose policy names two witnesses, served from threads."""
    policy = tmp_path / "witnesses.policy"
    app = create_app(app_config(tmp_path, database_url, clock, WITNESS_POLICY_FILE=str(policy)))
    with app.app_context():
        log_vkey = runtime.server_keys().log.verifier_key
    w1 = thread_witnesses("w1.test", [log_vkey])
    w2 = thread_witnesses("w2.test", [log_vkey])
    policy.write_text(
        f"witness w1 {w1.vkey} {w1.url}\nwitness w2 {w2.vkey} {w2.url}\n"
        "group both all w1 w2\nquorum both\n"
    )
    yield app, (w1, w2), policy
    with app.app_context():
        runtime.get_database().engine.dispose()


def cosign(app) -> list[str]:
    result = app.test_cli_runner().invoke(args=["admin", "cosign"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_rounds_cosign_new_checkpoints_with_proofs(exchange, clock):
    app, (w1, _w2), policy = exchange
    assert cosign(app) == []  # an empty log: nothing to cosign
    size = grow(app, clock, "one", "two")
    assert cosign(app) == [f"w1.test size {size}: cosigned", f"w2.test size {size}: cosigned"]
    assert cosign(app) == [f"w1.test size {size}: up to date", f"w2.test size {size}: up to date"]
    size = grow(app, clock, "three", "four", "five")
    assert cosign(app) == [f"w1.test size {size}: cosigned", f"w2.test size {size}: cosigned"]
    public = app.test_client().get("/checkpoint").text
    assert require_quorum(public, parse_policy(policy.read_text())) == ["w1", "w2"]
    assert w1.state.latest(public.split("\n")[0]).size == size


def test_a_409_names_the_size_the_witness_knows_and_the_round_catches_up(exchange, clock):
    app, (w1, _w2), _policy = exchange
    first = grow(app, clock, "one")
    cosign(app)
    second = grow(app, clock, "two", "three")
    # Someone else (a monitor) already brought w1 to `second`: our database says `first`.
    with app.app_context(), runtime.read() as session:
        note = transparency.checkpoint_at(session, second).note
        proof = transparency.consistency(session, first, second)
    body = AddCheckpoint(first, tuple(proof), note).encode()
    assert httpx.post(f"{w1.url}/add-checkpoint", content=body).status_code == 200
    third = grow(app, clock, "four")
    assert cosign(app) == [f"w1.test size {third}: cosigned", f"w2.test size {third}: cosigned"]


def test_bad_witnesses_are_reported_and_block_nothing(exchange, clock, tmp_path, thread_witnesses):
    app, (w1, _w2), policy = exchange
    with app.app_context():
        log_vkey = runtime.server_keys().log.verifier_key
    liar = Flask("liar")
    liar.add_url_rule("/add-checkpoint", "add", lambda: Response("hello\n"), methods=["POST"])
    liar_witness = ThreadWitness(tmp_path / "liar", "liar.test", [log_vkey])
    liar_witness.server.app = liar  # same address and key, but it answers garbage
    stranger = thread_witnesses("stranger.test", [log_vkey])
    other_key = witness_vkey("w3.test", stranger.identity.private_key.public_key())
    dead = f"http://127.0.0.1:{free_port()}"
    unknown_log = thread_witnesses("w4.test", [])
    policy.write_text(
        f"witness w1 {w1.vkey} {w1.url}\n"
        f"witness liar {liar_witness.vkey} {liar_witness.url}\n"
        f"witness w3 {other_key} {stranger.url}\n"
        f"witness w4 {unknown_log.vkey} {unknown_log.url}\n"
        f"witness w5 {witness_vkey('w5.test', w1.identity.private_key.public_key())} {dead}\n"
        "quorum w1\n"
    )
    size = grow(app, clock, "one")
    try:
        assert cosign(app) == [
            f"w1.test size {size}: cosigned",
            f"liar.test size {size}: a bad answer: response line is not a note signature line",
            f"w3.test size {size}: answered without a cosignature by its pinned key",
            f"w4.test size {size}: refused 404: unknown log origin 'hotline-exchange.local/log'",
            f"w5.test size {size}: unreachable: ConnectError",
        ]
    finally:
        liar_witness.close()


def test_no_policy_no_cosigning(app):
    result = app.test_cli_runner().invoke(args=["admin", "cosign"])
    assert result.exit_code == 1
    assert "EXCHANGE_WITNESS_POLICY_FILE is not set" in result.output


def cosigned_at(note: str, size: int) -> bool:
    return note.split("\n")[1] == str(size) and "\u2014 w1.test " in note


def test_the_background_thread_collects_cosignatures(
    tmp_path, database_url, clock, thread_witnesses
):
    policy = tmp_path / "witnesses.policy"
    settings = {"WITNESS_POLICY_FILE": str(policy), "COSIGN_INTERVAL_SECONDS": 0.05}
    probe = create_app(app_config(tmp_path, database_url, clock))
    with probe.app_context():
        log_vkey = runtime.server_keys().log.verifier_key
        runtime.get_database().engine.dispose()
    witness = thread_witnesses("w1.test", [log_vkey])
    policy.write_text(f"witness w1 {witness.vkey} {witness.url}\nquorum w1\n")
    app = create_app(app_config(tmp_path, database_url, clock, **settings))
    try:
        size = grow(app, clock, "one", "two")
        # The thread may cosign the checkpoint at "one" before "two" lands (and until then
        # /checkpoint serves the newest one bare): wait until it has cosigned the newest.
        deadline = time.monotonic() + 30
        while not cosigned_at(note := app.test_client().get("/checkpoint").text, size):
            assert time.monotonic() < deadline, f"the thread never cosigned size {size}"
            time.sleep(0.05)
        assert note.count("\u2014 w1.test ") == 1
    finally:
        cosigner.stop_background(app)
        assert not any(thread.name == "cosigner" for thread in threading.enumerate())
        with app.app_context():
            runtime.get_database().engine.dispose()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"COSIGN_INTERVAL_SECONDS": -1}, "EXCHANGE_COSIGN_INTERVAL_SECONDS must be >= 0, got -1"),
        (
            {"COSIGN_INTERVAL_SECONDS": 5, "WITNESS_POLICY_FILE": "/nonexistent/policy"},
            "EXCHANGE_WITNESS_POLICY_FILE /nonexistent/policy:",
        ),
    ],
)
def test_bad_cosigning_settings_stop_the_app(tmp_path, database_url, clock, settings, message):
    with pytest.raises(ConfigError) as refused:
        create_app(app_config(tmp_path, database_url, clock, **settings))
    assert str(refused.value).startswith(message)
