"""The HTTP contract: headers on every answer, and an OpenAPI 3.1 description that matches
the routes the app really has."""

import re
from typing import Any

from exchange.api import problems
from tests.exchange.api.support import new_id, submit

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Served outside the API description: the description itself, its page, the probes.
NOT_API = {
    "/v1/openapi.json",
    "/",
    "/docs",
    "/docs/init.js",
    "/docs/assets/{filename}",
    "/healthz",
    "/readyz",
    "/metrics",
}
PUBLIC_OPERATIONS = {
    ("post", "/v1/token"),
    ("post", "/v1/enroll"),
    ("post", "/v1/enroll/invitation"),
    ("get", "/v1/log/checkpoint"),
    ("get", "/v1/log/key"),
    ("get", "/checkpoint"),
    ("get", "/tile/{level}/{index}"),
}


def answers(world: Any) -> dict[str, Any]:
    """A sample of every sort of answer: JSON, created, text, HTML, problems."""
    officer = world.officials["officer-1"]
    client = world.client
    _, response = world.submit(officer, "clipshare")
    case_id = response.get_json()["case_id"]
    return {
        "created": response,
        "case": officer.get(f"/v1/cases/{case_id}"),
        "list": officer.get("/v1/cases"),
        "inbox": officer.get("/v1/inbox"),
        "directory": officer.get("/v1/orgs"),
        "checkpoint": client.get("/v1/log/checkpoint"),
        "openapi": client.get("/v1/openapi.json"),
        "not found": officer.get(f"/v1/cases/{new_id()}"),
        "unauthenticated": client.get("/v1/cases"),
        "no route": client.get("/nowhere"),
        "healthz": client.get("/healthz"),
        "docs": client.get("/docs"),
    }


STATUS = {
    "created": 201,
    "not found": 404,
    "unauthenticated": 401,
    "no route": 404,
}


def test_every_answer_carries_the_security_headers(world):
    for name, response in answers(world).items():
        assert response.status_code == STATUS.get(name, 200), name
        for header, value in SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'"), name
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], name
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP in tests


def test_api_answers_are_never_cached(world):
    for name, response in answers(world).items():
        if name in ("healthz", "docs", "no route"):
            continue
        assert response.headers["Cache-Control"] == "no-store", name


def test_https_answers_ask_for_https_from_now_on(world, client):
    response = client.get("/healthz", base_url="https://hotline.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_request_id_is_echoed_or_made(world, client):
    response = client.get("/v1/cases", headers={"X-Request-ID": "trace-42.a_b"})
    assert response.headers["X-Request-ID"] == "trace-42.a_b"
    assert response.get_json()["request_id"] == "trace-42.a_b"
    made = client.get("/v1/cases")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    assert made.get_json()["request_id"] == made.headers["X-Request-ID"]
    other = client.get("/v1/cases")
    assert other.headers["X-Request-ID"] != made.headers["X-Request-ID"]
    # Something that is not an id (or could forge a log line) is replaced, not echoed.
    for bad in ("a b", "x" * 129, "id;X-Evil=1", "\u00fcn\u00ef", ""):
        response = client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"]), bad


def test_every_problem_is_problem_json_with_a_stable_shape(world):
    for name, response in answers(world).items():
        if response.status_code < 400:
            continue
        body = response.get_json(force=True)
        assert response.mimetype == "application/problem+json", name
        assert body["type"].startswith("urn:hotline:problem:"), name
        assert body["status"] == response.status_code, name
        assert body["request_id"] == response.headers["X-Request-ID"], name


# --- the OpenAPI description -----------------------------------------------------------------


def spec_of(client: Any) -> dict[str, Any]:
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def routes(app: Any) -> dict[str, set[str]]:
    """The app's routes, in OpenAPI path syntax, with their methods (lowercase)."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        methods = {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}
        found.setdefault(path, set()).update(methods)
    return found


def test_the_description_is_openapi_3_1(client):
    spec = spec_of(client)
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] == "Hotline Exchange"
    assert spec["servers"] == [{"url": "http://hotline.test"}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_description_lists_every_route_and_nothing_else(app, client):
    spec = spec_of(client)
    described = {path: set(ops) - {"parameters"} for path, ops in spec["paths"].items()}
    served = {path: methods for path, methods in routes(app).items() if path not in NOT_API}
    assert described == served
    # And everything not described is one of the few known non-API routes.
    assert set(routes(app)) - set(described) <= NOT_API


def test_every_operation_documents_its_answers(client):
    spec = spec_of(client)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            where = (method, path)
            responses = operation["responses"]
            success = [code for code in responses if code.startswith("2")]
            assert len(success) == 1, where
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    assert set(response["content"]) == {"application/problem+json"}, where
            if where in PUBLIC_OPERATIONS:
                assert "security" not in operation, where
            else:
                assert operation["security"] == [{"bearerAuth": []}], where
                assert "401" in responses, where
            if method == "post":
                assert {"400", "413", "415", "422"} <= set(responses), where
            if "{case_id}" in path:
                assert "404" in responses, where


def test_the_problem_schema_is_described(client):
    spec = spec_of(client)
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "request_id", "errors"} <= set(
        problem["properties"]
    )
    assert set(problem["required"]) == {"type", "title", "status"}


def test_the_description_lists_every_problem_type(client):
    spec = spec_of(client)
    assert spec["x-problem-types"] == problems.catalogue()
    assert spec["x-problem-types"]["urn:hotline:problem:missing-recipient-keys"]["status"] == 422
    # Every operation's problem answers are described by the one Problem schema.
    assert spec["x-problem-types"]["urn:hotline:problem:not-found"] == {
        "status": 404,
        "title": "No such resource",
    }


def test_the_docs_page_loads_scripts_from_this_server_only(client):
    """Swagger UI renders the description (tests/docs/test_docs_page.py opens it in
    Chromium); its scripts are this server's files, never inline or from elsewhere."""
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts == [
        '<script src="/docs/assets/swagger-ui-bundle.js">',
        '<script src="/docs/init.js">',
    ]
    assert "http" not in page.replace("/v1/openapi.json", "")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy.split("style-src")[0]


def test_options_and_head_are_not_errors(client):
    response = client.options("/v1/cases")
    assert response.status_code == 200
    assert {"GET", "POST"} <= set(response.headers["Allow"].split(", "))
    assert client.head("/healthz").status_code == 200


def test_submitted_case_answers_match_their_schema(world):
    """What the description says a created handoff holds is what comes back."""
    officer = world.officials["officer-1"]
    _, statement = submit(world, officer)
    body = officer.get(f"/v1/cases/{statement['case_id']}").get_json()
    spec = spec_of(world.client)
    detail = spec["components"]["schemas"]["CaseDetail"]
    assert set(body) == set(detail["properties"])
    assert set(detail["required"]) <= set(body)
