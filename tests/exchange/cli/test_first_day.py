"""A first day with `hotline`, following the README literally (issue 16): each numbered
finding of the issue has a test here, against a live server, that failed before."""

import base64
import hashlib
import json
import stat
from pathlib import Path

import click
from click.testing import CliRunner, Result

from exchange.cli import contract, main
from exchange.cli.contract import ProgressOf, progress, progress_over
from exchange.protocol.envelope.templates import template
from schemas.enums import Kind
from tests.exchange.cli.conftest import PASSPHRASE
from tests.schemas import examples


def _case_file(tmp_path: Path, name: str = "case.json", **changes: object) -> Path:
    body = examples.deepfake_case_body()
    body["issuer_case_ref"] = f"DAY-{tmp_path.name[-20:]}"
    body.update(changes)
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return path


def _send(hotline, tmp_path: Path) -> str:
    sent = hotline.json("officer", "submit", str(_case_file(tmp_path)), "--to", "clipshare")
    return str(sent["case_id"])


def _invoke(hotline, tmp_path: Path, *args: str, **env: str) -> Result:
    """`hotline` with the test's config, its own app directory, and `env` on top."""
    settings = {
        "HOTLINE_CONFIG": str(hotline.config),
        "HOTLINE_PASSPHRASE": PASSPHRASE,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "HOME": str(tmp_path / "home"),
        **env,
    }
    return CliRunner().invoke(main, list(args), env=settings)


def _response_file(tmp_path: Path) -> Path:
    path = tmp_path / "response.json"
    path.write_text(json.dumps(template(Kind.RESPONSE)["body"]))
    return path


# --- 1: a report without dates covers the case just sent ---------------------------------------


def test_1_a_report_without_dates_covers_the_last_30_days(hotline, tmp_path):
    _send(hotline, tmp_path)
    report = hotline.json("auditor", "report", "compliance", "--platform", "clipshare")
    [clipshare] = report["platforms"]
    assert clipshare["platform"] == "clipshare"
    assert clipshare["cases_received"] >= 1
    assert report["period"]["to"] > report["as_of"][:10]
    empty = hotline("auditor", "report", "compliance", "--from", "2020-01-01", "--to", "2020-01-31")
    assert empty.exit_code == 0, empty.output
    assert "No case was submitted in this period: widen it with --from and --to." in empty.stdout


# --- 6: a bundle checked after a live verify ---------------------------------------------------


def test_6_an_earlier_bundle_verifies_after_a_live_verify(hotline, tmp_path):
    bundle = tmp_path / "log-bundle.json"
    exported = _invoke(
        hotline, tmp_path, "--profile", "auditor", "audit", "export", "--out", str(bundle)
    )
    assert exported.exit_code == 0, exported.output
    _send(hotline, tmp_path)  # the log grows past the bundle
    live = _invoke(hotline, tmp_path, "--profile", "auditor", "audit", "verify")
    assert live.exit_code == 0, live.output
    log_key = json.loads((hotline.config / "config.json").read_text())["profiles"]["auditor"][
        "log_verifier_keys"
    ][0]
    offline = _invoke(
        hotline, tmp_path, "audit", "verify", "--bundle", str(bundle), "--log-key", log_key
    )
    assert offline.exit_code == 0, offline.output
    # One state file shared on purpose: the older bundle is a rollback, and the refusal
    # says where the state is and how to keep another.
    state = tmp_path / "state.json"
    args = ("--profile", "auditor", "audit", "verify", "--state", str(state))
    assert _invoke(hotline, tmp_path, *args).exit_code == 0
    rolled = _invoke(
        hotline, tmp_path, "audit", "verify", "--bundle", str(bundle), "--state", str(state)
    )
    assert rolled.exit_code == 1
    assert rolled.stderr.startswith("error: the log does not verify: ")
    assert rolled.stderr.endswith(
        f"the checkpoint verified before is kept in {state}: to check an older copy of the log"
        " (an earlier bundle), give it a state of its own with --state FILE\n"
    )


# --- 7: --json everywhere ----------------------------------------------------------------------


def _leaves(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(command, click.Group):
        return [
            leaf
            for name, sub in sorted(command.commands.items())
            for leaf in _leaves(sub, (*path, name))
        ]
    return [path]


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def test_7_every_command_takes_json():
    leaves = _leaves(main)
    assert ("audit", "verify") in leaves
    assert ("profile", "use") in leaves
    missing = [
        " ".join(path)
        for path in leaves
        if not any("--json" in param.opts for param in _command(path).params)
    ]
    assert missing == []


def test_7_audit_and_envelope_commands_print_json(hotline, tmp_path):
    verified = _invoke(hotline, tmp_path, "--profile", "auditor", "audit", "verify", "--json")
    assert verified.exit_code == 0, verified.output
    document = json.loads(verified.stdout)
    assert document["verified"] is True
    assert document["origin"] == "hotline-exchange.local/log"
    assert document["size"] > 0
    out = tmp_path / "bundle.json"
    exported = _invoke(
        hotline, tmp_path, "--profile", "auditor", "audit", "export", "--out", str(out), "--json"
    )
    assert exported.exit_code == 0, exported.output
    summary = json.loads(exported.stdout)
    assert (summary["origin"], summary["out"]) == ("hotline-exchange.local/log", str(out))
    assert summary["size"] == len(json.loads(out.read_text())["entries"]) >= document["size"]
    shown = hotline(None, "envelope", "template", "--kind", "response", "--json")
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["kind"] == "response"


# --- 8: one meaning per exit code --------------------------------------------------------------


def test_8_a_wrong_passphrase_is_exit_1_everywhere(hotline, tmp_path):
    wrong = {"HOTLINE_PASSPHRASE": "not the passphrase"}
    inbox = _invoke(hotline, tmp_path, "--profile", "reviewer", "inbox", **wrong)
    audit = _invoke(hotline, tmp_path, "--profile", "auditor", "audit", "verify", **wrong)
    assert (inbox.exit_code, audit.exit_code) == (1, 1), (inbox.output, audit.output)
    assert inbox.stderr.count("\n") == audit.stderr.count("\n") == 1


def test_8_a_bad_case_file_is_exit_2_whether_malformed_or_missing_a_field(hotline, tmp_path):
    malformed = tmp_path / "malformed.json"
    malformed.write_text("{")
    body = examples.deepfake_case_body()
    del body["category"]
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps(body))
    results = [
        hotline("officer", "submit", str(path), "--to", "clipshare")
        for path in (malformed, missing)
    ]
    assert [r.exit_code for r in results] == [2, 2]


# --- 9: errors in plain words ------------------------------------------------------------------


def test_9_a_missing_field_is_named_in_plain_words(hotline, tmp_path):
    body = examples.deepfake_case_body()
    del body["category"]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(body))
    result = hotline("officer", "submit", str(path), "--to", "clipshare")
    assert result.stderr == f"error: {path}: category is required\n"


def test_9_a_case_sent_as_a_response_is_named_a_case(hotline, tmp_path):
    case_id = _send(hotline, tmp_path)
    result = hotline("reviewer", "respond", case_id, str(_case_file(tmp_path, "again.json")))
    assert result.exit_code == 2
    assert (
        result.stderr == f"error: {tmp_path / 'again.json'}: this is a case body, not a response\n"
    )
    record = tmp_path / "record.json"
    record.write_text(json.dumps(template(Kind.CASE)))
    full = hotline("reviewer", "respond", case_id, str(record))
    assert full.stderr == f"error: {record} is a case, not a response\n"


def test_9_cases_names_the_valid_states(hotline):
    result = hotline("officer", "cases", "--state", "bogus")
    assert result.exit_code == 2
    assert "'bogus' is not one of 'submitted', 'delivered', 'acknowledged'" in result.stderr


# --- 10: what submit takes from a template; response dates -------------------------------------


def test_10_submit_uses_the_records_to_and_says_what_it_sets(hotline, tmp_path):
    record = template(Kind.CASE)
    record["to"] = ["clipshare"]
    record["body"]["issuer_case_ref"] = f"TPL-{tmp_path.name[-12:]}"
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    sent = hotline("officer", "submit", str(path), "--json")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["case_id"] != record["case_id"]
    assert sent.stderr == (
        f"note: {path}: handoff_id, case_id, issued_at, sender are set by hotline"
        " (a new case, sent by you)\n"
    )
    elsewhere = hotline("officer", "submit", str(path), "--to", "chatter")
    assert elsewhere.exit_code == 2
    assert elsewhere.stderr == f"error: {path} is addressed to clipshare, not --to chatter\n"


def test_10_a_response_dated_before_its_case_is_refused(hotline, tmp_path):
    case_id = _send(hotline, tmp_path)
    assert hotline("reviewer", "ack", case_id).exit_code == 0
    body = template(Kind.RESPONSE)["body"]
    assert body["actions_taken"][0]["at"] > "2026-01-01T00:00:00Z"
    body["actions_taken"][0]["at"] = "2026-01-01T02:00:00Z"
    path = tmp_path / "old.json"
    path.write_text(json.dumps(body))
    result = hotline("reviewer", "respond", case_id, str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: {path}: actions_taken[0].at 2026-01-01T02:00:00Z is before the case was submitted"
    )
    assert hotline("reviewer", "respond", case_id, str(_response_file(tmp_path))).exit_code == 0


# --- 11 and 12: deadlines that still run; a second inbox ---------------------------------------


def test_11_answered_and_closed_cases_show_no_running_deadline(hotline, tmp_path):
    case_id = _send(hotline, tmp_path)
    assert hotline("reviewer", "ack", case_id).exit_code == 0
    assert hotline("reviewer", "respond", case_id, str(_response_file(tmp_path))).exit_code == 0
    for profile in ("reviewer", "officer"):
        shown = hotline(profile, "show", case_id)
        assert "ack due" not in shown.stdout
        assert "  no deadline running (the case is actioned)\n" in shown.stdout
        [row] = [line for line in hotline(profile, "cases").stdout.splitlines() if case_id in line]
        assert row.split()[-2:] == ["actioned", "-"]
    assert hotline("officer", "close", case_id, "--reason", "completed").exit_code == 0
    assert "no deadline running (the case is closed)" in hotline("officer", "show", case_id).stdout


def test_12_a_second_inbox_names_the_cases_still_awaiting_acknowledgement(hotline, tmp_path):
    case_id = _send(hotline, tmp_path)
    first = hotline("reviewer", "inbox")
    assert case_id in first.stdout
    second = hotline("reviewer", "inbox")
    assert second.exit_code == 0
    assert second.stdout.startswith("Nothing new since your last inbox.\n")
    assert f"  case {case_id} still awaits acknowledgement (ack in " in second.stdout
    assert f"hotline ack {case_id[:8]}\n" in second.stdout
    assert "(nothing)" not in second.stdout


# --- 13 and 14: enroll that fails; no profile yet ---------------------------------------------


def test_13_a_failed_enroll_leaves_no_keys_behind(hotline, tmp_path):
    key_dir = tmp_path / "keys" / "newcomer"
    result = hotline(
        "newcomer",
        "enroll",
        "--server",
        hotline.server.url,
        "--code",
        "AAAAA-AAAAA-AAAAA-AAAAA-AAAAA",
        "--key-dir",
        str(key_dir),
        "--yes",
    )
    assert result.exit_code == 1
    assert not key_dir.exists()


def test_14_no_profile_says_enroll_not_passphrase(tmp_path):
    result = CliRunner().invoke(
        main, ["inbox"], env={"HOTLINE_CONFIG": str(tmp_path / "empty"), "HOTLINE_PASSPHRASE": ""}
    )
    assert result.exit_code == 2
    assert (
        result.stderr == "error: no profile yet: run `hotline enroll` (or `hotline init`) first\n"
    )


# --- 17: attachments as files, id prefixes, profiles, progress ---------------------------------


def test_17_attach_files_and_save_them_after_checking_their_digests(hotline, tmp_path):
    scan = tmp_path / "order.pdf"
    scan.write_bytes(b"%PDF-1.7 the removal order")
    sent = hotline.json(
        "officer", "submit", str(_case_file(tmp_path)), "--to", "clipshare", "--attach", str(scan)
    )
    folder = tmp_path / "saved"
    shown = hotline("reviewer", "show", sent["case_id"][:8], "--save-attachments", str(folder))
    assert shown.exit_code == 0, shown.output
    saved = folder / "order.pdf"
    assert saved.read_bytes() == scan.read_bytes()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert f"Saved attachment {saved} (SHA-256 checked)" in shown.stdout
    body = hotline.json("reviewer", "show", sent["case_id"])["timeline"][0]["record"]["body"]
    [attachment] = [a for a in body["attachments"] if a["name"] == "order.pdf"]
    assert attachment["media_type"] == "application/pdf"
    assert attachment["sha256"] == hashlib.sha256(scan.read_bytes()).hexdigest()
    assert base64.b64decode(attachment["data"]) == scan.read_bytes()


def test_17_a_unique_prefix_names_a_case_and_a_short_or_unknown_one_is_refused(hotline, tmp_path):
    case_id = _send(hotline, tmp_path)
    assert hotline.json("reviewer", "ack", case_id[:8])["case_id"] == case_id
    short = hotline("reviewer", "show", case_id[:3])
    assert short.exit_code == 2
    assert "at least its first 4 characters" in short.stderr
    unknown = hotline("reviewer", "show", "ffffffff-0000")
    assert unknown.exit_code == 2
    assert (
        unknown.stderr
        == "error: no case you may see starts with ffffffff-0000 (see `hotline cases`)\n"
    )


def test_17_profiles_are_listed_and_the_default_is_chosen(hotline, tmp_path):
    config = hotline.config / "config.json"
    saved = config.read_text()
    try:
        listed = hotline.json(None, "profile", "list")
        names = [row["profile"] for row in listed]
        assert {"officer", "reviewer", "auditor"} <= set(names)
        # The first enrolled stays the default: enrolling others did not silently change it.
        assert [row["profile"] for row in listed if row["default"]] == ["officer"]
        assert hotline(None, "profile", "use", "reviewer").exit_code == 0
        assert hotline.json(None, "whoami")["id"] == "reviewer"
        table = hotline(None, "profile", "list").stdout.splitlines()
        assert any(line.startswith("* reviewer ") for line in table)
        wrong = hotline(None, "profile", "use", "nobody")
        assert wrong.exit_code == 2
        assert wrong.stderr.startswith("error: no profile 'nobody' (profiles: ")
    finally:
        config.write_text(saved)


def test_17_progress_is_drawn_only_on_a_terminal(capsys):
    with progress(10_000, "Verifying", at_least=1) as advance:
        advance(5_000)
    assert list(progress_over(iter(range(3)), "Fetching")) == [0, 1, 2]
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_17_long_fetches_draw_a_bar_on_a_terminal(monkeypatch, capsys):
    with ProgressOf("Fetching the log", at_least=2000) as report:
        report(1000, 5000)
    assert capsys.readouterr().err == ""  # not a terminal
    monkeypatch.setattr(contract, "on_terminal", lambda: True)
    with ProgressOf("Fetching the log", at_least=2000) as report:
        report(1000, 1500)  # short work: no bar
    assert capsys.readouterr().err == ""
    with ProgressOf("Fetching the log", at_least=2000) as report:
        report(1000, 5000)
        report(5000, 5000)
    captured = capsys.readouterr()
    assert captured.out == ""
    # click draws the bar itself; off a real terminal (here) it writes its label once.
    assert captured.err == "Fetching the log\n"
