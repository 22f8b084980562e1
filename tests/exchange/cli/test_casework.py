"""Every casework command against a live server: success, main failures, --json, exit codes."""

import json
import stat

import pytest

from exchange.protocol.envelope.templates import template
from schemas.enums import Kind
from tests.exchange.cli.conftest import live_response_body
from tests.schemas import examples


def _case_file(tmp_path, **changes):
    body = examples.deepfake_case_body()
    body["issuer_case_ref"] = f"CLI-{tmp_path.name[-20:]}"
    body.update(changes)
    path = tmp_path / "case.json"
    path.write_text(json.dumps(body))
    return path


@pytest.fixture
def case_id(hotline, tmp_path):
    sent = hotline.json("officer", "submit", str(_case_file(tmp_path)), "--to", "clipshare")
    return sent["case_id"]


def test_whoami_and_directory(hotline):
    me = hotline.json("reviewer", "whoami")
    assert (me["id"], me["org"], me["role"]) == ("reviewer", "clipshare", "platform_official")
    orgs = {o["id"] for o in hotline.json("officer", "directory")}
    assert orgs == {"police", "clipshare", "chatter", "regulator"}
    clipshare = hotline.json("officer", "directory", "clipshare")
    assert {o["id"] for o in clipshare["officials"]} == {"reviewer", "lead"}
    assert {(k["official"], k["use"]) for k in clipshare["keys"]} == {
        ("reviewer", "sig"),
        ("reviewer", "enc"),
        ("lead", "sig"),
        ("lead", "enc"),
    }
    text = hotline("officer", "directory", "clipshare")
    assert text.exit_code == 0
    assert "4 key(s), each proven registered in the log." in text.stdout


def test_a_case_from_submission_to_closure(hotline, tmp_path):
    sent = hotline.json("officer", "submit", str(_case_file(tmp_path)), "--to", "clipshare")
    case_id = sent["case_id"]
    assert sent["state"] == "submitted"
    assert sent["assignee"] == "reviewer"

    inbox = hotline.json("reviewer", "inbox", "--from-start")
    assert [(i["case"]["case_id"], i["handoff"]["kind"]) for i in inbox][-1] == (case_id, "case")

    shown = hotline.json("reviewer", "show", case_id)
    assert shown["timeline"][0]["record"]["body"]["issuer_case_ref"].startswith("CLI-")
    assert shown["case"]["state"] == "delivered"

    assert hotline.json("reviewer", "ack", case_id)["state"] == "acknowledged"
    asked = hotline.json("reviewer", "ask", case_id, "--question", "Which accounts reposted it?")
    assert asked["state"] == "needs_info"
    answered = hotline.json("officer", "supplement", case_id, "--text", "@mirror-7 and @leaks2")
    assert answered["state"] == "supplemented"

    response = tmp_path / "response.json"
    response.write_text(json.dumps(live_response_body()))
    assert hotline.json("reviewer", "respond", case_id, str(response))["state"] == "actioned"
    closed = hotline.json("officer", "close", case_id, "--reason", "completed")
    assert closed["state"] == "closed"

    timeline = hotline.json("officer", "show", case_id)["timeline"]
    assert [h["kind"] for h in timeline] == [
        "case",
        "receipt",
        "question",
        "supplement",
        "response",
        "closure",
    ]
    assert timeline[3]["record"]["body"] == {"text": "@mirror-7 and @leaks2"}


def test_show_writes_records_owner_only(hotline, case_id, tmp_path):
    out = tmp_path / "records.json"
    result = hotline("reviewer", "show", case_id, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Timeline (every signature, digest and log inclusion verified):" in result.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text())["case"]["case_id"] == case_id


def test_withdrawal_is_acknowledged_by_the_platform(hotline, case_id):
    assert hotline.json("officer", "withdraw", case_id, "--reason", "issued_in_error")["state"] == (
        "withdrawn"
    )
    assert hotline.json("reviewer", "ack", case_id)["state"] == "withdrawal_acknowledged"


def test_unrouted_case_is_assigned_by_the_lead(hotline, tmp_path):
    sent = hotline.json(
        "officer", "submit", str(_case_file(tmp_path, category="drugs")), "--to", "clipshare"
    )
    case_id = sent["case_id"]
    assert sent["assignee"] is None
    assert hotline("reviewer", "show", case_id).exit_code == 1  # not theirs: 404
    assigned = hotline.json("lead", "assign", case_id, "reviewer")
    assert assigned["kind"] == "assignment"
    assert hotline.json("reviewer", "show", case_id)["case"]["assignee"] == "reviewer"


def test_cases_lists_and_filters(hotline, case_id):
    listed = hotline.json("officer", "cases", "--category", "sexual_deepfake")
    assert case_id in {c["case_id"] for c in listed}
    assert hotline.json("officer", "cases", "--category", "fraud") == []
    table = hotline("officer", "cases")
    assert table.exit_code == 0
    assert table.stdout.splitlines()[0].split()[:3] == ["CASE", "FROM", "TO"]


def test_refusals_exit_1_with_the_problem_in_one_line(hotline, case_id, tmp_path):
    response = tmp_path / "response.json"
    response.write_text(json.dumps(live_response_body()))
    refused = hotline("reviewer", "respond", case_id, str(response))
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        "error: This kind of handoff is not allowed for this role in this state: "
    )
    assert refused.stderr.count("\n") == 1
    assert hotline("ch-lead", "show", case_id).exit_code == 1
    platform_acting_as_lead = hotline("reviewer", "assign", case_id, "lead")
    assert platform_acting_as_lead.exit_code == 1
    assert "only a platform lead assigns cases" in platform_acting_as_lead.stderr


def test_invalid_case_file_is_refused_before_sending(hotline, tmp_path):
    result = hotline(
        "officer", "submit", str(_case_file(tmp_path, priority="whenever")), "--to", "clipshare"
    )
    assert result.exit_code == 2  # a usage problem, found before anything is sent
    assert "priority" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert hotline("officer", "submit", str(broken), "--to", "clipshare").exit_code == 2


def test_a_full_record_template_is_accepted_as_a_case_file(hotline, tmp_path):
    record = template(Kind.CASE)
    record["body"]["issuer_case_ref"] = f"TPL-{tmp_path.name[-12:]}"
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    assert hotline.json("officer", "submit", str(path), "--to", "clipshare")["state"] == "submitted"


def test_unknown_platform_is_refused(hotline, tmp_path):
    result = hotline("officer", "submit", str(_case_file(tmp_path)), "--to", "nowhere")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")


def test_no_profile_and_no_server_exit_2(hotline, tmp_path):
    assert hotline("nobody", "whoami").exit_code == 2
    config = hotline.config / "config.json"
    saved = config.read_text()
    document = json.loads(saved)
    document["profiles"]["offline"] = {
        **document["profiles"]["officer"],
        "name": "offline",
        "server": "http://127.0.0.1:9",
    }
    config.write_text(json.dumps(document))
    try:
        result = hotline("offline", "whoami")
        assert result.exit_code == 2
        assert result.stderr.startswith("error: cannot reach http://127.0.0.1:9")
    finally:
        config.write_text(saved)


def test_audit_verify_with_the_profiles_pinned_key(hotline, case_id, tmp_path):
    state = tmp_path / "audit-state.json"
    verified = hotline("auditor", "audit", "verify", "--state", str(state))
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.startswith("Verified log hotline-exchange.local/log: ")
    assert verified.stderr == ""  # the profile pins the key: no trust-on-first-use warning
    again = hotline("auditor", "audit", "checkpoint", "--state", str(state))
    assert again.exit_code == 0, again.output
    assert "extends the checkpoint of size" in again.stdout
    # Another platform's lead sees only the entries of its own cases (none here) and the
    # directory's: a full audit needs an auditor.
    outsider = hotline("ch-lead", "audit", "verify", "--state", str(tmp_path / "o.json"))
    assert outsider.exit_code == 2
    assert "auditor" in outsider.stderr
