"""Who may see and change what: every role, every endpoint, own and other organisation.

A case the caller may not see is a 404 whose problem is the same, field for field, as the
one for a case that never existed; and a refused request appends nothing to the log.
"""

from typing import Any

import pytest

from exchange.client import authoring
from exchange.protocol import envelope as env
from schemas.common import format_utc
from tests.exchange.api.support import (
    assert_problem,
    assignment,
    created,
    new_id,
    without_request_id,
)
from tests.helpers.world import Official, World, statement_of
from tests.schemas import examples

OFFICIALS = (
    "officer-1",
    "officer-2",
    "caseworker-1",
    "cs-reviewer",
    "cs-lead",
    "ch-reviewer",
    "ch-lead",
    "auditor-1",
)
# Which of the three cases (see `cases`) each official may see.
VISIBLE = {
    "officer-1": {"routed", "queued"},
    "officer-2": {"routed", "queued"},
    "caseworker-1": {"helpline"},
    "cs-reviewer": {"routed"},
    "cs-lead": {"routed", "queued"},
    "ch-reviewer": {"helpline"},
    "ch-lead": {"helpline"},
    "auditor-1": {"routed", "queued", "helpline"},
}
PUBLIC_ROUTES = {
    "/v1/token",
    "/v1/enroll",
    "/v1/enroll/invitation",
    "/v1/log/checkpoint",
    "/v1/log/key",
    "/v1/openapi.json",
    "/healthz",
    "/readyz",
    "/",
    "/docs",
    "/docs/init.js",
    "/docs/assets/<path:filename>",
    "/metrics",  # guarded by its own METRICS_TOKEN when one is configured
    "/static/<path:filename>",
    "/checkpoint",  # the public tlog-tiles read API: sizes and hashes only
    "/tile/<level>/<path:index>",
}


def cases(world: World) -> dict[str, Any]:
    """A routed case and a queued one at clipshare, and a helpline case at chatter."""
    world.route("chatter", "fraud", "ch-reviewer")
    officer = world.officials["officer-1"]
    sent = {
        "routed": world.seal_case(officer, "clipshare"),
        "queued": world.seal_case(officer, "clipshare", category="ncii"),
        "helpline": world.seal_case(
            world.officials["caseworker-1"], "chatter", category="fraud", issuer_case_ref="H-1"
        ),
    }
    for name, sealed in sent.items():
        sender = world.officials["caseworker-1" if name == "helpline" else "officer-1"]
        created(sender.send(sealed))
    return sent


def case_id(sealed: Any) -> str:
    return statement_of(sealed)["case_id"]


def platform_of(name: str) -> str:
    return "chatter" if name == "helpline" else "clipshare"


def agency_of(name: str) -> str:
    return "helpline" if name == "helpline" else "metro-police"


def attempt(world: World, person: Official, target: Any, name: str) -> Any:
    """A handoff `person` might plausibly send on the case: a withdrawal or a receipt."""
    statement = statement_of(target)
    return _handoff(world, person, statement["case_id"], statement["handoff_id"], name, statement)


def attempt_on_missing(world: World, person: Official, name: str) -> Any:
    statement = {"record_sha256": examples.digest("nothing")}
    return _handoff(world, person, new_id(), new_id(), name, statement)


def _handoff(
    world: World,
    person: Official,
    case: str,
    in_reply_to: str,
    name: str,
    statement: dict[str, Any],
) -> Any:
    if person.role == "agency_officer":
        return world.reply(
            person,
            case,
            "withdrawal",
            in_reply_to,
            platform_of(name),
            body=examples.withdrawal_body(),
        )
    meta = {
        "handoff_id": in_reply_to,
        "record_sha256": statement["record_sha256"],
        "received_at": format_utc(world.clock()),
    }
    return world.reply(person, case, "receipt", in_reply_to, agency_of(name), meta=meta)


@pytest.mark.parametrize("official_id", OFFICIALS)
def test_a_case_is_visible_exactly_to_its_parties(world, official_id):
    sent = cases(world)
    person = world.officials[official_id]
    missing = assert_problem(person.get(f"/v1/cases/{new_id()}"), 404, "not-found")
    for name, sealed in sent.items():
        before = world.log_size()
        response = person.get(f"/v1/cases/{case_id(sealed)}")
        if name in VISIBLE[official_id]:
            assert response.status_code == 200, (name, response.get_json())
            detail = response.get_json()
            assert detail["case_id"] == case_id(sealed)
            if person.role == "auditor":
                assert all("jwe" not in entry for entry in detail["timeline"])
                assert detail["timeline"][0]["statement"] == sealed.statement
                assert world.log_size() == before  # auditors read; nothing is delivered
            else:
                assert detail["timeline"][0]["jwe"] == sealed.jwe
        else:
            problem = assert_problem(response, 404, "not-found")
            assert without_request_id(problem) == without_request_id(missing), name
            assert world.log_size() == before

    listed = {c["case_id"] for c in person.get("/v1/cases?limit=100").get_json()["cases"]}
    assert listed == {case_id(sent[name]) for name in VISIBLE[official_id]}


@pytest.mark.parametrize("official_id", [o for o in OFFICIALS if o != "auditor-1"])
def test_nobody_changes_a_case_they_may_not_see(world, official_id):
    sent = cases(world)
    person = world.officials[official_id]
    missing = assert_problem(
        person.send(attempt_on_missing(world, person, "routed")), 404, "not-found"
    )
    for name, sealed in sent.items():
        if name in VISIBLE[official_id]:
            continue
        before = world.log_size()
        problem = assert_problem(
            person.send(attempt(world, person, sealed, name)), 404, "not-found"
        )
        assert without_request_id(problem) == without_request_id(missing), name
        assert world.log_size() == before
        assert world.officials["auditor-1"].get(f"/v1/cases/{case_id(sealed)}").get_json()[
            "state"
        ] in ("submitted", "delivered")


@pytest.mark.parametrize("official_id", OFFICIALS)
def test_an_inbox_holds_only_the_callers_cases(world, official_id):
    sent = cases(world)
    person = world.officials[official_id]
    response = person.get("/v1/inbox")
    if person.role == "auditor":
        assert_problem(response, 403, "forbidden")
        return
    expected = {case_id(sent[name]) for name in VISIBLE[official_id]}
    if person.role == "agency_officer":
        expected = set()  # nothing was answered yet
    assert {item["case"]["case_id"] for item in response.get_json()["items"]} == expected


def test_an_auditor_reads_but_never_acts(world):
    sent = cases(world)
    auditor = world.officials["auditor-1"]
    before = world.log_size()
    for sealed in sent.values():
        detail = auditor.get(f"/v1/cases/{case_id(sealed)}").get_json()
        assert [set(entry) for entry in detail["timeline"]] == [
            {
                "handoff_id",
                "kind",
                "sender",
                "in_reply_to",
                "issued_at",
                "received_at",
                "state_after",
                "log_index",
                "statement",
            }
        ]
        # The auditor signs a statement as if it were a case party: refused by role.
        statement = statement_of(sealed)
        forged = world.reply(
            auditor,
            statement["case_id"],
            "receipt",
            statement["handoff_id"],
            "metro-police",
            meta={
                "handoff_id": statement["handoff_id"],
                "record_sha256": statement["record_sha256"],
                "received_at": format_utc(world.clock()),
            },
        )
        assert_problem(auditor.send(forged), 403, "forbidden")
    # Forbidden by role whether or not the case exists: nothing to tell them apart.
    missing = attempt_on_missing(world, world.officials["cs-lead"], "routed")
    response = auditor.post(f"/v1/cases/{new_id()}/handoffs", missing.to_json())
    assert_problem(response, 403, "forbidden")
    assert_problem(auditor.post("/v1/cases", sent["routed"].to_json()), 403, "forbidden")
    assert_problem(auditor.get("/v1/inbox"), 403, "forbidden")
    assert world.log_size() == before


@pytest.mark.parametrize("official_id", ["cs-reviewer", "cs-lead", "auditor-1"])
def test_only_agency_officers_submit_cases(world, official_id):
    person = world.officials[official_id]
    record = world.case_record(person, "chatter")

    sealed = env.seal(record, person.identity.signing_key, world.keys_of("chatter", person.org))
    before = world.log_size()
    assert_problem(person.post("/v1/cases", sealed.to_json()), 403, "forbidden")
    assert world.log_size() == before


def test_only_a_lead_assigns_and_only_within_its_platform(world):
    sent = cases(world)
    reviewer = world.officials["cs-reviewer"]
    before = world.log_size()
    # The platform official may see the routed case, but not hand it on.
    response = reviewer.send(assignment(world, reviewer, sent["routed"], "cs-lead"))
    assert_problem(response, 403, "forbidden")
    # An agency officer cannot assign either.
    officer = world.officials["officer-1"]
    response = officer.send(assignment(world, officer, sent["routed"], "cs-reviewer"))
    assert_problem(response, 403, "forbidden")
    # The other platform's lead does not even see the case.
    other = world.officials["ch-lead"]
    response = other.send(assignment(world, other, sent["routed"], "ch-reviewer", "chatter"))
    assert_problem(response, 404, "not-found")
    assert world.log_size() == before


def test_reassignment_takes_the_case_away_from_the_previous_assignee(world):
    sent = cases(world)
    lead, reviewer = world.officials["cs-lead"], world.officials["cs-reviewer"]
    assert reviewer.get(f"/v1/cases/{case_id(sent['routed'])}").status_code == 200
    created(lead.send(assignment(world, lead, sent["routed"], "cs-lead")))
    assert_problem(reviewer.get(f"/v1/cases/{case_id(sent['routed'])}"), 404, "not-found")
    before = world.log_size()
    response = reviewer.send(attempt(world, reviewer, sent["routed"], "routed"))
    assert_problem(response, 404, "not-found")
    assert world.log_size() == before
    assert reviewer.get("/v1/cases").get_json()["cases"] == []


def test_any_officer_of_the_issuing_agency_acts_on_its_cases(world):
    sent = cases(world)
    colleague = world.officials["officer-2"]
    answer = created(colleague.send(attempt(world, colleague, sent["routed"], "routed")))
    assert answer["state"] == "withdrawn"


@pytest.mark.parametrize("official_id", OFFICIALS)
def test_the_directory_and_the_log_are_open_to_every_official(world, official_id):
    person = world.officials[official_id]
    orgs = person.get("/v1/orgs").get_json()["organisations"]
    assert {o["id"] for o in orgs} == {
        "metro-police",
        "helpline",
        "clipshare",
        "chatter",
        "regulator",
    }
    for org in orgs:
        assert person.get(f"/v1/orgs/{org['id']}").get_json() == org
        officials = person.get(f"/v1/orgs/{org['id']}/officials").get_json()["officials"]
        assert {o["id"] for o in officials} == {
            p.id for p in world.officials.values() if p.org == org["id"]
        }
        keys = person.get(f"/v1/orgs/{org['id']}/keys").get_json()["keys"]
        assert {k["kid"] for k in keys} == {
            kid
            for p in world.officials.values()
            if p.org == org["id"]
            for kid in (p.identity.signing_kid, p.identity.encryption_kid)
        }
    for path in ("/v1/orgs/nowhere", "/v1/orgs/nowhere/officials", "/v1/orgs/nowhere/keys"):
        assert_problem(person.get(path), 404, "not-found")
    size = world.log_size()
    entries = person.get(f"/v1/log/entries?start=0&end={size}").get_json()["entries"]
    assert len(entries) == size


def test_every_other_route_needs_a_token_and_logs_nothing_without_one(app, world, client):
    before = world.log_size()
    rules = [r for r in app.url_map.iter_rules() if r.rule not in PUBLIC_ROUTES]
    assert len(rules) >= 10
    for rule in rules:
        path = rule.rule.replace("<string:case_id>", new_id()).replace(
            "<string:kid>", world.officials["officer-1"].identity.signing_kid
        )
        path = path.replace("<string:org_id>", "metro-police")
        path = path.replace("<string:subscription_id>", new_id())
        assert "<" not in path, path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, json={})
            problem = assert_problem(response, 401, "invalid-token")
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert problem["detail"]
    assert world.log_size() == before


def test_a_key_of_another_official_cannot_be_revoked(world, clock):

    officer = world.officials["officer-1"]
    victim = world.officials["cs-reviewer"]
    kid = victim.identity.signing_kid
    statement = authoring.revocation(
        officer.identity.signing_key, "metro-police", "officer-1", kid, "compromised", clock()
    )
    before = world.log_size()
    response = officer.post(f"/v1/keys/{kid}/revoke", {"statement": statement})
    assert_problem(response, 404, "not-found")
    assert world.log_size() == before
    assert victim.get("/v1/orgs").status_code == 200
