"""Configuration: `EXCHANGE_*` environment variables over defaults, checked at start-up.

Flask's `from_prefixed_env` reads `EXCHANGE_FOO` into `app.config["FOO"]` (parsing JSON
values), so every setting here can be given either way. A missing or malformed setting
stops the app before it serves a request.
"""

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from exchange.storage.database import DEFAULT_SQLITE_MMAP_BYTES

ENV_PREFIX = "EXCHANGE"

# Acknowledge / act deadlines by priority (issue: urgent 1 h / 24 h, high 4 h / 72 h,
# normal 24 h / 7 d). Seconds, so they can be overridden as JSON in one variable.
DEFAULT_DEADLINES = {
    "urgent": [3600, 24 * 3600],
    "high": [4 * 3600, 72 * 3600],
    "normal": [24 * 3600, 7 * 24 * 3600],
}

DEFAULTS: Mapping[str, Any] = {
    "DATABASE_URL": None,  # default: SQLite file in the instance folder
    "PUBLIC_URL": "http://127.0.0.1:5000",  # the audience of client assertions and tokens
    "LOG_ORIGIN": "hotline-exchange.local/log",  # the checkpoint origin line
    "KEY_PASSPHRASE": None,  # the server keys' passphrase, or KEY_PASSPHRASE_FILE
    "KEY_PASSPHRASE_FILE": None,
    "TOKEN_TTL_SECONDS": 600,
    "ASSERTION_MAX_LIFETIME_SECONDS": 300,
    "CLOCK_SKEW_SECONDS": 300,
    "ENROLLMENT_CODE_TTL_SECONDS": 72 * 3600,
    # How long the operator's replacement of all of an organisation's leads waits, so that
    # a lead can object with a signed statement (issue 13).
    "LEAD_REPLACEMENT_WAIT_SECONDS": 14 * 86400,
    "MAX_BODY_BYTES": 2 * 1024 * 1024,
    "MAX_JSON_DEPTH": 32,
    "MAX_RECIPIENTS": 64,
    "PAGE_SIZE_MAX": 100,
    "DEADLINES": DEFAULT_DEADLINES,
    "SQLITE_BUSY_TIMEOUT_MS": 5000,
    # How much of the SQLite file is read through a memory map (0: none), see
    # storage.database.make_database.
    "SQLITE_MMAP_BYTES": DEFAULT_SQLITE_MMAP_BYTES,
    # Rate limits (limits' notation, e.g. "600 per minute; 20 per second"). Counted in Redis
    # when REDIS_URL is set, so that every process shares them; otherwise in this process's
    # memory, which is right only for a single process (`make run`).
    "REDIS_URL": None,
    "RATE_LIMIT_ENABLED": True,
    "RATE_LIMIT_API": "600 per minute",  # per official (the token's sub), all API routes
    "RATE_LIMIT_TOKEN": "60 per minute",  # per client address, POST /v1/token
    "RATE_LIMIT_ENROLL": "20 per minute",  # per client address, POST /v1/enroll
    "RATE_LIMIT_STRATEGY": "moving-window",
    "RATE_LIMIT_KEY_PREFIX": "hotline",
    # How many reverse proxies (load balancers) stand in front and set X-Forwarded-*; their
    # client address is the one rate limits count. 0: the peer address is the client.
    "TRUSTED_PROXIES": 0,
    "LOG_LEVEL": "INFO",
    "METRICS_TOKEN": None,  # if set, GET /metrics needs "Authorization: Bearer <token>"
    # A compliance report verifies the entries logged since the last report first; past this
    # it answers 503 instead of running into the server's request timeout (gunicorn's
    # default is 30 s)...
    "REPORT_TIME_LIMIT_SECONDS": 20,
    # ...in steps of at most this many entries, each ending at a signed checkpoint: what a
    # request verified before its time ran out is kept, and the next request goes on.
    "REPORT_STEP_ENTRIES": 2000,
    # Notifications (exchange.notify, `flask --app wsgi worker`). Webhook targets must be
    # https and public; NOTIFY_ALLOWED_NETWORKS lists networks allowed anyway (CIDR), and
    # NOTIFY_ALLOW_HTTP allows plain http: development and tests only.
    "NOTIFY_ALLOW_HTTP": False,
    "NOTIFY_ALLOWED_NETWORKS": [],
    "NOTIFY_TIMEOUT_SECONDS": 10,  # per delivery attempt (connect, send, answer)
    "NOTIFY_BACKOFF_SECONDS": 5,  # first retry after 2.5-5 s, doubling, with jitter
    "NOTIFY_BACKOFF_CAP_SECONDS": 3600,
    "NOTIFY_GIVE_UP_SECONDS": 24 * 3600,  # then the notification is marked failed
    "NOTIFY_POLL_SECONDS": 0.5,  # how often an idle worker looks for due notifications
    "NOTIFY_BATCH": 20,
    # A claimed notification is another worker's to retry after this (a killed worker's
    # claim lapses); longer than NOTIFY_TIMEOUT_SECONDS, so a slow send is not doubled.
    "NOTIFY_LEASE_SECONDS": 60,
    "NOTIFY_CONCURRENCY": 8,  # deliveries in flight per worker process
    "SWEEP_INTERVAL_SECONDS": 30,  # the worker's deadline sweep and warnings
    "DEADLINE_WARNINGS_SECONDS": [3600, 600],  # "deadline approaching" lead times
    # E-mail through an SMTP relay, with STARTTLS unless SMTP_STARTTLS is false.
    "SMTP_HOST": None,
    "SMTP_PORT": 587,
    "SMTP_STARTTLS": True,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_FROM": "Hotline Exchange <notifications@hotline-exchange.local>",
    "SMTP_CA_FILE": None,  # a private CA for the relay's certificate (default: system CAs)
    # Witnesses (docs/deployment.md): a witness policy file whose witness lines have URLs,
    # and how often a background thread asks them to cosign (0: only `admin cosign`).
    "WITNESS_POLICY_FILE": None,
    "COSIGN_INTERVAL_SECONDS": 0,
}

_INTEGERS = (
    "TOKEN_TTL_SECONDS",
    "ASSERTION_MAX_LIFETIME_SECONDS",
    "CLOCK_SKEW_SECONDS",
    "ENROLLMENT_CODE_TTL_SECONDS",
    "LEAD_REPLACEMENT_WAIT_SECONDS",
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_RECIPIENTS",
    "PAGE_SIZE_MAX",
    "SQLITE_BUSY_TIMEOUT_MS",
    "REPORT_STEP_ENTRIES",
)


_NUMBERS = (
    "REPORT_TIME_LIMIT_SECONDS",
    "NOTIFY_TIMEOUT_SECONDS",
    "NOTIFY_BACKOFF_SECONDS",
    "NOTIFY_BACKOFF_CAP_SECONDS",
    "NOTIFY_GIVE_UP_SECONDS",
    "NOTIFY_POLL_SECONDS",
    "NOTIFY_BATCH",
    "NOTIFY_LEASE_SECONDS",
    "NOTIFY_CONCURRENCY",
    "SWEEP_INTERVAL_SECONDS",
    "SMTP_PORT",
)
_RATE_LIMITS = ("RATE_LIMIT_API", "RATE_LIMIT_TOKEN", "RATE_LIMIT_ENROLL")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(RuntimeError):
    """The configuration cannot run a server; the message says which setting and why."""


def instance_path() -> str:
    """Where the database and the server's keys live unless configured elsewhere."""
    return os.path.abspath(os.environ.get(f"{ENV_PREFIX}_INSTANCE_PATH", "instance"))


def init_app(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env(ENV_PREFIX)
    if overrides:
        app.config.from_mapping(overrides)
    Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = (
            f"sqlite:///{Path(app.instance_path) / 'exchange.storage.database'}"
        )
    _check(app.config)
    # Flask enforces this one itself, answering 413 before a view runs.
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]


def _check(config: Mapping[str, Any]) -> None:
    for name in _INTEGERS:
        value = config[name]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{ENV_PREFIX}_{name} must be a positive integer, got {value!r}")
    for name in _NUMBERS:
        value = config[name]
        if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
            raise ConfigError(f"{ENV_PREFIX}_{name} must be a positive number, got {value!r}")
    if not str(config["PUBLIC_URL"]).startswith(("http://", "https://")):
        raise ConfigError(f"{ENV_PREFIX}_PUBLIC_URL must be an http(s) URL")
    _check_operations(config)
    _check_notifications(config)
    deadlines = config["DEADLINES"]
    if not isinstance(deadlines, Mapping) or set(deadlines) != set(DEFAULT_DEADLINES):
        raise ConfigError(f"{ENV_PREFIX}_DEADLINES must name exactly urgent, high and normal")
    for priority, pair in deadlines.items():
        if (
            not isinstance(pair, list | tuple)
            or len(pair) != 2
            or not all(isinstance(s, int) and s > 0 for s in pair)
            or pair[0] > pair[1]
        ):
            raise ConfigError(
                f"{ENV_PREFIX}_DEADLINES[{priority}] must be [ack seconds, action seconds] "
                "with ack <= action"
            )


def _check_operations(config: Mapping[str, Any]) -> None:
    from limits import parse_many
    from limits.strategies import STRATEGIES

    for name in _RATE_LIMITS:
        try:
            parse_many(str(config[name]))
        except ValueError as exc:
            raise ConfigError(
                f"{ENV_PREFIX}_{name} must be a rate limit such as '600 per minute': {exc}"
            ) from exc
    if config["RATE_LIMIT_STRATEGY"] not in STRATEGIES:
        raise ConfigError(
            f"{ENV_PREFIX}_RATE_LIMIT_STRATEGY must be one of {', '.join(sorted(STRATEGIES))}"
        )
    if not isinstance(config["RATE_LIMIT_ENABLED"], bool):
        raise ConfigError(f"{ENV_PREFIX}_RATE_LIMIT_ENABLED must be true or false")
    redis_url = config["REDIS_URL"]
    if redis_url and not str(redis_url).startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{ENV_PREFIX}_REDIS_URL must be a redis:// or rediss:// URL")
    proxies = config["TRUSTED_PROXIES"]
    if not isinstance(proxies, int) or isinstance(proxies, bool) or proxies < 0:
        raise ConfigError(f"{ENV_PREFIX}_TRUSTED_PROXIES must be 0 or more, got {proxies!r}")
    mmap_bytes = config["SQLITE_MMAP_BYTES"]
    if not isinstance(mmap_bytes, int) or isinstance(mmap_bytes, bool) or mmap_bytes < 0:
        raise ConfigError(f"{ENV_PREFIX}_SQLITE_MMAP_BYTES must be 0 or more, got {mmap_bytes!r}")
    if str(config["LOG_LEVEL"]).upper() not in _LOG_LEVELS:
        raise ConfigError(f"{ENV_PREFIX}_LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}")


def _check_notifications(config: Mapping[str, Any]) -> None:
    import ipaddress

    networks = config["NOTIFY_ALLOWED_NETWORKS"]
    try:
        if not isinstance(networks, list):
            raise ValueError("not a list")
        for network in networks:
            ipaddress.ip_network(str(network), strict=False)
    except ValueError as exc:
        raise ConfigError(
            f"{ENV_PREFIX}_NOTIFY_ALLOWED_NETWORKS must be a JSON list of CIDR networks: {exc}"
        ) from exc
    for name in ("NOTIFY_ALLOW_HTTP", "SMTP_STARTTLS"):
        if not isinstance(config[name], bool):
            raise ConfigError(f"{ENV_PREFIX}_{name} must be true or false")
    if config["NOTIFY_LEASE_SECONDS"] <= config["NOTIFY_TIMEOUT_SECONDS"]:
        raise ConfigError(
            f"{ENV_PREFIX}_NOTIFY_LEASE_SECONDS must exceed {ENV_PREFIX}_NOTIFY_TIMEOUT_SECONDS"
        )
    warnings = config["DEADLINE_WARNINGS_SECONDS"]
    if not isinstance(warnings, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in warnings
    ):
        raise ConfigError(f"{ENV_PREFIX}_DEADLINE_WARNINGS_SECONDS must list positive seconds")


def deadline_table(config: Mapping[str, Any]) -> dict[str, tuple[timedelta, timedelta]]:
    """The acknowledgement and action periods by priority, as the services take them."""
    return {
        priority: (timedelta(seconds=ack), timedelta(seconds=action))
        for priority, (ack, action) in config["DEADLINES"].items()
    }


def key_passphrase(config: Mapping[str, Any]) -> bytes:
    """The server keys' passphrase: EXCHANGE_KEY_PASSPHRASE, else the file it names."""
    if config["KEY_PASSPHRASE"]:
        return str(config["KEY_PASSPHRASE"]).encode()
    path = config["KEY_PASSPHRASE_FILE"]
    if path:
        try:
            secret = Path(path).read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"{ENV_PREFIX}_KEY_PASSPHRASE_FILE: {exc.strerror}: {path}") from exc
        if secret:
            return secret
    raise ConfigError(
        f"set {ENV_PREFIX}_KEY_PASSPHRASE or {ENV_PREFIX}_KEY_PASSPHRASE_FILE: "
        "the server's signing keys are stored encrypted"
    )
