"""Rate limits (Flask-Limiter): per official on the API, per client address where none is known.

* Every `/v1/` route shares one budget per official, `RATE_LIMIT_API`, keyed by the
  official of a bearer token that verifies and names an active official (the route's own
  check, `auth.verified_token`, done once for both); a request without such a token is
  counted by its client address instead, so a flood of forged tokens cannot open new
  budgets.
* `POST /v1/token` and `POST /v1/enroll` are counted by client address alone
  (`RATE_LIMIT_TOKEN`, `RATE_LIMIT_ENROLL`): nobody is authenticated yet.
* The public tiles (`/checkpoint`, `/tile/...`) share `RATE_LIMIT_API`, by client address.
* Health, readiness, metrics and the docs page are not limited: load balancers and
  monitoring poll them.

Counts live in Redis when `REDIS_URL` is set, shared by every process and instance; without
it each process counts alone, which suits only a single process. If Redis stops answering,
each process falls back to counting in its own memory rather than refusing everyone.
A refused request gets the `rate-limited` problem (from `exchange.api.problems`, like every
HTTP error) with `Retry-After`.
"""

import math
import time
from collections.abc import Callable
from typing import Any, cast

from flask import Flask, Response, request
from flask_limiter import Limit, Limiter
from flask_limiter.util import get_qualified_name, get_remote_address

from exchange.api import auth, enrollment, tokens
from exchange.errors import InvalidTokenError

_EXTENSION = "exchange.limiter"


def caller_key() -> str:
    """The official a verified bearer token names, else the client address."""
    try:
        caller = auth.verified_token()
    except InvalidTokenError:
        caller = None  # refused with 401 by the route; counted by address meanwhile
    if caller is not None:
        return f"official:{caller.official_id}"
    return address_key()


def address_key() -> str:
    return f"address:{get_remote_address()}"


# The public tiles (`exchange.api.tiles`) share the API's budget, counted by address: they
# need no token, so without a limit they would be the one unmetered way into the database.
_LIMITED_PREFIXES = ("/v1/", "/checkpoint", "/tile/")


def _not_the_api() -> bool:
    return not request.path.startswith(_LIMITED_PREFIXES)


def _limit_view(app: Flask, limiter: Limiter, view: Callable[..., Any], setting: str) -> None:
    """Limit one route by client address, wrapping its registered view in place, so that
    the route modules need not know about rate limits."""
    name = get_qualified_name(view)
    endpoints = [e for e, f in app.view_functions.items() if get_qualified_name(f) == name]
    if len(endpoints) != 1:
        raise RuntimeError(f"rate limits: {name} is registered {len(endpoints)} times, not once")
    limit = limiter.limit(lambda: str(app.config[setting]), key_func=address_key)
    app.view_functions[endpoints[0]] = cast(Any, limit(app.view_functions[endpoints[0]]))


def init_app(app: Flask) -> None:
    """Register after the API: the limit check must run after the request id is set."""
    config = app.config
    limiter = Limiter(
        key_func=caller_key,
        default_limits=[
            Limit(lambda: str(config["RATE_LIMIT_API"]), shared=True, scope="api"),
        ],
        storage_uri=config["REDIS_URL"] or "memory://",
        strategy=config["RATE_LIMIT_STRATEGY"],
        key_prefix=config["RATE_LIMIT_KEY_PREFIX"],
        in_memory_fallback_enabled=True,
        headers_enabled=False,  # Retry-After is set on refusals only, below
        enabled=config["RATE_LIMIT_ENABLED"],
    )
    limiter.init_app(app)
    limiter.request_filter(_not_the_api)
    _limit_view(app, limiter, tokens.issue_token, "RATE_LIMIT_TOKEN")
    _limit_view(app, limiter, enrollment.enroll, "RATE_LIMIT_ENROLL")
    app.extensions[_EXTENSION] = limiter

    @app.after_request
    def _retry_after(response: Response) -> Response:
        breached = limiter.current_limit
        if response.status_code == 429 and breached is not None and breached.breached:
            wait = math.ceil(breached.window.reset_time - time.time())
            response.headers["Retry-After"] = str(max(1, wait))
        return response
