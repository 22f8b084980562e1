"""The API docs page and the front door (issue 16, finding 15).

`GET /` answers what this server is; `/docs` is Swagger UI, served by the app with no
network access, rendering every operation of the OpenAPI description with its schemas,
examples and the problem types. The rendered page is checked in headless Chromium against
a real server process, and its screenshot is kept in the test's folder.
"""

import re
from pathlib import Path

import pytest

from exchange.api.problems import catalogue
from exchange.ops.devserver import LiveServer
from schemas.envelope import EnvelopeSchema
from tests.exchange.reports.page import png_summary, run_chromium


def test_15_the_front_door_says_where_to_go(client):
    response = client.get("/")
    assert response.status_code == 200
    document = response.get_json()
    assert document["service"] == "Hotline Exchange"
    assert (document["docs"], document["openapi"], document["api"]) == (
        "/docs",
        "/v1/openapi.json",
        "/v1",
    )
    assert document["health"] == {"live": "/healthz", "ready": "/readyz"}
    for path in (document["docs"], document["openapi"], document["log"]["key"]):
        assert client.get(path).status_code == 200, path


def test_15_every_operation_is_described_in_markdown_not_literal_backticks(client):
    spec = client.get("/v1/openapi.json").get_json()
    assert spec["info"]["title"] == "Hotline Exchange"
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method != "parameters" and not (operation.get("summary") or operation.get("description"))
    ]
    assert undocumented == []
    summaries = [
        operation["summary"]
        for operations in spec["paths"].values()
        for method, operation in operations.items()
        if method != "parameters" and operation.get("summary")
    ]
    assert [summary for summary in summaries if "`" in summary or "\n" in summary] == []


def test_15_the_description_lists_every_problem_type(client):
    description = client.get("/v1/openapi.json").get_json()["info"]["description"]
    for uri, entry in catalogue().items():
        row = f"| `{uri.rsplit(':', 1)[-1]}` | {entry['status']} | {entry['title']} |"
        assert row in description, uri


def test_15_the_case_example_is_a_real_envelope(client):
    spec = client.get("/v1/openapi.json").get_json()
    content = spec["paths"]["/v1/cases"]["post"]["requestBody"]["content"]["application/json"]
    EnvelopeSchema().load(content["example"])  # raises if it is not a valid envelope
    invitation = spec["paths"]["/v1/enroll/invitation"]["post"]["requestBody"]["content"]
    assert invitation["application/json"]["example"] == {"code": "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"}


def test_15_the_assets_are_served_here_and_nothing_else_of_the_folder(client):
    page = client.get("/docs").get_data(as_text=True)
    for asset in re.findall(r'(?:src|href)="(/docs/[^"]+)"', page):
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.get_data()) > 100, asset
    assert client.get("/docs/assets/swagger-ui-bundle.js").mimetype == "text/javascript"
    assert client.get("/docs/assets/LICENSE").status_code == 404
    assert client.get("/docs/assets/../../__init__.py").status_code == 404


def test_15_metrics_name_the_charset_once(client):
    content_type = client.get("/metrics").headers["Content-Type"]
    assert content_type.count("charset") == 1, content_type


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with LiveServer(tmp_path_factory.mktemp("docs") / "instance") as server:
        yield server


def test_15_the_docs_page_renders_every_operation_in_chromium(live, client, tmp_path):
    spec = client.get("/v1/openapi.json").get_json()
    # Chromium gets no network beyond this server: every asset must be served by it.
    isolated = ("--proxy-server=http://127.0.0.1:9", f"--proxy-bypass-list=127.0.0.1:{live.port}")
    dom = run_chromium(
        tmp_path / "profile",
        *isolated,
        "--virtual-time-budget=15000",
        "--dump-dom",
        f"{live.url}/docs",
    ).stdout
    assert 'class="swagger-ui' in dom
    assert "Hotline Exchange" in dom
    rendered = set(re.findall(r'data-path="([^"]+)"', dom))
    described = set(spec["paths"])
    assert described <= rendered, described - rendered
    for method in ("get", "post"):
        assert f"opblock-{method}" in dom
    # The description's markdown is rendered: the problem table, code without backticks.
    assert "<td><code>not-found</code></td>" in dom
    assert "`urn:hotline:problem:" not in dom
    assert "<code>urn:hotline:problem:&lt;slug&gt;</code>" in dom
    screenshot = Path(tmp_path) / "docs.png"
    run_chromium(
        tmp_path / "profile-shot",
        *isolated,
        "--virtual-time-budget=15000",
        "--window-size=1280,2400",
        f"--screenshot={screenshot}",
        f"{live.url}/docs",
    )
    width, height, variety = png_summary(screenshot)
    assert (width, height) == (1280, 2400)
    assert variety > 20  # a rendered page, not a blank one
    print(f"screenshot of /docs: {screenshot}")
