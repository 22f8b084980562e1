"""The HTTP API: blueprints, problem responses, auth, headers and the OpenAPI description."""

import re
import uuid
from typing import Any, ClassVar

from flask import Flask, Response, g, request
from flask_smorest import Api

from exchange.api import (
    cases,
    directory,
    docs_page,
    enrollment,
    inbox,
    membership,
    meta,
    notifications,
    openapi_examples,
    problems,
    reports,
    tiles,
    tokens,
    transparency,
)
from schemas.api import ProblemSchema

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


class _ProblemApi(Api):  # type: ignore[misc]
    """flask-smorest's Api, whose `default` response of every operation is what this API
    answers when no other response applies: a problem, never flask-smorest's own error
    body (which this API never sends)."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "Problem"
    DEFAULT_ERROR_RESPONSE: ClassVar[dict[str, Any]] = {
        "description": "Any other problem: 429 rate limited, 503 unavailable, 500",
        "content": {"application/problem+json": {"schema": ProblemSchema}},
    }


def _openapi_config(app: Flask) -> dict[str, Any]:
    return {
        "API_TITLE": "Hotline Exchange",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "servers": [{"url": app.config["PUBLIC_URL"]}],
            "info": {
                "description": (
                    "Signed, end-to-end encrypted takedown cases between agencies and "
                    "platforms, with a verifiable log of every handoff. Errors are RFC 9457 "
                    "problem details with type `urn:hotline:problem:<slug>`."
                )
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
    }


def _begin_request() -> None:
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if _REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex


def _finish_response(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/docs"):
        response.headers["Content-Security-Policy"] = docs_page.DOCS_CSP
    if request.path.startswith("/v1/"):
        # Case data must not linger in shared or browser caches.
        response.headers["Cache-Control"] = "no-store"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=63072000"
    return response


def init_app(app: Flask) -> None:
    app.config.update(_openapi_config(app))
    api = _ProblemApi(app)
    api.spec.components.response(api.DEFAULT_ERROR_RESPONSE_NAME, api.DEFAULT_ERROR_RESPONSE)
    app.extensions["exchange.openapi"] = api
    for blueprint in (
        tokens.blp,
        enrollment.blp,
        directory.blp,
        membership.blp,
        cases.blp,
        inbox.blp,
        transparency.blp,
        notifications.blp,
    ):
        api.register_blueprint(blueprint)
    api.register_blueprint(reports.blp)
    api.register_blueprint(tiles.blp)  # public tlog-tiles, outside /v1
    app.register_blueprint(meta.blp)
    app.register_blueprint(docs_page.blp)
    problems.init_app(app)  # after Api(), so its handlers replace flask-smorest's
    openapi_examples.init_api(api)  # after every blueprint: it adds to their operations
    app.before_request(_begin_request)
    app.after_request(_finish_response)
