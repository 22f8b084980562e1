"""What operators see of a running server: structured logs and Prometheus metrics.

Both share one per-request clock, started before any other hook, so that the time spent
refusing a rate-limited request is measured too.
"""

from flask import Flask

from exchange.observability import json_lines, timing
from exchange.observability import metrics as metrics


def init_app(app: Flask) -> None:
    """Register before the API's hooks: the clock starts first and the records end last."""
    app.before_request(timing.start)
    json_lines.init_app(app)
    metrics.init_app(app)


__all__ = ["init_app"]
