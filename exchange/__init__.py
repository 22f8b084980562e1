"""Hotline Exchange: the server, its log, the envelope, and the client SDK and CLI."""

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The application factory: a table of contents of `init_app` calls."""
    from exchange import config, observability, runtime
    from exchange.api import init_app as init_api
    from exchange.api import proxies, rate_limits
    from exchange.notify import init_app as init_notify
    from exchange.ops import admin, cosigner

    overrides = dict(test_config or {})
    instance = overrides.pop("INSTANCE_PATH", None) or config.instance_path()
    clock = overrides.pop("CLOCK", None)
    app = Flask(__name__, instance_path=instance)
    config.init_app(app, overrides)
    runtime.init_app(app, clock)  # the database, the server's keys and the clock
    proxies.init_app(app)
    observability.init_app(app)  # before the API: its request clock starts first
    init_api(app)
    rate_limits.init_app(app)  # after the API: a refusal already has its request id
    admin.init_app(app)
    init_notify(app)  # `flask worker`: notifications and the deadline scheduler
    cosigner.start_background(app)  # witness cosignatures, if configured
    return app
