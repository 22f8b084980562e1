"""The one place where errors become RFC 9457 `application/problem+json` responses.

Every problem has a stable `type` (`urn:hotline:problem:<slug>`), a `title` that does not
change from one occurrence to the next, and a `detail` about this one. Nothing here ever
echoes an exception's text unless the exception was written to be shown (domain errors,
envelope errors); anything unexpected is a bare 500 with the request id.

A database that cannot serve the request right now (locked by another writer, unreachable,
read-only, out of space) is a 503 with `Retry-After` and a type that names the cause,
never a 500: the request's transaction was rolled back, so the client may retry the same
request, and the service recovers by itself once the database does. Only the conditions
listed in `_SQLITE_CODES` and `_SQLSTATES` are mapped, by the driver's own error code; any
other database error is a bug and stays a bare 500.
"""

import json
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, g
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from exchange.errors import ExchangeError
from exchange.protocol.envelope.errors import EnvelopeError

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


@dataclass(frozen=True)
class DatabaseOutage:
    """A condition of the database that passes: answered 503 with this slug and Retry-After."""

    slug: str
    title: str
    detail: str
    retry_after: int  # seconds
    log_level: int = logging.ERROR


DATABASE_BUSY = DatabaseOutage(
    "database-busy",
    "The database is busy",
    "another transaction holds the database; nothing was changed, retry shortly",
    retry_after=1,
    log_level=logging.WARNING,
)
DATABASE_UNAVAILABLE = DatabaseOutage(
    "database-unavailable",
    "The database is unavailable",
    "the database cannot be reached or read; retry the same request later",
    retry_after=5,
)
DATABASE_READ_ONLY = DatabaseOutage(
    "database-read-only",
    "The database accepts no changes",
    "the database is read-only at the moment; reading works, changes must wait",
    retry_after=30,
)
STORAGE_FULL = DatabaseOutage(
    "storage-full",
    "The database's storage is full",
    "the database has no space left; nothing was changed, retry later",
    retry_after=60,
)
DATABASE_OUTAGES = (DATABASE_BUSY, DATABASE_UNAVAILABLE, DATABASE_READ_ONLY, STORAGE_FULL)

# SQLite primary result codes (https://sqlite.org/rescode.html); an extended code carries
# its primary one in the low byte (SQLITE_READONLY_DBMOVED is SQLITE_READONLY | 4 << 8).
_SQLITE_CODES = {
    sqlite3.SQLITE_BUSY: DATABASE_BUSY,
    sqlite3.SQLITE_LOCKED: DATABASE_BUSY,
    sqlite3.SQLITE_READONLY: DATABASE_READ_ONLY,
    sqlite3.SQLITE_FULL: STORAGE_FULL,
    sqlite3.SQLITE_CANTOPEN: DATABASE_UNAVAILABLE,
    sqlite3.SQLITE_IOERR: DATABASE_UNAVAILABLE,
}
# PostgreSQL SQLSTATEs (its manual, appendix A): exact codes first, then whole classes.
_SQLSTATES = {
    "25006": DATABASE_READ_ONLY,  # read_only_sql_transaction: a standby, or made read-only
    "40001": DATABASE_BUSY,  # serialization_failure
    "40P01": DATABASE_BUSY,  # deadlock_detected
    "53100": STORAGE_FULL,  # disk_full
    "55P03": DATABASE_BUSY,  # lock_not_available (lock_timeout)
    "57014": DATABASE_BUSY,  # query_canceled (statement_timeout)
    "57P01": DATABASE_UNAVAILABLE,  # admin_shutdown: the connection was terminated
    "57P02": DATABASE_UNAVAILABLE,  # crash_shutdown
    "57P03": DATABASE_UNAVAILABLE,  # cannot_connect_now: starting up, or shutting down
}
_SQLSTATE_CLASSES = {
    "08": DATABASE_UNAVAILABLE,  # connection exception
    "53": DATABASE_UNAVAILABLE,  # insufficient resources: memory, connections
    "58": DATABASE_UNAVAILABLE,  # system error: I/O
}


def database_outage(error: DBAPIError) -> DatabaseOutage | None:
    """The passing condition behind a driver's error, by its code; None for anything else."""
    cause = error.orig
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return _SQLITE_CODES.get(sqlite_code & 0xFF)
    sqlstate = getattr(cause, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        found = _SQLSTATES.get(sqlstate) or _SQLSTATE_CLASSES.get(sqlstate[:2])
        if found is not None:
            return found
    elif isinstance(error, OperationalError):
        # An operational failure with no code from the server: psycopg's failure to
        # connect, or a connection that broke before the server could say anything.
        return DATABASE_UNAVAILABLE
    # SQLAlchemy recognised a lost connection (the transaction died with it).
    return DATABASE_UNAVAILABLE if error.connection_invalidated else None


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
    for outage in DATABASE_OUTAGES:
        entries[outage.slug] = (503, outage.title)
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
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after else {}
    if error.challenge:
        headers["WWW-Authenticate"] = error.challenge
    return problem(
        error.status, error.slug, error.title, error.detail, headers=headers, **error.extensions
    )


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


def _outage_problem(outage: DatabaseOutage) -> Response:
    return problem(
        503,
        outage.slug,
        outage.title,
        outage.detail,
        headers={"Retry-After": str(outage.retry_after)},
    )


def _database_error(error: DBAPIError) -> Response:
    outage = database_outage(error)
    if outage is None:
        return _unexpected(error)
    # For the operator: the driver's own words (statements and parameters are never in
    # them: the engine hides parameters, and only the first line of the cause is kept).
    cause = error.orig
    code = getattr(cause, "sqlite_errorname", None) or getattr(cause, "sqlstate", None)
    message = str(cause).strip().splitlines()[0][:300] if str(cause).strip() else ""
    log.log(
        outage.log_level,
        "database %s: %s %s: %s",
        outage.slug,
        type(cause).__name__,
        code or "-",
        message,
    )
    return _outage_problem(outage)


def _pool_exhausted(error: PoolTimeoutError) -> Response:
    # Every connection of this process's pool is in use and none came back in time.
    log.warning("database %s: %s", DATABASE_BUSY.slug, error)
    return _outage_problem(DATABASE_BUSY)


def init_app(app: Flask) -> None:
    api = app.extensions.get("exchange.openapi")
    if api is not None:
        # An OpenAPI extension at the top level of the description (merged in by apispec).
        api.spec.options["x-problem-types"] = catalogue()
    app.register_error_handler(ExchangeError, _exchange_error)
    app.register_error_handler(EnvelopeError, _envelope_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(PoolTimeoutError, _pool_exhausted)
    app.register_error_handler(Exception, _unexpected)
