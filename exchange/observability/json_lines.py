"""The server's operational logs, one JSON object per line (not the transparency log).

Every record carries the time, level, logger and message, the request id inside a request,
and whatever structured fields it was given. Each request ends with one `request` record:
method, path (never the query string), endpoint, status, duration and, once the caller
is authenticated, the official.

Secrets never reach these records: nothing here logs headers, bodies or query strings
(where tokens, client assertions, JWEs, statements and enrollment codes travel), and
SQLAlchemy's statement logging, which would print bound parameters, is held at WARNING
whatever the level asked for.
"""

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, has_request_context, request

from exchange.observability import timing

log = logging.getLogger("exchange.requests")

# Structured fields a record may carry (logging's `extra=`), in output order.
FIELDS = ("method", "path", "endpoint", "status", "duration_ms", "official", "event")
# Loggers that would print secrets at INFO or DEBUG: SQL parameters hold statements and JWEs.
_HELD_AT_WARNING = ("sqlalchemy",)
# Terminal colours (the development server's) have no place in a JSON line.
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# The development server's own line per request ('127.0.0.1 - - [date] "GET / …" 200 -'):
# `request` records already say it, once.
_WERKZEUG_REQUEST = re.compile(r'^\S+ - - \[[^\]]*\] "')
_OFFICIAL = "exchange.official"


def _not_a_request_line(record: logging.LogRecord) -> bool:
    return not _WERKZEUG_REQUEST.match(_ANSI.sub("", record.getMessage()))


class JsonFormatter(logging.Formatter):
    """One compact JSON object per record; tracebacks become one escaped string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": _ANSI.sub("", record.getMessage()),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, separators=(",", ":"))


def configure(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record to `stream` (stderr) as JSON; idempotent for the same stream.

    Returns the handler, so that a caller who installed it (a test) can remove it.
    """
    root = logging.getLogger()
    target = stream or sys.stderr
    for handler in root.handlers:
        if (
            isinstance(handler, logging.StreamHandler)
            and isinstance(handler.formatter, JsonFormatter)
            and handler.stream is target
        ):
            break
    else:
        handler = logging.StreamHandler(target)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _HELD_AT_WARNING:
        logging.getLogger(name).setLevel(logging.WARNING)
    werkzeug = logging.getLogger("werkzeug")
    if _not_a_request_line not in werkzeug.filters:
        werkzeug.addFilter(_not_a_request_line)
    return handler


def identify(official_id: str) -> None:
    """Name the official this request authenticated, for its `request` record."""
    g.setdefault(_OFFICIAL, official_id)


def _official() -> str | None:
    """The authenticated official, if this request verified a token."""
    official: str | None = g.get(_OFFICIAL)
    return official


def _log_request(response: Response) -> Response:
    seconds = timing.elapsed_seconds()
    status = response.status_code
    log.log(
        logging.WARNING if status >= 500 else logging.INFO,
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "endpoint": request.endpoint,
            "status": status,
            "duration_ms": None if seconds is None else round(seconds * 1000, 3),
            "official": _official(),
        },
    )
    return response


def init_app(app: Flask) -> None:
    # Tests capture records themselves; a process-wide handler would outlive their streams.
    if not app.testing:
        configure(app.config["LOG_LEVEL"])
    app.after_request(_log_request)
