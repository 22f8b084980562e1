"""API9:2023 Improper Inventory Management: the description is the API, no more, no less.

Already covered in tests/exchange/api/test_contract.py, and not repeated here: every route
is described and every described path is a route (::test_the_description_lists_every_
route_and_nothing_else), each operation's security, 401 and problem content type
(::test_every_operation_documents_its_answers), the problem catalogue. This module adds:
the routes left out of the description are exactly the operational ones, each documented
in docs/deployment.md; the `default` answer of every operation is the problem this API
really sends; and the 401/403/404/422 answers each route really gives are listed by it.
The fuzzer (fuzzing.py) holds every other answer it provokes to the same rule.
"""

import re
from pathlib import Path
from typing import Any

from tests.exchange.api.support import new_id, submit
from tests.security.support import signed_in

DEPLOYMENT = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
OPERATIONAL = {
    "/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/docs/init.js",
    "/docs/assets/{filename}",
    "/v1/openapi.json",
}


def spec_of(client: Any) -> dict[str, Any]:
    return client.get("/v1/openapi.json").get_json()


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_only_operational_routes_are_left_out_and_each_is_documented(app, client):
    described = set(spec_of(client)["paths"])
    served = {openapi_path(r.rule) for r in app.url_map.iter_rules() if r.endpoint != "static"}
    assert served - described == OPERATIONAL
    guide = DEPLOYMENT.read_text()
    for path in sorted(OPERATIONAL):
        assert f"`GET {path}`" in guide, path


def test_the_default_answer_is_the_problem_this_api_sends(client):
    spec = spec_of(client)
    default = spec["components"]["responses"]["Problem"]
    assert default["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    assert "Error" not in spec["components"]["schemas"]  # flask-smorest's, never sent
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                assert operation["responses"]["default"] == {
                    "$ref": "#/components/responses/Problem"
                }, (method, path)


def _documented(spec: dict[str, Any], method: str, path: str) -> set[str]:
    return set(spec["paths"][path][method]["responses"]) - {"default"}


def test_every_refusal_a_route_gives_is_listed_by_it(world, clock):
    """A sample of real refusals, route by route: 401, 403, 404 and 422 wherever they
    happen, each must be a response the operation lists itself."""
    officer = world.officials["officer-1"]
    _, statement = submit(world, officer)
    signed_in(world)
    auditor, lead = world.officials["auditor-1"], world.officials["cs-lead"]
    client = world.client
    case = statement["case_id"]
    kid = officer.identity.signing_kid
    code = world.invite("metro-police", "officer-9", "agency_officer")
    seen: list[tuple[str, str, Any]] = [
        ("post", "/v1/cases", auditor.post("/v1/cases", {})),
        ("post", "/v1/cases/{case_id}/handoffs", auditor.post(f"/v1/cases/{case}/handoffs", {})),
        ("get", "/v1/inbox", auditor.get("/v1/inbox")),
        ("get", "/v1/reports/compliance", officer.get("/v1/reports/compliance")),
        ("post", "/v1/enroll/invitation", client.post("/v1/enroll/invitation", json={"code": "X"})),
        (
            "post",
            "/v1/enroll",
            client.post("/v1/enroll", json={"code": code + "x", "statement": "a.b.c"}),
        ),
        ("get", "/v1/cases/{case_id}", lead.get(f"/v1/cases/{new_id()}")),
        ("get", "/v1/orgs/{org_id}", lead.get("/v1/orgs/nowhere")),
        ("get", "/v1/orgs/{org_id}/officials", lead.get("/v1/orgs/nowhere/officials")),
        ("get", "/v1/orgs/{org_id}/keys", lead.get("/v1/orgs/nowhere/keys")),
        (
            "post",
            "/v1/keys/{kid}/revoke",
            lead.post(f"/v1/keys/{kid}/revoke", {"statement": "a.b.c"}),
        ),
        (
            "get",
            "/v1/log/proof/inclusion",
            lead.get("/v1/log/proof/inclusion?index=0&tree_size=999"),
        ),
        ("get", "/v1/log/proof/consistency", lead.get("/v1/log/proof/consistency?old=1&new=1")),
        ("post", "/v1/cases/{case_id}/handoffs", lead.post(f"/v1/cases/{new_id()}/handoffs", {})),
        ("post", "/v1/token", client.post("/v1/token", data={"x": "1"})),
        ("post", "/v1/keys/rotate", lead.post("/v1/keys/rotate", {"x": 1})),
        ("get", "/v1/cases", lead.get("/v1/cases?x=1")),
        ("get", "/v1/log/entries", lead.get("/v1/log/entries?x=1")),
    ]
    spec = spec_of(client)
    statuses = set()
    for method, path, response in seen:
        status = str(response.status_code)
        statuses.add(status)
        assert status in _documented(spec, method, path), (method, path, status)
    # Every secured operation answers 401 without a token, and says so.
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters" or "security" not in operation:
                continue
            concrete = path.replace("{case_id}", case).replace("{org_id}", "clipshare")
            concrete = concrete.replace("{kid}", kid)
            response = client.open(concrete, method=method.upper(), json={})
            assert response.status_code == 401, (method, path)
            assert "401" in _documented(spec, method, path)
    assert {"403", "404", "422"} <= statuses
