"""The one place where errors become RFC 9457 `application/problem+json` responses.

Every problem has a stable `type` (`urn:hotline:problem:<slug>`), a `title` that does not
change from one occurrence to the next, and a `detail` about this one. Nothing here ever
echoes an exception's text unless the exception was written to be shown (domain errors,
envelope errors); anything unexpected is a bare 500 with the request id.
"""

import json
import logging
from typing import Any, TypeVar

from flask import Flask, Response, g
from werkzeug.exceptions import HTTPException

from exchange.envelope.errors import EnvelopeError
from exchange.errors import ExchangeError

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:hotline:problem:"

log = logging.getLogger(__name__)

# Werkzeug's HTTP errors, by status: the slug and title they answer with.
_HTTP_PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "The request is malformed"),
    401: ("unauthenticated", "Authentication is required"),
    403: ("forbidden", "This official may not do this"),
    404: ("not-found", "No such resource"),
    405: ("method-not-allowed", "The method is not allowed on this resource"),
    406: ("not-acceptable", "No acceptable representation"),
    413: ("payload-too-large", "The request body exceeds the size limit"),
    415: ("unsupported-media-type", "The request body is not of a media type this accepts"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "The server failed to process the request"),
    503: ("unavailable", "The service is temporarily unavailable"),
}


class RequestValidationError(ExchangeError):
    """The body or query does not match its schema; `errors` holds the messages by field."""

    status = 422
    slug = "validation-failed"
    title = "The request does not match its schema"


class MalformedJSONError(ExchangeError):
    status = 400
    slug = "malformed-json"
    title = "The request body is not valid JSON"


class JSONTooDeepError(MalformedJSONError):
    slug = "json-too-deep"
    title = "The request body's JSON is nested too deeply"


class UnsupportedMediaTypeError(ExchangeError):
    status = 415
    slug = "unsupported-media-type"
    title = _HTTP_PROBLEMS[415][1]


def problem_type(slug: str) -> str:
    return PROBLEM_TYPE_PREFIX + slug


E = TypeVar("E", bound=Exception)


def _family(cls: type[E]) -> list[type[E]]:
    """The class and all its subclasses, however deep."""
    found = [cls]
    for sub in cls.__subclasses__():
        found += _family(sub)
    return found


def catalogue() -> dict[str, dict[str, Any]]:
    """Every problem type this API defines, by type URI: its status and its title.

    Published in the OpenAPI description as `x-problem-types`, so that a client can
    handle each cause without parsing prose.
    """
    entries: dict[str, tuple[int, str]] = {
        slug: (status, title) for status, (slug, title) in _HTTP_PROBLEMS.items()
    }
    entries["not-ready"] = (503, "Not ready")
    for error in _family(ExchangeError):
        entries[error.slug] = (error.status, error.title)
    for envelope_error in _family(EnvelopeError):
        entries[f"envelope-{envelope_error.code}"] = (422, envelope_error.title)
    return {
        problem_type(slug): {"status": status, "title": title}
        for slug, (status, title) in sorted(entries.items())
    }


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> Response:
    body: dict[str, Any] = {"type": problem_type(slug), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    body.update(extensions)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    response.headers.update(headers or {})
    return response


def _exchange_error(error: ExchangeError) -> Response:
    return problem(error.status, error.slug, error.title, error.detail, **error.extensions)


def _envelope_error(error: EnvelopeError) -> Response:
    extensions: dict[str, Any] = {}
    messages = getattr(error, "messages", None)
    if messages:
        extensions["errors"] = messages
    return problem(422, f"envelope-{error.code}", error.title, str(error), **extensions)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    slug, title = _HTTP_PROBLEMS.get(status, ("http-error", error.name))
    headers = {}
    if status == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    return problem(status, slug, title, headers=headers)


def _unexpected(error: Exception) -> Response:
    # The trace goes to the server log with the request id; the client gets neither.
    log.exception("unhandled error", exc_info=error)
    slug, title = _HTTP_PROBLEMS[500]
    return problem(500, slug, title)


def init_app(app: Flask) -> None:
    api = app.extensions.get("exchange.openapi")
    if api is not None:
        # An OpenAPI extension at the top level of the description (merged in by apispec).
        api.spec.options["x-problem-types"] = catalogue()
    app.register_error_handler(ExchangeError, _exchange_error)
    app.register_error_handler(EnvelopeError, _envelope_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
