"""`hotline audit checkpoint / verify / export`: exit codes 0, 1 and 2, and what they say.

Offline against bundles (through click's runner), and against a live server process (the
`hotline` command as a user runs it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.auditor.bundle import Bundle, read_bundle, write_bundle
from exchange.auditor.tree import node_range
from exchange.cli import main
from exchange.ops.devserver import LiveServer, free_port
from exchange.protocol import merkle, note
from tests.exchange.log import live
from tests.exchange.log.helpers import behind_the_back, bundle_from_database, leaf, set_leaf

HOTLINE = str(Path(sys.executable).parent / "hotline")


def hotline(*args, env=None):
    runner = CliRunner()
    return runner.invoke(main, ["audit", *map(str, args)], env=env)


@pytest.fixture
def bundle(exchange, tmp_path) -> Path:
    path = tmp_path / "bundle.json"
    write_bundle(bundle_from_database(exchange.url), path)
    return path


@pytest.fixture
def state(tmp_path) -> Path:
    return tmp_path / "state" / "audit.json"


def verify(bundle, key, state, *extra):
    return hotline("verify", "--bundle", bundle, "--log-key", key, "--state", state, *extra)


# --- offline, against bundles --------------------------------------------------------------


def test_verify_a_bundle_then_remember_it(exchange, bundle, state):
    size = len(read_bundle(bundle).entries)
    result = verify(bundle, exchange.verifier_key, state)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"Verified log hotline-exchange.local/log: {size} entries, size {size}"
    )
    assert "12 handoff statement signatures" in result.stdout
    assert "first verification of this log here" in result.stdout
    saved = json.loads(state.read_text())
    assert saved["format"] == "hotline-audit-state/v1"
    assert saved["checkpoint"] == read_bundle(bundle).checkpoint
    assert saved["verifier_keys"] == [exchange.verifier_key]

    again = verify(bundle, exchange.verifier_key, state)
    assert again.exit_code == 0, again.output
    assert f"extends the checkpoint of size {size} verified before" in again.stdout


def test_a_tampered_bundle_exits_1_naming_the_entry_and_keeps_the_state(exchange, bundle, state):
    assert verify(bundle, exchange.verifier_key, state).exit_code == 0
    saved = state.read_bytes()
    original = read_bundle(bundle)
    entries = list(original.entries)
    index = next(i for i, e in enumerate(entries) if json.loads(e)["event"] == "delivered")
    entries[index] = entries[index].replace("T09:", "T08:", 1)
    write_bundle(
        Bundle(
            original.origin,
            original.verifier_keys,
            original.checkpoint,
            entries,
            original.checkpoints,
        ),
        bundle,
    )
    result = verify(bundle, exchange.verifier_key, state)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: the log does not verify: entry {index}: ")
    assert result.stderr.rstrip().endswith("[root-mismatch]")
    assert state.read_bytes() == saved


def test_another_log_key_exits_1(bundle, state):
    other = note.verifier_key(
        "hotline-exchange.local/log", Ed25519PrivateKey.generate().public_key()
    )
    result = verify(bundle, other, state)
    assert result.exit_code == 1
    assert "the log's checkpoint does not verify" in result.stderr
    assert "[bad-checkpoint]" in result.stderr
    assert not state.exists()


def test_without_a_pinned_key_the_first_run_trusts_and_pins_the_bundles(exchange, bundle, state):
    result = hotline("verify", "--bundle", bundle, "--state", state)
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("warning: no log key pinned; trusting the key the source gives")
    assert json.loads(state.read_text())["verifier_keys"] == [exchange.verifier_key]
    again = hotline("verify", "--bundle", bundle, "--state", state)
    assert again.exit_code == 0
    assert again.stderr == ""


def test_the_state_lives_in_the_config_directory_by_default(exchange, bundle, tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    result = hotline("verify", "--bundle", bundle, "--log-key", exchange.verifier_key, env=env)
    assert result.exit_code == 0, result.output
    expected = tmp_path / "config" / "hotline" / "audit" / "hotline-exchange.local_log.json"
    assert expected.exists()
    assert f"state saved to {expected}" in result.stdout


def test_a_rollback_of_the_bundle_exits_1(exchange, bundle, state):
    assert verify(bundle, exchange.verifier_key, state).exit_code == 0
    original = read_bundle(bundle)
    older = original.checkpoints[-5]
    size = int(older.split("\n")[1])
    write_bundle(
        Bundle(original.origin, original.verifier_keys, older, original.entries[:size]), bundle
    )
    result = verify(bundle, exchange.verifier_key, state)
    assert result.exit_code == 1
    assert f"entry {size}: the log has {size} entries, but you verified" in result.stderr
    assert "[rollback]" in result.stderr


def test_checkpoint_and_export_from_a_bundle(exchange, bundle, state, tmp_path):
    first = hotline(
        "checkpoint", "--bundle", bundle, "--log-key", exchange.verifier_key, "--state", state
    )
    assert first.exit_code == 0, first.output
    assert "no earlier checkpoint verified here" in first.stdout
    assert verify(bundle, exchange.verifier_key, state).exit_code == 0
    again = hotline(
        "checkpoint", "--bundle", bundle, "--log-key", exchange.verifier_key, "--state", state
    )
    assert again.exit_code == 0
    assert "extends the checkpoint of size" in again.stdout
    out = tmp_path / "copy.json"
    exported = hotline(
        "export", "--bundle", bundle, "--log-key", exchange.verifier_key, "--out", out
    )
    assert exported.exit_code == 0, exported.output
    assert read_bundle(out) == read_bundle(bundle)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["verify"], "no profile yet: run `hotline enroll` (or `hotline init`) first; or give"),
        (["verify", "--bundle", "x.json", "--server", "http://x"], "not both"),
        (["verify", "--bundle", "missing.json"], "cannot read missing.json"),
        (["verify", "--bundle", "not-json.json"], "not-json.json is not JSON"),
        (["verify", "--bundle", "other.json"], "not a hotline-log-bundle/v1 document"),
        (
            ["checkpoint", "--bundle", "{bundle}", "--log-key", "nonsense"],
            "--log-key: verifier key is not",
        ),
    ],
)
def test_usage_problems_exit_2(bundle, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "no-profiles"))
    (tmp_path / "not-json.json").write_text("{")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    result = hotline(*[a.replace("{bundle}", str(bundle)) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_a_corrupt_state_file_exits_2(exchange, bundle, state):
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({"format": "hotline-audit-state/v1", "origin": 1}))
    result = verify(bundle, exchange.verifier_key, state)
    assert result.exit_code == 2
    assert "state fields are missing or of the wrong type" in result.stderr


# --- against a live server -------------------------------------------------------------------


def run(*args, env_extra=None):
    env = {**os.environ, "HOTLINE_PASSPHRASE": live.PASSPHRASE, **(env_extra or {})}
    return subprocess.run(
        [HOTLINE, "audit", *map(str, args)], capture_output=True, text=True, env=env, check=False
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    with LiveServer(
        root / "instance", settings={"EXCHANGE_RATE_LIMIT_ENABLED": "false"}
    ) as running:
        log_key = live.populate(running, root / "keys")
        yield running, root / "keys", log_key


def login(keys):
    return ["--key-dir", keys / "auditor", "--official", "auditor"]


def test_verify_checkpoint_and_export_against_a_live_server(server, tmp_path):
    running, keys, log_key = server
    state = tmp_path / "state.json"
    verified = run(
        "verify", "--server", running.url, *login(keys), "--log-key", log_key, "--state", state
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("Verified log hotline-exchange.local/log: ")
    assert "2 handoff statement signatures" in verified.stdout

    checkpoint = run("checkpoint", "--server", running.url, "--log-key", log_key, "--state", state)
    assert checkpoint.returncode == 0, checkpoint.stderr
    size = json.loads(state.read_text())["checkpoint"].split("\n")[1]
    assert f"extends the checkpoint of size {size} verified before" in checkpoint.stdout

    out = tmp_path / "bundle.json"
    exported = run(
        "export", "--server", running.url, *login(keys), "--log-key", log_key, "--out", out
    )
    assert exported.returncode == 0, exported.stderr
    assert (
        exported.stdout == f"Exported {size} entries of log hotline-exchange.local/log to {out}\n"
    )
    offline = run(
        "verify", "--bundle", out, "--log-key", log_key, "--state", tmp_path / "other.json"
    )
    assert offline.returncode == 0, offline.stderr


def test_entries_need_a_login(server, tmp_path):
    running, _, log_key = server
    result = run("verify", "--server", running.url, "--log-key", log_key, "--state", tmp_path / "s")
    assert result.returncode == 2
    assert "needs an access token: give --key-dir and --official" in result.stderr


def test_an_official_of_another_platform_cannot_audit(server, tmp_path):
    running, keys, log_key = server
    result = run(
        "verify",
        "--server",
        running.url,
        "--key-dir",
        keys / "ch-lead",
        "--official",
        "ch-lead",
        "--log-key",
        log_key,
        "--state",
        tmp_path / "s",
    )
    assert result.returncode == 2
    assert "a full audit needs an auditor's login" in result.stderr
    assert not (tmp_path / "s").exists()


def test_a_wrong_passphrase_exits_1(server, tmp_path):
    """A key that does not open is a failed check (1), as in every command (docs/cli.md)."""
    running, keys, log_key = server
    result = run(
        "verify",
        "--server",
        running.url,
        *login(keys),
        "--log-key",
        log_key,
        env_extra={"HOTLINE_PASSPHRASE": "wrong"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")


def test_an_unreachable_server_exits_2(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = run("checkpoint", "--server", url, "--state", tmp_path / "s")
    assert result.returncode == 2
    assert f"error: cannot reach {url}" in result.stderr


def test_a_live_log_tampered_behind_the_servers_back_exits_1(tmp_path):
    with LiveServer(
        tmp_path / "instance", settings={"EXCHANGE_RATE_LIMIT_ENABLED": "false"}
    ) as running:
        log_key = live.populate(running, tmp_path / "keys")
        state = tmp_path / "state.json"
        args = ["verify", "--server", running.url, *login(tmp_path / "keys"), "--log-key", log_key]
        assert run(*args, "--state", state).returncode == 0
        database = tmp_path / "instance" / "exchange.storage.database"
        bundle = bundle_from_database(f"sqlite:///{database}")
        index = next(i for i, e in enumerate(bundle.entries) if json.loads(e)["event"] == "receipt")
        with behind_the_back(database) as sql:
            set_leaf(
                sql, index, leaf(sql, index).replace('"state":"acknowledged"', '"state":"actioned"')
            )
        result = run(*args, "--state", state)
    # Without earlier checkpoints from the server, the frontier saved by the first run names
    # the complete subtree that holds the changed entry.
    size = len(bundle.entries)
    start, end = next(
        node_range(node) for node in merkle.root_plan(size) if node_range(node)[1] > index
    )
    assert result.returncode == 1
    assert result.stderr == (
        f"error: the log does not verify: entries {start}..{end - 1}: the entries do not hash"
        f" to the checkpoint of size {size} you verified before [root-mismatch]\n"
    )
