"""`hotline export-dsa` against a live server: a platform's final responses become DSA
statements of reasons that the database's schema accepts; the rest is skipped, saying why."""

import json
import stat
from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator

from schemas.dsa import schema
from tests.exchange.cli.conftest import live_response_body
from tests.schemas import examples

NOT_ACTIONED = {
    "outcome": "not_actioned",
    "actions_taken": [],
    "reason_code": "not_illegal_in_jurisdiction",
    "explanation": "The video is satire and lawful where it is hosted.",
    "automated_detection": False,
}


def _submit(hotline, tmp_path, ref, request_type="notice"):
    body = examples.deepfake_case_body()
    body["issuer_case_ref"] = ref
    body["request_type"] = request_type
    path = tmp_path / f"{ref}.json"
    path.write_text(json.dumps(body))
    return hotline.json("officer", "submit", str(path), "--to", "clipshare")["case_id"]


def _answer(hotline, tmp_path, case_id, response):
    assert hotline.json("reviewer", "ack", case_id)["state"] == "acknowledged"
    path = tmp_path / f"response-{case_id}.json"
    path.write_text(json.dumps(response))
    hotline.json("reviewer", "respond", case_id, str(path))


@pytest.fixture(scope="module")
def decided(hotline, tmp_path_factory):
    """Four cases to clipshare: a notice actioned, one not actioned, one unanswered, and an
    Art. 9 order actioned."""
    tmp_path = tmp_path_factory.mktemp("dsa")
    actioned = _submit(hotline, tmp_path, "DSA-1")
    refused = _submit(hotline, tmp_path, "DSA-2")
    waiting = _submit(hotline, tmp_path, "DSA-3")
    order = _submit(hotline, tmp_path, "DSA-4", "removal_order")
    _answer(hotline, tmp_path, actioned, live_response_body())
    _answer(hotline, tmp_path, refused, NOT_ACTIONED)
    _answer(hotline, tmp_path, order, live_response_body())
    return {"actioned": actioned, "refused": refused, "waiting": waiting, "order": order}


def _validator():
    return Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_the_platform_exports_its_restrictions_and_says_why_not_the_rest(
    hotline, decided, tmp_path
):
    out = tmp_path / "statements.json"
    summary = hotline.json("reviewer", "export-dsa", "--out", str(out))
    assert summary["out"] == str(out)
    assert summary["statements"] == 1
    skipped = {each["case_id"]: each["reason"] for each in summary["skipped"]}
    assert skipped == {
        decided["refused"]: (
            "outcome not_actioned: nothing was restricted, and a statement of reasons records"
            " a restriction (Art. 17 DSA)"
        ),
        decided["waiting"]: "no final response yet (interim answers are not decisions)",
        decided["order"]: (
            "an order under Art. 9 DSA: Art. 17(5) DSA leaves orders out of statements of reasons"
        ),
    }
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text())
    assert list(document) == ["statements"]
    [statement] = document["statements"]
    assert list(_validator().iter_errors(statement)) == []
    today = datetime.now(UTC).date()
    assert statement["puid"] == decided["actioned"]
    assert statement["application_date"] in {today.isoformat(), (today - timedelta(1)).isoformat()}
    assert statement["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert statement["decision_account"] == "DECISION_ACCOUNT_SUSPENDED"
    assert statement["source_type"] == "SOURCE_ARTICLE_16"
    assert "source_identity" not in statement
    assert statement["content_date"] == "2026-02-27"


def test_only_the_chosen_cases_and_period_are_exported(hotline, decided, tmp_path):
    out = tmp_path / "one.json"
    one = hotline.json(
        "reviewer", "export-dsa", "--out", str(out), "--case", decided["actioned"][:8]
    )
    assert (one["statements"], one["skipped"]) == (1, [])
    trusted = tmp_path / "trusted.json"
    hotline.json(
        "reviewer",
        "export-dsa",
        "--out",
        str(trusted),
        "--case",
        decided["actioned"],
        "--trusted-flagger",
        "police",
    )
    [statement] = json.loads(trusted.read_text())["statements"]
    assert statement["source_type"] == "SOURCE_TRUSTED_FLAGGER"
    later = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    none = hotline.json("reviewer", "export-dsa", "--out", str(out), "--from", later)
    assert none["statements"] == 0
    assert json.loads(out.read_text()) == {"statements": []}
    text = hotline("reviewer", "export-dsa", "--out", str(out), "--case", decided["refused"])
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines() == [
        f"Wrote 0 statement(s) of reasons to {out}.",
        f"  skipped case {decided['refused']}: outcome not_actioned: nothing was restricted,"
        " and a statement of reasons records a restriction (Art. 17 DSA)",
    ]


def test_an_agency_exports_nothing_of_a_platforms(hotline, decided, tmp_path):
    out = tmp_path / "agency.json"
    mine = hotline.json("officer", "export-dsa", "--out", str(out))
    assert (mine["statements"], mine["skipped"]) == (0, [])
    named = hotline.json("officer", "export-dsa", "--out", str(out), "--case", decided["actioned"])
    assert named["skipped"] == [
        {"case_id": decided["actioned"], "reason": "not a case of your platform"}
    ]


def test_a_bad_bound_is_a_usage_problem_in_one_line(hotline, tmp_path):
    out = tmp_path / "never.json"
    result = hotline("reviewer", "export-dsa", "--out", str(out), "--from", "yesterday")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --from 'yesterday': ")
    assert result.stderr.count("\n") == 1
    assert not out.exists()
    backwards = hotline(
        "reviewer", "export-dsa", "--out", str(out), "--from", "2026-03-02", "--to", "2026-03-01"
    )
    assert backwards.exit_code == 2
    assert backwards.stderr == "error: --to must be after --from\n"


def test_the_platforms_lead_exports_the_same_statement(hotline, decided, tmp_path):
    by_reviewer, by_lead = tmp_path / "reviewer.json", tmp_path / "lead.json"
    hotline.json("reviewer", "export-dsa", "--out", str(by_reviewer), "--case", decided["actioned"])
    hotline.json("lead", "export-dsa", "--out", str(by_lead), "--case", decided["actioned"])
    assert by_lead.read_bytes() == by_reviewer.read_bytes()
