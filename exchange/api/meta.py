"""Health, readiness and the human-readable API docs page."""

import html
from typing import Any

from flask import Blueprint, Response, current_app

from exchange import db, migrate
from exchange.api.problems import problem
from exchange.serverkeys import server_keys

blp = Blueprint("meta", __name__)


@blp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@blp.get("/readyz")
def readyz() -> Response | dict[str, Any]:
    """The database answers, its schema is current, and the log key is loaded."""
    database = db.database()
    try:
        db.ping(database)
        current = migrate.current_revision(database.engine)
    except Exception:
        return problem(
            503,
            "not-ready",
            "Not ready",
            "the database is unreachable",
            headers={"Retry-After": "5"},
        )
    head = migrate.head_revision(database.engine)
    if current != head:
        return problem(
            503,
            "not-ready",
            "Not ready",
            f"schema at {current}, code needs {head}",
            headers={"Retry-After": "30"},
        )
    return {"status": "ready", "schema": str(current), "log_key": server_keys().log.verifier_key}


@blp.get("/docs")
def docs() -> Response:
    """A plain page listing every operation of the OpenAPI description; no scripts."""
    spec = current_app.extensions["exchange.openapi"].spec.to_dict()
    rows = []
    for path, operations in sorted(spec["paths"].items()):
        for method, operation in operations.items():
            summary = html.escape(operation.get("summary") or operation.get("description", ""))
            responses = ", ".join(sorted(operation.get("responses", {})))
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code>"
                f"</td><td>{summary}</td><td>{responses}</td></tr>"
            )
    title = html.escape(spec["info"]["title"])
    page = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
        "<style>body{font:15px system-ui;margin:2em}td{padding:.3em .8em;border-bottom:1px "
        "solid #ddd;vertical-align:top}</style>"
        f"<h1>{title} {html.escape(spec['info']['version'])}</h1>"
        '<p>Machine-readable: <a href="/v1/openapi.json">/v1/openapi.json</a> (OpenAPI '
        f"{html.escape(spec['openapi'])}). Errors are RFC 9457 problem details.</p>"
        "<table><tr><th>Method</th><th>Path</th><th>What</th><th>Responses</th></tr>"
        + "".join(rows)
        + "</table></html>"
    )
    return Response(page, mimetype="text/html")
