"""`make demo` end to end, then the database file is searched for the demo's plaintext."""

import json
import sqlite3
import subprocess
import sys

from exchange.ops.demo import PLAYED, SECRET_MARKERS
from tests.exchange.reports.page import assert_figures_match, figures_of


def test_demo_runs_and_the_server_never_stored_plaintext(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "exchange.ops.demo", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Demo complete: every step behaved as described." in result.stdout
    assert "DEMO FAILED" not in result.stderr
    database = tmp_path / "instance" / "exchange.storage.database"
    # Fold the WAL into the main file, then read every byte the server wrote.
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(
        path.read_bytes()
        for path in (tmp_path / "instance").glob("exchange.storage.database*")
        if path.is_file()
    )
    assert len(raw) > 100_000
    for marker in SECRET_MARKERS:
        assert marker.encode() not in raw, marker
    # The markers did travel: a recipient decrypted one (the demo checks it), so their absence
    # here means encryption, not a scenario that never sent them.
    assert "ok  ClipShare decrypts the answer; the server only ever held its ciphertext" in (
        result.stdout
    )
    # A lead approving an official, and the monitor reporting the change (issue 13).
    for step in (
        "ok  an official the operator alone invited is no recipient of ClipShare's cases",
        "ok  the monitor flags the operator's invitation (exit 1): no lead signed it",
        "ok  the monitor reports the approval and routing, each signed by the lead (exit 0)",
        "ok  the approved official now receives ClipShare's cases",
    ):
        assert step in result.stdout
    assert "cs-designated approved as platform_official (ncii,sexual_deepfake)" in result.stdout
    assert_compliance_report(tmp_path, result.stdout)
    # Two witnesses beside the exchange: a 2-of-2 quorum, and a split view refused.
    assert "ok  both witnesses cosign the newest checkpoint" in result.stdout
    assert "cosigned by w1, w2, the policy needs 2 of (w1, w2)" in result.stdout
    assert "ok  both witnesses refuse the forked history" in result.stdout


def assert_compliance_report(workdir, stdout):
    """The demo ends by writing the compliance report of its own scenario."""
    assert f"report: {workdir / 'compliance.html'}" in stdout
    report = json.loads((workdir / "compliance.json").read_text(encoding="utf-8"))
    totals = report["totals"]
    assert totals["cases_received"] == len(PLAYED) == 5
    assert {k: v for k, v in totals["outcomes"].items() if v} == {
        "actioned": 3,
        "not_actioned": 1,
        "withdrawn": 1,
    }
    assert totals["reason_codes"] == {"outside_territorial_scope": 1}
    assert totals["overdue"]["count"] == 0
    chatter, clipshare = report["platforms"]
    assert (chatter["platform"], chatter["cases_received"]) == ("chatter", 2)
    assert (clipshare["platform"], clipshare["cases_received"]) == ("clipshare", 3)
    # The late case (normal priority, deadlines of 3 s and 6 s) missed both; nothing else did.
    for deadline in ("acknowledgement", "action"):
        assert (chatter[deadline]["met"], chatter[deadline]["missed"]) == (1, 1)
        assert chatter[deadline]["breach_entries"] == 1
        assert (clipshare[deadline]["met"], clipshare[deadline]["released"]) == (2, 1)
        assert clipshare[deadline]["share_met"] == 1.0
    (late,) = [s for s in chatter["action"]["samples"] if s["verdict"] == "missed"]
    assert late["priority"] == "normal"
    assert late["seconds"] > late["allowed_seconds"] == 6
    assert clipshare["withdrawals"]["acknowledged"] == 1
    assert report["checkpoint"]["origin"] == "demo.hotline-exchange.local/log"
    assert report["checkpoint"]["note"].splitlines()[0] in stdout
    html = (workdir / "compliance.html").read_text(encoding="utf-8")
    figures = figures_of(html).figures
    assert len(figures) > 100
    assert_figures_match(figures, report)
