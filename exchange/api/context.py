"""Per-app settings the routes hand to services: the clock and the policies."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app

from exchange.envelope import Limits
from exchange.services.handoffs import Policy

_CLOCK = "exchange.clock"
Clock = Callable[[], datetime]


def _system_clock() -> datetime:
    return datetime.now(UTC)


def init_app(app: Flask, clock: Clock | None = None) -> None:
    app.extensions[_CLOCK] = clock or _system_clock


def now() -> datetime:
    """The server's time. Tests replace the clock; everything else reads it here."""
    clock: Clock = current_app.extensions[_CLOCK]
    return clock()


def seconds(name: str) -> timedelta:
    return timedelta(seconds=current_app.config[name])


def handoff_policy() -> Policy:
    config = current_app.config
    return Policy(
        skew=seconds("CLOCK_SKEW_SECONDS"),
        limits=Limits(max_recipients=config["MAX_RECIPIENTS"]),
        deadlines=config,
    )


def token_endpoint() -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/v1/token"
