"""`hotline report compliance` against a live server: verified and computed on the client."""

import json
import os
import stat
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from exchange.client.client import Client
from exchange.protocol import note
from exchange.protocol.cosignature import witness_vkey
from schemas.common import format_utc
from tests.exchange.cli.conftest import PASSPHRASE
from tests.exchange.reports.page import assert_figures_match, figures_of


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _report(hotline, profile, *options):
    today = _today()
    return hotline.json(profile, "report", "compliance", "--from", today, "--to", today, *options)


def test_the_client_computes_the_figures_from_the_verified_log(hotline, history):
    report = _report(hotline, "auditor")
    assert [p["platform"] for p in report["platforms"]] == ["chatter", "clipshare"]
    clipshare = report["platforms"][1]
    assert clipshare["name"] == "Clipshare"
    assert clipshare["cases_received"] == 2
    assert clipshare["by_priority"] == {"urgent": 1, "high": 0, "normal": 1}
    ack, action = clipshare["acknowledgement"], clipshare["action"]
    assert (ack["met"], ack["missed"], ack["time"]["count"]) == (1, 1, 1)
    assert (action["met"], action["missed"], action["time"]["count"]) == (1, 1, 1)
    assert (ack["share_met"], action["share_met"]) == (0.5, 0.5)
    assert clipshare["outcomes"]["actioned"] == 1
    assert clipshare["outcomes"]["awaiting_response"] == 1
    (overdue,) = clipshare["overdue"]["cases"]
    assert overdue["case_id"] == history["ignored"]
    assert [d["deadline"] for d in overdue["deadlines"]] == ["ack", "action"]
    assert report["agencies"][0]["agency"] == "police"
    assert report["agencies"][0]["cases_sent"] == 2
    assert report["checkpoint"]["origin"] == "hotline-exchange.local/log"


def test_the_sweeps_breach_entries_are_cross_checked(hotline, history):
    before = _report(hotline, "auditor", "--platform", "clipshare")["platforms"][0]
    # Missed by the timestamps, but no sweep has run (nothing runs one in these tests).
    assert [d["breach_logged"] for d in before["overdue"]["cases"][0]["deadlines"]] == [
        False,
        False,
    ]
    assert before["acknowledgement"]["breach_entries"] == 0
    assert before["acknowledgement"]["missed"] == 1
    hotline.server.admin("sweep")
    after = _report(hotline, "auditor", "--platform", "clipshare")["platforms"][0]
    assert [d["breach_logged"] for d in after["overdue"]["cases"][0]["deadlines"]] == [True, True]
    assert after["acknowledgement"]["breach_entries"] == 1
    assert after["action"]["breach_entries"] == 1
    assert after["acknowledgement"]["breach_entries_contradicted"] == 0
    assert after["action"]["breach_entries_contradicted"] == 0
    assert before["cases_received"] == after["cases_received"] == 2


def test_the_clients_report_is_the_servers_as_of_the_same_time(hotline, history, monkeypatch):
    """Two independent paths: the server verifies its own log and computes; the client
    fetches, verifies with its pinned key and computes. As of the same instant they agree."""
    monkeypatch.setenv("HOTLINE_CONFIG", str(hotline.config))
    with Client.from_profile("auditor", passphrase=PASSPHRASE.encode()) as auditor:
        today = _today()
        served = auditor.transport.get("/v1/reports/compliance", **{"from": today, "to": today})
    computed = _report(hotline, "auditor", "--as-of", served["as_of"])
    assert computed == served


def test_html_and_json_from_one_run(hotline, history, tmp_path):
    page = tmp_path / "compliance.html"
    report = _report(hotline, "auditor", "--html", str(page))
    html = page.read_text(encoding="utf-8")
    figures = figures_of(html).figures
    assert len(figures) > 100
    assert_figures_match(figures, report)
    umask = os.umask(0)
    os.umask(umask)
    # Identifiers and metadata only: an ordinary shareable file, not an owner-only secret.
    assert stat.S_IMODE(page.stat().st_mode) == 0o666 & ~umask
    assert f"--server {hotline.server.url}" in html


def test_human_output(hotline, history, tmp_path):
    today = _today()
    page = tmp_path / "r.html"
    result = hotline(
        "auditor", "report", "compliance", "--from", today, "--to", today, "--html", str(page)
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    day = datetime.now(UTC).date()
    assert lines[0].startswith(
        f"Cases submitted from {day:%B} {day.day}, {day.year}, 00:00:00 UTC to "
    )
    header = lines[1].split()
    assert header[:2] == ["PLATFORM", "CASES"]
    clipshare = next(line.split() for line in lines if line.startswith("clipshare"))
    assert clipshare[1] == "2"
    assert any(line.startswith("  overdue: clipshare case ") for line in lines)
    evidence = next(
        i for i, line in enumerate(lines) if line.split()[:2] == ["PLATFORM", "REMOVALS"]
    )
    assert lines[evidence].split()[:4] == ["PLATFORM", "REMOVALS", "CLAIMED", "VERIFIED"]
    assert any(line.split()[0] == "clipshare" for line in lines[evidence + 1 :])
    assert lines[-1] == f"HTML report written to {page}"
    assert page.exists()


def _korean_day(day: date) -> str:
    return f"{day.year}년 {day.month}월 {day.day}일"


def test_the_report_in_korean(hotline, history, tmp_path):
    """--locale ko: the text and the page in Korean, the figures and the JSON unchanged."""
    today = datetime.now(UTC).date()
    as_of = format_utc(datetime.now(UTC))
    period = ("--from", today.isoformat(), "--to", today.isoformat(), "--as-of", as_of)
    page = tmp_path / "ko.html"
    english = _report(hotline, "auditor", "--as-of", as_of)
    korean = hotline.json(
        "auditor", "report", "compliance", *period, "--locale", "ko", "--html", str(page)
    )
    assert korean == english  # JSON is the same in every language
    html = page.read_text(encoding="utf-8")
    assert '<html lang="ko">' in html
    assert "<h1>준수 보고서</h1>" in html
    assert_figures_match(figures_of(html).figures, korean, "ko")

    result = hotline("auditor", "report", "compliance", *period, "--locale", "ko")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    tomorrow = today + timedelta(days=1)
    assert lines[0] == (
        f"제출 기간: {_korean_day(today)} 00:00:00 UTC부터 {_korean_day(tomorrow)} 00:00:00 UTC"
        f" 전까지, 기준 시점: {_korean_day(today)} {as_of[11:19]} UTC"
    )
    assert [cell.strip() for cell in lines[1].split("  ") if cell.strip()] == [
        "플랫폼",
        "사건 수",
        "접수확인 중앙값",
        "접수확인 P90",
        "접수확인 기한준수율",
        "조치 중앙값",
        "조치 P90",
        "조치 기한준수율",
        "조치 완료",
        "조치 거부",
        "기한 초과",
    ]
    clipshare = next(line.split() for line in lines if line.startswith("clipshare"))
    assert clipshare[1] == "2"
    assert clipshare[-4:] == ["50.0%", "1", "0", "1"]  # action in time, actioned, declined, overdue
    overdue = [line for line in lines if line.startswith("  기한 초과: clipshare 사건 ")]
    assert overdue == [
        f"  기한 초과: clipshare 사건 {history['ignored']} ({overdue[0].split('(', 1)[1]}"
    ]
    assert overdue[0].split("(", 1)[1].startswith("접수 확인 기한 ")
    assert lines[-1].startswith("로그 hotline-exchange.local/log의 항목 ")


@pytest.mark.parametrize(
    ("env", "options", "first_words"),
    [
        ({"HOTLINE_LOCALE": "ko"}, [], "제출 기간:"),
        ({"LANG": "ko_KR.UTF-8"}, [], "제출 기간:"),
        ({"LC_ALL": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}, [], "제출 기간:"),
        ({"LANG": "de_DE.UTF-8"}, [], "Cases submitted"),
        ({"HOTLINE_LOCALE": "ko"}, ["--locale", "en"], "Cases submitted"),
        ({"LANG": "en_US.UTF-8"}, ["--locale", "ko_KR"], "제출 기간:"),
    ],
)
def test_the_language_comes_from_the_flag_or_the_environment(
    hotline, history, env, options, first_words
):
    today = _today()
    result = hotline(
        "auditor", "report", "compliance", "--from", today, "--to", today, *options, env=env
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(first_words)


@pytest.mark.parametrize(
    ("env", "options", "message"),
    [
        ({}, ["--locale", "xx"], "error: --locale: unknown locale 'xx'"),
        (
            {"HOTLINE_LOCALE": "fr_FR.UTF-8"},
            [],
            "error: HOTLINE_LOCALE: unknown locale 'fr_FR.UTF-8'",
        ),
    ],
)
def test_an_unknown_language_is_a_usage_error(hotline, env, options, message):
    result = hotline(
        "auditor", "report", "compliance", "--from", "2026-03-01", "--to", "2026-03-02",
        *options, "--json", env=env,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.stderr == f"{message}: the reports exist in en, ko\n"
    assert result.stdout == ""


def test_a_platform_can_compute_its_own_report_from_the_log(hotline, history):
    """The log is readable by every official: a platform can prove its own figures."""
    report = _report(hotline, "lead", "--platform", "clipshare")
    assert report["platforms"][0]["cases_received"] == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--from", "2026-03-01", "--to", "2026-13-01"], "to '2026-13-01'"),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "must end after it starts"),
        (["--from", "yesterday", "--to", "2026-03-01"], "from 'yesterday': Not a date"),
        (["--from", "2026-03-01", "--to", "2026-03-02", "--as-of", "noon"], "--as-of"),
        (["--from", "2026-03-01", "--to", "2026-03-02", "--platform", "police"], "not a platform"),
    ],
)
def test_usage_errors_exit_2(hotline, options, message):
    result = hotline("auditor", "report", "compliance", *options)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stdout == ""


def test_a_server_whose_log_does_not_match_the_pinned_key_is_refused(hotline, history):
    config_file = hotline.config / "config.json"
    original = config_file.read_text()
    config = json.loads(original)
    pinned = config["profiles"]["auditor"]["log_verifier_keys"]
    # Another log's key under the same name: the server's checkpoints do not verify with it.
    name = pinned[0].split("+", 1)[0]
    impostor = note.verifier_key(name, Ed25519PrivateKey.generate().public_key())
    config["profiles"]["auditor"]["log_verifier_keys"] = [impostor]
    config_file.write_text(json.dumps(config))
    try:
        today = _today()
        result = hotline("auditor", "report", "compliance", "--from", today, "--to", today)
    finally:
        config_file.write_text(original)
    assert result.exit_code == 1, result.output
    assert "does not verify with the pinned key" in result.stderr
    assert result.stdout == ""


def test_a_witness_policy_refuses_a_checkpoint_without_its_quorum(hotline, history, tmp_path):
    """The log is cosigned by no witness: a report that requires w1 computes nothing."""
    witness = witness_vkey("w1.test", Ed25519PrivateKey.generate().public_key())
    policy = tmp_path / "witnesses.policy"
    policy.write_text(f"witness w1 {witness}\nquorum w1\n")
    today = _today()
    result = hotline(
        "auditor",
        "report",
        "compliance",
        "--from",
        today,
        "--to",
        today,
        "--witness-policy",
        str(policy),
    )
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        "error: the log checkpoint is not witnessed: checkpoint lacks a witness quorum:"
        " cosigned by no pinned witness; the policy needs w1\n"
    )
    assert result.stdout == ""
