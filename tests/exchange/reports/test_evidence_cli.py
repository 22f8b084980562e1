"""`hotline report evidence` against a live server, and `hotline report evidence-check`
offline, as a regulator runs them from the pack's VERIFY.md."""

import json
import os
import shlex
import shutil
import stat
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.protocol import note
from exchange.reports.pack import PACK_FILES
from keys.b64 import b64_encode

FILES = {"log.bundle", "figures.json", "breaches.json", "checkpoint.txt", "VERIFY.md"}


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.fixture(scope="module")
def swept(hotline, history):
    """The normal case's two missed deadlines, on record as deadline_breached entries."""
    hotline.server.admin("sweep")
    return history


@pytest.fixture(scope="module")
def pack(hotline, swept, tmp_path_factory):
    out = tmp_path_factory.mktemp("evidence") / "clipshare-pack"
    today = _today()
    written = hotline.json(
        "auditor",
        "report",
        "evidence",
        "--platform",
        "clipshare",
        "--from",
        today,
        "--to",
        today,
        "--out",
        str(out),
    )
    assert written["out"] == str(out)
    return out, written


def _log_entries(pack_dir):
    bundle = json.loads((pack_dir / "log.bundle").read_text())
    return [json.loads(text) for text in bundle["entries"]]


def test_the_pack_has_its_five_files_and_the_logs_breaches(hotline, swept, pack):
    out, written = pack
    assert set(PACK_FILES) == FILES
    assert {p.name for p in out.iterdir()} == FILES
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert {stat.S_IMODE((out / name).stat().st_mode) for name in FILES} == {0o644}
    entries = _log_entries(out)
    ignored = swept["ignored"]
    logged = [
        i
        for i, entry in enumerate(entries)
        if entry["event"] == "deadline_breached" and entry["case_id"] == ignored
    ]
    breaches = json.loads((out / "breaches.json").read_text())
    assert [b["index"] for b in breaches["breaches"]] == logged
    assert [(b["case_id"], b["deadline"]) for b in breaches["breaches"]] == [
        (ignored, "ack"),
        (ignored, "action"),
    ]
    assert written["breaches"] == 2
    assert written["size"] == len(entries)
    checkpoint = (out / "checkpoint.txt").read_text()
    assert breaches["checkpoint"]["note"] == checkpoint
    assert json.loads((out / "log.bundle").read_text())["checkpoint"] == checkpoint
    # Ids and metadata only: no case record's body (the reference the agency gave it).
    for name in FILES:
        assert "REPORT-ignored" not in (out / name).read_text()


def test_the_figures_are_those_of_report_compliance(hotline, swept, pack):
    out, _ = pack
    figures = json.loads((out / "figures.json").read_text())
    today = _today()
    compliance = hotline.json(
        "auditor",
        "report",
        "compliance",
        "--platform",
        "clipshare",
        "--from",
        today,
        "--to",
        today,
        "--as-of",
        figures["as_of"],
    )
    assert figures == compliance
    clipshare = figures["platforms"][0]
    assert clipshare["evidence"]["breach_entries"]["ack"] == 1
    assert clipshare["evidence"]["breach_entries"]["action"] == 1


def _verify_commands(out):
    """The two commands of VERIFY.md, as argument lists (its fresh --state made concrete)."""
    lines = [
        line.strip()
        for line in (out / "VERIFY.md").read_text().splitlines()
        if line.strip().startswith("hotline ")
    ]
    assert len(lines) == 2
    return [shlex.split(line)[1:] for line in lines]


def test_the_commands_of_verify_md_pass_offline(hotline, swept, pack, tmp_path):
    out, _ = pack
    audit, check = _verify_commands(out)
    assert audit[:4] == ["audit", "verify", "--bundle", "log.bundle"]
    assert check[:3] == ["report", "evidence-check", "."]
    keys = json.loads((hotline.config / "config.json").read_text())["profiles"]["auditor"][
        "log_verifier_keys"
    ]
    assert audit[audit.index("--log-key") + 1] == keys[0]
    audit[audit.index("$(mktemp -u)")] = str(tmp_path / "state.json")
    cwd = os.getcwd()
    os.chdir(out)
    try:
        verified = hotline(None, *audit, "--json")
        checked = hotline(None, *check, "--json")
    finally:
        os.chdir(cwd)
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["size"] == len(_log_entries(out))
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout) == {
        "verified": True,
        "platform": "clipshare",
        "origin": "hotline-exchange.local/log",
        "size": len(_log_entries(out)),
        "root": json.loads((out / "breaches.json").read_text())["checkpoint"]["root"],
        "breaches": 2,
    }


def test_the_check_in_words(hotline, swept, pack):
    out, _ = pack
    result = hotline("auditor", "report", "evidence-check", str(out))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f"Evidence pack {out} of clipshare verified against log hotline-exchange.local/log:"
    )
    assert lines[1:] == [
        "  2 deadline breaches, each proven in the checkpoint, none left out",
        "  the figures recomputed from the log are those of figures.json",
    ]


def _tampered(out, tmp_path, name, edit):
    copy = tmp_path / "tampered"
    shutil.copytree(out, copy)
    path = copy / name
    path.write_text(edit(path.read_text()))
    return copy


def _json_edit(change):
    def edit(text):
        document = json.loads(text)
        change(document)
        return json.dumps(document)

    return edit


def _refused(hotline, pack_dir):
    result = hotline("auditor", "report", "evidence-check", str(pack_dir))
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: the evidence pack does not verify: ")
    assert result.stderr.count("\n") == 1
    return result.stderr.removeprefix("error: the evidence pack does not verify: ").rstrip("\n")


def test_an_edited_breach_index_exits_1(hotline, swept, pack, tmp_path):
    out, written = pack
    index = json.loads((out / "breaches.json").read_text())["breaches"][1]["index"]

    def change(document):
        document["breaches"][1]["index"] = index - 1

    message = _refused(hotline, _tampered(out, tmp_path, "breaches.json", _json_edit(change)))
    assert message.startswith(
        f"breaches.json breach 1 (log index {index - 1}): the inclusion proof does not verify"
        f" against the checkpoint: inclusion proof for leaf {index - 1} of {written['size']} "
    ), message


def test_an_edited_proof_hash_exits_1(hotline, swept, pack, tmp_path):
    out, written = pack
    index = json.loads((out / "breaches.json").read_text())["breaches"][0]["index"]

    def change(document):
        document["breaches"][0]["inclusion_proof"][-1] = b64_encode(b"\x00" * 32)

    message = _refused(hotline, _tampered(out, tmp_path, "breaches.json", _json_edit(change)))
    assert message.startswith(
        f"breaches.json breach 0 (log index {index}): the inclusion proof does not verify"
        f" against the checkpoint: inclusion proof for leaf {index} of {written['size']}"
        " gives root "
    ), message


def test_an_edited_figure_exits_1(hotline, swept, pack, tmp_path):
    out, _ = pack

    def change(document):
        document["platforms"][0]["cases_received"] = 1

    message = _refused(hotline, _tampered(out, tmp_path, "figures.json", _json_edit(change)))
    assert message == (
        "figures.json differs from the figures recomputed from log.bundle at"
        " platforms[0].cases_received: 1 in the file, 2 recomputed"
    )


def test_an_edited_checkpoint_exits_1(hotline, swept, pack, tmp_path):
    out, written = pack
    size = written["size"]

    def edit(text):
        return text.replace(f"\n{size}\n", f"\n{size + 1}\n", 1)

    message = _refused(hotline, _tampered(out, tmp_path, "checkpoint.txt", edit))
    assert message == "checkpoint.txt is not the checkpoint log.bundle verified against"


def test_another_logs_key_exits_1(hotline, swept, pack):
    out, _ = pack
    impostor = note.verifier_key(
        "hotline-exchange.local/log", Ed25519PrivateKey.generate().public_key()
    )
    result = hotline(None, "report", "evidence-check", str(out), "--log-key", impostor)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(
        "error: the evidence pack does not verify: log.bundle does not verify: "
    ), result.stderr


def test_an_existing_pack_is_never_overwritten(hotline, swept, pack):
    out, _ = pack
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    today = _today()
    result = hotline(
        "auditor",
        "report",
        "evidence",
        "--platform",
        "clipshare",
        "--from",
        today,
        "--to",
        today,
        "--out",
        str(out),
    )
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: {out} exists and is not an empty directory: an evidence pack is written new,"
        " never over anything\n"
    )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".partial")]


def test_an_empty_directory_becomes_the_pack(hotline, swept, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    today = _today()
    written = hotline.json(
        "lead",
        "report",
        "evidence",
        "--platform",
        "clipshare",
        "--from",
        today,
        "--to",
        today,
        "--out",
        str(out),
    )
    assert written["breaches"] == 2
    assert {p.name for p in out.iterdir()} == FILES


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "police"], "error: police is not a platform in the log\n"),
        (["--platform", "clipshare", "--as-of", "noon"], "error: --as-of: "),
    ],
)
def test_usage_errors_exit_2(hotline, swept, tmp_path, args, message):
    out = tmp_path / "pack"
    result = hotline("auditor", "report", "evidence", *args, "--out", str(out))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(message), result.stderr
    assert not out.exists()


def test_a_directory_that_is_no_pack_exits_2(hotline, tmp_path):
    result = hotline("auditor", "report", "evidence-check", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {tmp_path} is not an evidence pack: log.bundle is missing\n"


def test_a_malformed_log_key_exits_2(hotline, swept, pack):
    out, _ = pack
    result = hotline(None, "report", "evidence-check", str(out), "--log-key", "nonsense")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: --log-key: "), result.stderr
    assert result.stderr.count("\n") == 1
