"""The report of a scripted history has exactly the figures worked out by hand."""

from datetime import UTC, datetime

import pytest

from exchange.reports import Period, UnknownPlatformError, compute
from tests.exchange.reports.conftest import verified_from_database
from tests.exchange.reports.scripted import AS_OF, PERIOD, expected_figures, stats


def _report(scripted, **query):
    auditor = scripted.world.officials["auditor-1"]
    response = auditor.get(
        "/v1/reports/compliance", query_string={"from": PERIOD[0], "to": PERIOD[1], **query}
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_every_figure_is_the_hand_computed_one(scripted):
    report = _report(scripted)
    expected = expected_figures(scripted)
    assert report["format"] == "hotline-compliance-report/v1"
    assert report["period"] == {"from": "2026-03-02T00:00:00Z", "to": "2026-03-16T00:00:00Z"}
    assert report["as_of"] == "2026-03-16T12:00:00Z"
    assert report["platform"] is None
    assert report["percentile_method"] == "nearest-rank"
    assert [p["platform"] for p in report["platforms"]] == ["chatter", "clipshare"]
    for got, want in zip(report["platforms"], expected["platforms"], strict=True):
        for name in want:
            assert got[name] == want[name], (got["platform"], name)
        assert got == want
    assert report["agencies"] == expected["agencies"]


def test_totals_add_the_platforms_up(scripted):
    totals = _report(scripted)["totals"]
    cases = scripted.cases
    assert totals["cases_received"] == 5
    assert totals["by_category"] == {"ncii": 1, "sexual_deepfake": 4}
    assert totals["by_priority"] == {"urgent": 2, "high": 2, "normal": 1}
    assert totals["weekly_volume"] == [
        {"week_start": "2026-03-02", "cases": 4},
        {"week_start": "2026-03-09", "cases": 1},
    ]
    ack, action = totals["acknowledgement"], totals["action"]
    # Ack times 1 200, 18 000 (clipshare) and 3 600 (chatter): nearest-rank median is the
    # 2nd of 3, p90 the 3rd.
    assert ack["time"] == stats(3, 3600, 18000, 18000)
    assert (ack["met"], ack["missed"], ack["released"], ack["pending"]) == (2, 2, 1, 0)
    assert ack["share_met"] == 0.5
    assert [s["case_id"] for s in ack["samples"]] == [cases[n] for n in "ABED"]
    assert action["time"] == stats(2, 18000, 288000, 288000)
    assert (action["met"], action["missed"], action["released"], action["pending"]) == (1, 2, 1, 1)
    assert action["share_met"] == 1 / 3
    assert (ack["breach_entries"], action["breach_entries"]) == (1, 2)
    assert totals["outcomes"]["awaiting_response"] == 2
    assert totals["declined"] == 1
    assert totals["questions_from_agencies"]["asked"] == 2
    assert totals["questions_from_agencies"]["unanswered"] == 1
    # Most overdue first: E's action was due on Friday, D's ack on Wednesday after.
    assert [c["case_id"] for c in totals["overdue"]["cases"]] == [cases["E"], cases["D"]]


def test_the_checkpoint_is_the_latest_and_covers_every_entry(scripted):
    report = _report(scripted)
    world = scripted.world
    auditor = world.officials["auditor-1"]
    note = auditor.get("/v1/log/checkpoint").get_data(as_text=True)
    checkpoint = report["checkpoint"]
    assert checkpoint["note"] == note
    assert checkpoint["size"] == world.log_size()
    assert note.split("\n")[1:3] == [str(checkpoint["size"]), checkpoint["root"]]
    assert checkpoint["origin"] == note.split("\n")[0]
    key = auditor.get("/v1/log/key").get_json()
    assert checkpoint["verifier_keys"] == [key["verifier_key"], *key["retired_verifier_keys"]]


def test_the_server_publishes_what_the_pure_computation_gives(app, scripted):
    verified = verified_from_database(app)
    pure = compute(
        verified.entries,
        checkpoint=verified.checkpoint,
        period=Period.parse(*PERIOD),
        now=AS_OF,
    )
    assert _report(scripted) == pure.to_json()


def test_one_platform(scripted):
    report = _report(scripted, platform="chatter")
    assert report["platform"] == "chatter"
    assert [p["platform"] for p in report["platforms"]] == ["chatter"]
    chatter = expected_figures(scripted)["platforms"][0]
    assert report["totals"] == {k: v for k, v in chatter.items() if k not in ("platform", "name")}
    # Agencies are seen through the selected platform's cases only.
    sent = {a["agency"]: a["cases_sent"] for a in report["agencies"]}
    assert sent == {"helpline": 0, "metro-police": 1}


def test_entries_after_as_of_do_not_count(app, scripted):
    """As of Tue 03-03 14:45: B's ack is 45 min overdue (breach logged at 14:30), A is
    actioned, A's agency question (15:00) and D, F do not exist yet."""
    verified = verified_from_database(app)
    report = compute(
        verified.entries,
        checkpoint=verified.checkpoint,
        period=Period.parse(*PERIOD),
        now=datetime(2026, 3, 3, 14, 45, tzinfo=UTC),
        platform="clipshare",
    ).to_json()
    clipshare = report["platforms"][0]
    cases = scripted.cases
    assert clipshare["cases_received"] == 3
    assert clipshare["overdue"]["count"] == 1
    (overdue,) = clipshare["overdue"]["cases"]
    assert overdue["case_id"] == cases["B"]
    assert overdue["deadlines"] == [
        {
            "deadline": "ack",
            "due_at": "2026-03-03T14:00:00Z",
            "overdue_seconds": 2700,
            "breach_logged": True,
        }
    ]
    ack = clipshare["acknowledgement"]
    assert (ack["met"], ack["missed"], ack["released"], ack["pending"]) == (1, 1, 1, 0)
    action = clipshare["action"]
    # A met; B not yet due (Fri 10:00); C released.
    assert (action["met"], action["missed"], action["released"], action["pending"]) == (1, 0, 1, 1)
    assert clipshare["questions_from_agencies"]["asked"] == 0


def test_an_unknown_platform_is_refused(app, scripted):
    verified = verified_from_database(app)
    for name in ("metro-police", "no-such-platform"):
        with pytest.raises(UnknownPlatformError, match=name):
            compute(
                verified.entries,
                checkpoint=verified.checkpoint,
                period=Period.parse(*PERIOD),
                now=AS_OF,
                platform=name,
            )


def test_a_deadline_falls_due_at_its_time(app, scripted):
    """The same entries as of Tue 03-17 09:00, when D's action is due: missed, overdue by
    0 s (the deadline is met only by an answer at or before it)."""
    verified = verified_from_database(app)
    period = Period.parse(*PERIOD)
    later = compute(
        verified.entries,
        checkpoint=verified.checkpoint,
        period=period,
        now=datetime(2026, 3, 17, 9, 0, tzinfo=UTC),
        platform="clipshare",
    ).to_json()["platforms"][0]
    action = later["action"]
    assert (action["missed"], action["pending"]) == (2, 0)
    (d,) = later["overdue"]["cases"]
    assert [m["deadline"] for m in d["deadlines"]] == ["ack", "action"]
    assert d["deadlines"][1]["overdue_seconds"] == 0
