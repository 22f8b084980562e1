"""The operator's commands (`flask --app wsgi admin …`), through Flask's CLI runner.

Every change is on record; every refusal exits 1 with one line that says why, and
changes nothing.
"""

import json
import re
from typing import Any

import pytest

from exchange import runtime
from exchange.client import authoring
from exchange.errors import AlreadyExistsError
from exchange.protocol.key_management import code_sha256
from exchange.services import operator
from keys import Identity
from tests.exchange.api.support import assert_problem, created
from tests.helpers.world import Official

CODE = re.compile(r"Enrollment code: ([A-Z2-7]{5}(?:-[A-Z2-7]{5}){4}) ")


def admin(runner: Any, *args: str) -> Any:
    return runner.invoke(args=["admin", *args])


def ok(result: Any) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def refusal(result: Any) -> str:
    """Exit 1, and exactly one line on stderr, starting `Error: `."""
    assert result.exit_code == 1, (result.exit_code, result.output, result.exception)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    return lines[0]


def listed(runner: Any, *args: str) -> list[dict[str, Any]]:
    return json.loads(ok(admin(runner, *args, "--json")))


def test_organisations_are_created_and_listed(world, runner):
    before = world.log_size()
    assert ok(admin(runner, "org", "create", "ofcom", "--kind", "auditor", "--name", "Ofcom")) == (
        "Created auditor ofcom\n"
    )
    [entry] = world.log_entries(before)
    assert entry["event"] == "organisation_created"
    assert entry["actor"] is None
    assert entry["details"] == {"org": "ofcom", "kind": "auditor", "name": "Ofcom"}
    rows = listed(runner, "org", "list")
    assert {"id": "ofcom", "kind": "auditor", "name": "Ofcom", "active": True} in rows
    assert len(rows) == 6
    table = ok(admin(runner, "org", "list")).splitlines()
    assert table[0].split() == ["ID", "KIND", "NAME", "ACTIVE"]
    assert any(line.split()[:2] == ["ofcom", "auditor"] for line in table[1:])


def test_an_invitation_prints_a_code_that_enrolls(world, runner, client, clock):
    before = world.log_size()
    output = ok(
        admin(
            runner,
            "official",
            "invite",
            "clipshare",
            "cs-weekend",
            "--role",
            "platform_official",
            "--title",
            "Weekend duty",
            "--categories",
            "ncii,sextortion",
            "--languages",
            "en,de",
            "--contact",
            "email=weekend@clipshare.example",
        )
    )
    code = CODE.search(output).group(1)
    assert "hotline enroll" in output
    [entry] = world.log_entries(before)
    assert entry["event"] == "official_invited"
    assert entry["details"]["categories"] == ["ncii", "sextortion"]
    identity = Identity.generate()
    statement = authoring.enrollment(
        identity, "clipshare", "cs-weekend", code_sha256(code), clock()
    )
    created(client.post("/v1/enroll", json={"code": code, "statement": statement}))
    [row] = [
        r
        for r in listed(runner, "official", "list", "--org", "clipshare")
        if r["id"] == "cs-weekend"
    ]
    assert row["enrolled"] is True
    assert row["active"] is True
    assert row["title"] == "Weekend duty"
    assert row["categories"] == "ncii,sextortion"
    assert row["languages"] == ["en", "de"]
    assert row["contact"] == {"email": "weekend@clipshare.example"}
    # The operator's invitation is pending: no token, no case, until a lead approves.
    person = Official(world, "clipshare", "cs-weekend", "platform_official", identity)
    with pytest.raises(AssertionError, match="approved official"):
        person.login()
    world.approve("clipshare", "cs-weekend", "platform_official", categories=["ncii"])
    assert person.get("/v1/inbox").status_code == 200


def test_the_first_lead_is_bootstrapped_once_and_says_so_in_the_log(world, runner):
    ok(admin(runner, "org", "create", "newplat", "--kind", "platform", "--name", "New"))
    before = world.log_size()
    output = ok(
        admin(
            runner,
            "official",
            "invite",
            "newplat",
            "np-lead",
            "--role",
            "platform_lead",
            "--bootstrap-lead",
        )
    )
    assert "as the first lead of newplat" in output
    [entry] = world.log_entries(before)
    assert entry["event"] == "lead_bootstrapped"
    assert entry["actor"] is None
    assert entry["details"] == {
        "org": "newplat",
        "official": "np-lead",
        "role": "platform_lead",
        "title": "",
        "categories": [],
        "lead": True,
    }
    again = admin(
        runner,
        "official",
        "invite",
        "newplat",
        "np-2",
        "--role",
        "platform_lead",
        "--bootstrap-lead",
    )
    assert "newplat already has a lead" in refusal(again)
    assert world.log_size() == before + 1


def test_deactivation_refuses_the_officials_next_request(world, runner):
    reviewer = world.officials["cs-reviewer"]
    assert reviewer.get("/v1/inbox").status_code == 200
    before = world.log_size()
    assert ok(admin(runner, "official", "deactivate", "cs-reviewer")) == "Deactivated cs-reviewer\n"
    [entry] = world.log_entries(before)
    assert entry["event"] == "official_deactivated"
    assert entry["details"] == {"org": "clipshare", "official": "cs-reviewer"}
    assert_problem(reviewer.get("/v1/inbox"), 401, "invalid-token")
    [row] = [r for r in listed(runner, "official", "list") if r["id"] == "cs-reviewer"]
    assert row["active"] is False
    # Their routes are gone with them: new cases wait for a lead.
    assert listed(runner, "routing", "list") == []


def test_routing_is_a_leads_to_sign_and_the_operators_to_list(world, runner):
    assert admin(runner, "routing", "set", "chatter", "fraud", "ch-reviewer").exit_code == 2
    before = world.log_size()
    world.route("chatter", "fraud", "ch-reviewer")
    [entry] = world.log_entries(before)
    assert entry["event"] == "routing_signed"
    assert entry["actor"]["official"] == "ch-lead"
    assert entry["details"] == {
        "platform": "chatter",
        "category": "fraud",
        "official": "ch-reviewer",
    }
    assert listed(runner, "routing", "list", "--platform", "chatter") == [
        {"platform": "chatter", "category": "fraud", "official": "ch-reviewer"}
    ]
    assert len(listed(runner, "routing", "list")) == 2
    # A new fraud case now goes straight to the designated official.
    officer = world.officials["officer-1"]
    _, response = world.submit(officer, "chatter", category="fraud")
    case_id = response.get_json()["case_id"]
    assert officer.get(f"/v1/cases/{case_id}").get_json()["assignee"] == "ch-reviewer"


def test_keys_are_listed_and_revoked(world, runner):
    officer = world.officials["officer-1"]
    rows = listed(runner, "key", "list", "officer-1")
    assert {(r["kid"], r["use"], r["status"]) for r in rows} == {
        (officer.identity.signing_kid, "sig", "active"),
        (officer.identity.encryption_kid, "enc", "active"),
    }
    officer.headers()
    before = world.log_size()
    kid = officer.identity.signing_kid
    # `--`: a kid is base64url and may start with "-" (see the report).
    revoked = admin(runner, "key", "revoke", "--reason", "compromised", "--", kid)
    assert ok(revoked) == f"Revoked {kid}\n"
    [entry] = world.log_entries(before)
    assert entry["event"] == "key_revoked"
    assert entry["details"]["reason"] == "compromised"
    assert_problem(officer.get("/v1/cases"), 401, "invalid-token")
    statuses = {r["kid"]: r["status"] for r in listed(runner, "key", "list", "officer-1")}
    assert statuses[kid] == "revoked"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("org", "create", "clipshare", "--kind", "platform", "--name", "Again"), "exists"),
        (("org", "create", "Bad_Id", "--kind", "agency", "--name", "X"), "lowercase"),
        (("org", "create", "x", "--kind", "agency", "--name", "y" * 201), "200"),
        (("official", "invite", "nowhere", "someone", "--role", "agency_officer"), "nowhere"),
        (("official", "invite", "clipshare", "x", "--role", "agency_officer"), "role"),
        (("official", "invite", "metro-police", "cs-lead", "--role", "agency_officer"), "belongs"),
        (
            (
                "official",
                "invite",
                "clipshare",
                "x",
                "--role",
                "platform_official",
                "--categories",
                "gossip",
            ),
            "gossip",
        ),
        (("official", "deactivate", "nobody"), "nobody"),
        (("key", "revoke", "no-such-kid", "--reason", "lost"), "no key"),
    ],
)
def test_refusals_exit_1_with_one_line(world, runner, args, message):
    before = world.log_size()
    line = refusal(admin(runner, *args))
    assert message in line
    assert world.log_size() == before


def test_second_deactivation_and_revocation_are_refused(world, runner):
    ok(admin(runner, "official", "deactivate", "officer-2"))
    assert "already inactive" in refusal(admin(runner, "official", "deactivate", "officer-2"))
    kid = world.officials["officer-1"].identity.encryption_kid
    ok(admin(runner, "key", "revoke", "--reason", "lost", "--", kid))
    again = admin(runner, "key", "revoke", "--reason", "lost", "--", kid)
    assert "already revoked" in refusal(again)


def test_bad_usage_is_clicks_usage_error(runner):
    result = admin(runner, "org", "create", "x", "--kind", "bank", "--name", "X")
    assert result.exit_code == 2
    assert "Invalid value for '--kind'" in result.output


def test_the_problem_type_of_an_operator_conflict(world, runner):
    """`already-exists` is the operator's 409: the CLI prints its detail, one line."""

    with (
        world.app.app_context(),
        pytest.raises(AlreadyExistsError) as caught,
        runtime.write() as s,
    ):
        operator.create_organisation(s, world.clock(), "clipshare", "platform", "Again")
    assert (caught.value.status, caught.value.slug) == (409, "already-exists")
