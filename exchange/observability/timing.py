"""The per-request clock that logs and metrics share."""

import time

from flask import g

_STARTED = "observability_started"


def start() -> None:
    setattr(g, _STARTED, time.perf_counter())


def elapsed_seconds() -> float | None:
    """Seconds since this request's first hook ran, or None outside a timed request."""
    started: float | None = g.get(_STARTED)
    return None if started is None else time.perf_counter() - started
