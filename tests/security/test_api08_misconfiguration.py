"""API8:2023 Security Misconfiguration: headers, caching, debug, errors, CORS.

Already covered in tests/exchange/api/test_contract.py, and not repeated here: the
security headers on JSON, created, text, HTML, 401 and 404 answers
(::test_every_answer_carries_the_security_headers), no-store on a sample of /v1 answers
(::test_api_answers_are_never_cached), HSTS over HTTPS, request ids; and a bare 500 when a
table is missing (test_problems.py::test_an_unexpected_failure_is_a_bare_500). This module
adds every other kind of answer (405, 413, 415, 400, 422, 409, 500, 503, /metrics,
/readyz, the OpenAPI description, OPTIONS), no-store on every /v1 problem, no debug mode
even when the environment asks for it, a 500 from an exception whose text is a secret,
and no CORS.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from werkzeug.exceptions import InternalServerError

from exchange import create_app, runtime
from tests.conftest import app_config
from tests.exchange.api.support import assert_problem, new_id
from tests.helpers.world import World, standard_world
from tests.security.support import signed_in, unchanged

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
SECRET = "postgresql://hotline:hunter2@database.internal/hotline"


@pytest.fixture
def failing_world(tmp_path, database_url, clock, monkeypatch) -> Iterator[World]:
    """An app with test-only routes that fail the ways code can fail, in production mode
    (TESTING off, as served), even if the environment asks Flask for debug mode."""
    monkeypatch.setenv("FLASK_DEBUG", "1")
    config = app_config(tmp_path, database_url, clock, TESTING=False)
    app = create_app(config)

    def boom() -> Any:
        raise RuntimeError(f"cannot connect to {SECRET}")

    def missing_key() -> Any:
        return {}[SECRET]

    def http_500() -> Any:
        raise InternalServerError(description=SECRET)

    def failed_write() -> Any:
        with runtime.write() as session:
            session.execute(text("INSERT INTO no_such_table VALUES ('hunter2')"))
        return {}

    for name, view in (
        ("boom", boom),
        ("missing-key", missing_key),
        ("http-500", http_500),
        ("failed-write", failed_write),
    ):
        app.add_url_rule(f"/v1/test-only/{name}", name, view, methods=["GET", "POST"])
    world = signed_in(standard_world(app, app.test_client(), clock))
    yield world
    with app.app_context():
        runtime.get_database().engine.dispose()


@pytest.mark.parametrize("name", ["boom", "missing-key", "http-500", "failed-write"])
def test_a_failure_is_a_bare_500_without_its_text(failing_world, name):
    world = failing_world
    officer = world.officials["officer-1"]
    with unchanged(world):
        response = officer.post(f"/v1/test-only/{name}", {})
        body = assert_problem(response, 500, "internal-error")
    assert set(body) == {"type", "title", "status", "request_id"}
    page = response.get_data(as_text=True)
    for leak in ("hunter2", "database.internal", "Traceback", "RuntimeError", "KeyError", 'File "'):
        assert leak not in page, leak
    assert_headers(response, name)
    assert response.headers["Cache-Control"] == "no-store"


def test_debug_mode_is_off_and_the_debugger_unreachable(app, failing_world, monkeypatch):
    """The app as served is not in debug mode; and where an environment switches Flask's
    debug flag on anyway (FLASK_DEBUG=1 in failing_world), errors above still say nothing
    and no debugger is mounted: only `flask run --debugger` would add one, which neither
    `make run` nor the development server passes."""
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    assert app.debug is False
    assert app.config["PROPAGATE_EXCEPTIONS"] is None
    assert failing_world.app.debug is True
    # The debugger answers `?__debugger__=yes` on any path; `/` itself is the front door.
    for path in ("/console", "/nowhere?__debugger__=yes&cmd=resource&f=style.css"):
        assert_problem(failing_world.client.get(path), 404, "not-found")


def assert_headers(response: Any, name: str) -> None:
    for header, value in HEADERS.items():
        assert response.headers.get(header) == value, (name, header)
    csp = response.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'"), name
    assert "frame-ancestors 'none'" in csp, name
    assert response.headers["X-Request-ID"], name
    assert "Server" not in response.headers or "Werkzeug" not in response.headers["Server"]


def other_answers(world: World) -> dict[str, Any]:
    """Every kind of answer test_contract.py does not sample."""
    officer = signed_in(world).officials["officer-1"]
    client = world.client
    headers = {**officer.headers(), "Content-Type": "application/json"}
    case, created = world.submit(officer, "clipshare")
    own_receipt = world.receipt(officer, created.get_json()["case_id"], case, "clipshare")
    return {
        "405": client.delete("/v1/cases"),
        "413": client.post("/v1/cases", data=b"x" * (2 * 1024 * 1024 + 1), headers=headers),
        "415": officer.client.post("/v1/cases", data="{}", headers=officer.headers()),
        "400": client.post("/v1/cases", data=b"{", headers=headers),
        "422": officer.post("/v1/cases", {"statement": 1}),
        "409": officer.send(own_receipt),
        "404 case": officer.get(f"/v1/cases/{new_id()}"),
        "403": officer.get("/v1/reports/compliance?from=2026-01-01&to=2026-12-31"),
        "options": client.options("/v1/cases"),
        "openapi": client.get("/v1/openapi.json"),
        "log key": client.get("/v1/log/key"),
        "metrics": client.get("/metrics"),
        "readyz": client.get("/readyz"),
        "token": client.post("/v1/token", data={"grant_type": "client_credentials"}),
    }


STATUS = {"405": 405, "413": 413, "415": 415, "400": 400, "422": 422, "409": 409, "404 case": 404}


def test_every_kind_of_answer_carries_the_security_headers(world):
    for name, response in other_answers(world).items():
        assert response.status_code == STATUS.get(name, response.status_code), name
        assert_headers(response, name)


def test_every_v1_answer_and_problem_is_no_store(world):
    for name, response in other_answers(world).items():
        if response.request.path.startswith("/v1/"):
            assert response.headers["Cache-Control"] == "no-store", name


def test_readiness_failures_carry_the_headers_too(app, world):
    with app.app_context(), runtime.get_database().engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    response = world.client.get("/readyz")
    assert_problem(response, 503, "not-ready")
    assert_headers(response, "503")


@pytest.mark.parametrize("path", ["/v1/cases", "/v1/token", "/v1/orgs", "/v1/log/checkpoint"])
def test_cors_is_not_enabled(world, path):
    """No browser origin may read the API: no Access-Control-* answer, preflight or not."""
    officer = signed_in(world).officials["officer-1"]
    origin = {"Origin": "https://evil.example"}
    preflight = world.client.options(
        path,
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    actual = world.client.get(path, headers={**origin, **officer.headers()})
    for response in (preflight, actual):
        assert not [
            k for k, _ in response.headers.items() if k.lower().startswith("access-control-")
        ]


def test_the_metrics_token_guards_metrics_when_set(tmp_path, database_url, clock):
    app = create_app(app_config(tmp_path, database_url, clock, METRICS_TOKEN="m-secret"))
    client = app.test_client()
    response = client.get("/metrics")
    assert_problem(response, 401, "unauthenticated")
    assert_headers(response, "metrics 401")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer m-secre"})
    assert_problem(wrong, 401, "unauthenticated")
    assert client.get("/metrics", headers={"Authorization": "Bearer m-secret"}).status_code == 200
    with app.app_context():
        runtime.get_database().engine.dispose()
