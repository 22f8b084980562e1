"""API5:2023 Broken Function Level Authorization: who may call which operation.

Already covered elsewhere, and not repeated here: only agency officers submit cases
(tests/exchange/api/test_authorization.py::test_only_agency_officers_submit_cases); only a
lead assigns, within its platform (::test_only_a_lead_assigns_and_only_within_its_platform,
test_transitions.py::test_a_platform_official_is_forbidden_to_assign); an auditor's
receipt, case and inbox (::test_an_auditor_reads_but_never_acts); the platform neither
withdraws nor closes, the agency neither responds nor acknowledges
(test_transitions.py). This module adds: administration has no HTTP surface at all, the
auditor is refused every kind of handoff, the auditor-only report, and the operator's
commands all exist in the CLI instead.
"""

from typing import Any

import pytest

from tests.exchange.api.support import (
    assert_problem,
    assignment,
    created,
    receipt,
    response_body,
    sealed_reply,
    submit,
)
from tests.helpers.world import World, statement_of
from tests.schemas import examples
from tests.security.support import signed_in, unchanged

# Everything an HTTP client can change: the OAuth token, enrollment, one's own keys, one's
# own notification targets, cases, and an organisation's membership and routing, signed by
# its own lead (issue 13). Nothing else: organisations, the first lead and other people's
# keys are the operator's, through `flask admin`.
WRITE_OPERATIONS = {
    ("POST", "/v1/token"),
    ("POST", "/v1/enroll"),
    ("POST", "/v1/enroll/invitation"),
    ("POST", "/v1/keys/rotate"),
    ("POST", "/v1/keys/{kid}/revoke"),
    ("POST", "/v1/cases"),
    ("POST", "/v1/cases/{case_id}/handoffs"),
    ("POST", "/v1/orgs/{org_id}/membership"),
    ("POST", "/v1/subscriptions"),
    ("POST", "/v1/subscriptions/{subscription_id}/remove"),
    ("POST", "/v1/subscriptions/{subscription_id}/test"),
}
ADMIN_COMMANDS = {
    ("org", "create"),
    ("official", "invite"),
    ("official", "deactivate"),
    ("routing", "list"),  # setting it is the platform lead's (`hotline org route`)
    ("key", "revoke"),
}


def test_no_route_administers_the_exchange(app, client):
    served = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule.replace("<string:", "{").replace(">", "}")
        served |= {(m, path) for m in rule.methods - {"GET", "HEAD", "OPTIONS"}}
    assert served == WRITE_OPERATIONS
    described = {
        (method.upper(), path)
        for path, operations in client.get("/v1/openapi.json").get_json()["paths"].items()
        for method in operations
        if method not in ("get", "parameters")
    }
    assert described == WRITE_OPERATIONS
    for path in ("/v1/orgs", "/v1/orgs/clipshare", "/v1/orgs/clipshare/officials"):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            assert_problem(client.open(path, method=method, json={}), 405, "method-not-allowed")
    for path in ("/admin", "/v1/admin", "/v1/routes", "/v1/officials", "/v1/admin/orgs"):
        assert_problem(client.post(path, json={}), 404, "not-found")


def test_administration_is_in_the_cli(app):
    group = app.cli.commands["admin"]
    found = set()
    for name, command in group.commands.items():
        found |= {(name, sub) for sub in getattr(command, "commands", {})}
    assert found >= ADMIN_COMMANDS


def every_kind(world: World, case: Any) -> dict[str, Any]:
    """One well-formed handoff of each kind on an acknowledged case, by the auditor."""
    auditor = world.officials["auditor-1"]
    agency, platform = "metro-police", "clipshare"
    sealed = {
        kind: sealed_reply(world, auditor, case, kind, body, to)
        for kind, body, to in (
            ("question", examples.question_body(), agency),
            ("supplement", examples.supplement_body(), platform),
            ("response", response_body(), agency),
            ("withdrawal", examples.withdrawal_body(), platform),
            ("closure", examples.closure_body(), platform),
        )
    }
    sealed["receipt"] = receipt(world, auditor, case, agency)
    sealed["assignment"] = assignment(world, auditor, case, "cs-lead")
    sealed["case"] = world.seal_case(auditor, platform)
    return sealed


def test_an_auditor_sends_no_kind_of_handoff(world):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, _ = submit(world, officer)
    ack = receipt(world, reviewer, case, "metro-police")
    created(reviewer.send(ack))
    auditor = signed_in(world).officials["auditor-1"]
    sealed_kinds = every_kind(world, case)
    assert set(sealed_kinds) == {
        "case",
        "receipt",
        "question",
        "supplement",
        "response",
        "withdrawal",
        "closure",
        "assignment",
    }
    for kind, sealed in sealed_kinds.items():
        with unchanged(world):
            problem = assert_problem(auditor.send(sealed), 403, "forbidden")
        assert problem["detail"], kind


@pytest.mark.parametrize(
    "official_id", ["officer-1", "caseworker-1", "cs-reviewer", "cs-lead", "ch-lead"]
)
def test_the_compliance_report_is_for_auditors_only(world, official_id):
    person = signed_in(world).officials[official_id]
    with unchanged(world):
        assert_problem(
            person.get("/v1/reports/compliance?from=2026-01-01&to=2026-12-31"), 403, "forbidden"
        )
    auditor = world.officials["auditor-1"]
    assert auditor.get("/v1/reports/compliance?from=2026-01-01&to=2026-12-31").status_code == 200


def test_a_platform_official_does_not_act_as_a_lead(world):
    """Not on the case routed to them (403), nor on the queue they cannot see (404)."""
    officer = world.officials["officer-1"]
    reviewer = world.officials["cs-reviewer"]
    routed, _ = submit(world, officer)
    queued, _ = submit(world, officer, category="ncii")
    signed_in(world)
    with unchanged(world):
        for assignee in ("cs-reviewer", "cs-lead"):
            sent = reviewer.send(assignment(world, reviewer, routed, assignee))
            assert_problem(sent, 403, "forbidden")
        sent = reviewer.send(assignment(world, reviewer, queued, "cs-reviewer"))
        assert_problem(sent, 404, "not-found")
        assert_problem(
            reviewer.get(f"/v1/cases/{statement_of(queued)['case_id']}"), 404, "not-found"
        )
