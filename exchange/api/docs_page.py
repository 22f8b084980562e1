"""The front door: `GET /` says what this is and where to go; `/docs` is the interactive
API reference (Swagger UI) for the OpenAPI 3.1 description, served from this app.

The Swagger UI assets come from the flask-swagger-ui package (its `dist` folder), so the
page needs no network access and no CDN; the page's own script is a file of this module,
so the Content-Security-Policy allows scripts from this origin only.
"""

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, url_for
from werkzeug.exceptions import NotFound


def _swagger_ui_assets() -> Path:
    """Swagger UI's built assets, shipped inside the flask-swagger-ui wheel (not imported:
    only its files are used)."""
    spec = find_spec("flask_swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("flask-swagger-ui is not installed: pip install -e .")
    return Path(spec.origin).resolve().parent / "dist"


SWAGGER_UI_ASSETS = _swagger_ui_assets()
# Scripts and styles from this origin only; Swagger UI sets inline styles and data: icons.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)

# The assets the page uses, by name and media type: nothing else of the folder is served.
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}
# A week: the assets change only with the installed package.
_ASSET_MAX_AGE = 7 * 24 * 3600

blp = Blueprint("docs_page", __name__)

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hotline Exchange API</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" type="image/png" href="{icon}">
</head>
<body>
<noscript>This page needs JavaScript; the description itself is
<a href="{spec}">{spec}</a> (OpenAPI 3.1).</noscript>
<div id="swagger-ui"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""

# Operations are grouped by tag, in the description's order; "Try it out" calls this
# server, with the bearer token that the Authorize button takes.
_INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: %s,
    dom_id: "#swagger-ui",
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 1,
    displayRequestDuration: true,
    tryItOutEnabled: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


def _package_version() -> str:
    try:
        return version("hotline-exchange")
    except PackageNotFoundError:  # running from a tree that was never installed
        return "unknown"


@blp.get("/")
def index() -> dict[str, Any]:
    """What this server is, and where its documentation, description and probes are."""
    spec = current_app.extensions["exchange.openapi"].spec
    return {
        "service": spec.title,
        "version": _package_version(),
        "api": "/v1",
        "docs": url_for("docs_page.docs"),
        "openapi": "/v1/openapi.json",
        "log": {"checkpoint": "/v1/log/checkpoint", "key": "/v1/log/key"},
        "health": {"live": "/healthz", "ready": "/readyz"},
    }


@blp.get("/docs")
def docs() -> Response:
    """The interactive API reference: every operation, its schemas, examples and problems."""
    page = _PAGE.format(
        css=url_for("docs_page.asset", filename="swagger-ui.css"),
        icon=url_for("docs_page.asset", filename="favicon-32x32.png"),
        bundle=url_for("docs_page.asset", filename="swagger-ui-bundle.js"),
        init=url_for("docs_page.init_script"),
        spec="/v1/openapi.json",
    )
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@blp.get("/docs/assets/<path:filename>")
def asset(filename: str) -> Response:
    """One of Swagger UI's files, read once per process (no file is left open)."""
    media_type = ASSETS.get(filename)
    if media_type is None:
        raise NotFound()
    response = Response(_asset_bytes(filename), mimetype=media_type)
    response.headers["Cache-Control"] = f"public, max-age={_ASSET_MAX_AGE}"
    return response


@cache
def _asset_bytes(filename: str) -> bytes:
    return (SWAGGER_UI_ASSETS / filename).read_bytes()


@blp.get("/docs/init.js")
def init_script() -> Response:
    response = Response(_INIT % '"/v1/openapi.json"', mimetype="text/javascript")
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response
