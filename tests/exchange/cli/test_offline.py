"""The offline commands: keygen and envelope template / seal / open, through the real CLI."""

import json
import os
import stat
import subprocess
import sys

import pytest
from click.testing import CliRunner

from exchange.cli import main

PASSPHRASE = "a passphrase for tests"


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setenv("HOTLINE_PASSPHRASE", PASSPHRASE)
    return CliRunner()


def _invoke(runner, *args, input=None):
    return runner.invoke(main, [str(a) for a in args], input=input)


@pytest.fixture
def parties(runner, tmp_path):
    for name in ("agency", "platform", "outsider"):
        result = _invoke(runner, "keygen", "--key-dir", tmp_path / name)
        assert result.exit_code == 0, result.output
    return tmp_path


def test_keygen_writes_the_documented_files(runner, tmp_path):
    result = _invoke(runner, "keygen", "--key-dir", tmp_path / "k", "--json")
    assert result.exit_code == 0
    jwks = json.loads(result.output)
    assert [(k["crv"], k["use"]) for k in jwks["keys"]] == [("Ed25519", "sig"), ("X25519", "enc")]
    assert sorted(os.listdir(tmp_path / "k")) == [
        "encryption-key.pem",
        "public.jwks",
        "signing-key.pem",
    ]
    assert json.loads((tmp_path / "k" / "public.jwks").read_text()) == jwks
    assert stat.S_IMODE((tmp_path / "k" / "signing-key.pem").stat().st_mode) == 0o600


def test_keygen_refuses_to_overwrite(runner, tmp_path):
    assert _invoke(runner, "keygen", "--key-dir", tmp_path).exit_code == 0
    result = _invoke(runner, "keygen", "--key-dir", tmp_path)
    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    assert "already holds" in result.output


def _seal(runner, parties, record, *to):
    path = parties / "record.json"
    path.write_text(json.dumps(record))
    args = ["envelope", "seal", "--key-dir", parties / "agency", path]
    for name in to:
        args += ["--to", parties / name / "public.jwks"]
    return _invoke(runner, *args)


def test_template_seal_open_round_trip(runner, parties):
    template = _invoke(runner, "envelope", "template")
    assert template.exit_code == 0
    record = json.loads(template.output)
    sealed = _seal(runner, parties, record, "platform")
    assert sealed.exit_code == 0, sealed.output
    envelope_path = parties / "envelope.json"
    envelope_path.write_text(sealed.output)
    opened = _invoke(
        runner,
        "envelope",
        "open",
        "--key-dir",
        parties / "platform",
        "--sender",
        parties / "agency" / "public.jwks",
        "--org",
        "example-platform",
        envelope_path,
    )
    assert opened.exit_code == 0, opened.output
    assert json.loads(opened.output)["body"] == record["body"]


@pytest.mark.parametrize("kind", ["receipt", "assignment"])
def test_signed_only_kinds_are_signed_and_verified(runner, parties, kind):
    record = json.loads(_invoke(runner, "envelope", "template", "--kind", kind).output)
    sealed = _seal(runner, parties, record)
    assert sealed.exit_code == 0, sealed.output
    assert json.loads(sealed.output)["jwe"] is None
    (parties / "e.json").write_text(sealed.output)
    opened = _invoke(
        runner,
        "envelope",
        "open",
        "--key-dir",
        parties / "platform",
        "--sender",
        parties / "agency" / "public.jwks",
        parties / "e.json",
    )
    assert opened.exit_code == 0, opened.output
    assert json.loads(opened.output)["kind"] == kind


def test_open_fails_in_one_line_with_exit_1(runner, parties):
    record = json.loads(_invoke(runner, "envelope", "template").output)
    (parties / "e.json").write_text(_seal(runner, parties, record, "platform").output)
    result = _invoke(
        runner,
        "envelope",
        "open",
        "--key-dir",
        parties / "outsider",
        "--sender",
        parties / "agency" / "public.jwks",
        parties / "e.json",
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("error: unknown-recipient: ")


def test_open_with_the_wrong_sender_is_refused(runner, parties):
    record = json.loads(_invoke(runner, "envelope", "template").output)
    (parties / "e.json").write_text(_seal(runner, parties, record, "platform").output)
    result = _invoke(
        runner,
        "envelope",
        "open",
        "--key-dir",
        parties / "platform",
        "--sender",
        parties / "outsider" / "public.jwks",
        parties / "e.json",
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: unknown-signer-key: ")


def test_seal_of_an_invalid_record_is_refused(runner, parties):
    record = json.loads(_invoke(runner, "envelope", "template").output)
    record["body"]["priority"] = "whenever"
    result = _seal(runner, parties, record, "platform")
    assert result.exit_code == 1
    assert "priority" in result.output


def test_usage_errors_exit_2(runner, parties):
    record = json.loads(_invoke(runner, "envelope", "template").output)
    assert _seal(runner, parties, record).exit_code == 2  # no --to
    (parties / "bad.json").write_text("{not json")
    result = _invoke(
        runner, "envelope", "seal", "--key-dir", parties / "agency", parties / "bad.json"
    )
    assert result.exit_code == 2
    assert "is not JSON" in result.output


def test_wrong_passphrase_is_refused(runner, parties, monkeypatch):
    monkeypatch.setenv("HOTLINE_PASSPHRASE", "not the passphrase")
    record = json.loads(_invoke(runner, "envelope", "template").output)
    result = _seal(runner, parties, record, "platform")
    assert result.exit_code == 1
    assert "wrong passphrase" in result.output


def test_installed_console_script_runs(tmp_path):
    hotline = os.path.join(os.path.dirname(sys.executable), "hotline")
    result = subprocess.run(
        [hotline, "envelope", "template", "--kind", "closure"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["body"] == {"reason": "completed"}
