"""Bearer access tokens (PyJWT, EdDSA) and the `authenticated` decorator.

A token is issued by `issue_access_token` and checked by `verified_token`: one
`jwt.decode` per request, which parses the token once, verifies its signature and its
registered claims. Every request re-reads the official, their organisation and the key
behind the token: deactivation or revocation takes effect on the next request, not when
the token expires.

The token is checked once per request, whoever asks first: the rate limiter, to count the
request against the official, or the route. Every refusal is an `InvalidTokenError`,
which `exchange.api.problems` answers with a 401 and the bearer challenge: never a 422,
which would tell a client to fix its request body.
"""

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, Final, ParamSpec, TypeVar

import jwt
from flask import current_app, g, request

from exchange import runtime
from exchange.errors import ForbiddenError, InvalidTokenError
from exchange.observability import json_lines
from exchange.services import directory
from exchange.services.caller import Caller

P = ParamSpec("P")
R = TypeVar("R")

ALGORITHM: Final = "EdDSA"
TOKEN_TYPE: Final = "access"  # noqa: S105 - the claim "type", not a secret
# RFC 6750 §2.1: "Bearer" and a b64token; a JWS compact serialisation is three of them.
_BEARER: Final = re.compile(r"Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")
# Registered claims a token of this server always carries; one without them is not ours.
_REQUIRED: Final = ["exp", "iat", "nbf", "sub", "jti"]
_OUTCOME: Final = "exchange.token_outcome"

MISSING: Final = "send an access token: Authorization: Bearer <token>"
EXPIRED: Final = "the access token has expired"
INVALID: Final = "the access token is invalid"
INACTIVE: Final = "the official, their organisation or their key is not active"


def _audience() -> str:
    """The server's public URL: the tokens' issuer and their audience."""
    url: str = current_app.config["PUBLIC_URL"].rstrip("/")
    return url


def issue_access_token(caller: Caller, lifetime: timedelta) -> str:
    """A signed access token for `caller`, valid for `lifetime` from now.

    Expiry is checked against the machine's time when the token comes back (PyJWT's), so
    it is issued on the machine's time too, not on the application's clock.
    """
    issued = int(datetime.now(UTC).timestamp())
    claims = {
        "iss": _audience(),
        "aud": _audience(),
        "sub": caller.official_id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(lifetime.total_seconds()),
        "jti": str(uuid.uuid4()),
        "type": TOKEN_TYPE,
        "org": caller.org_id,
        "role": caller.role,
        "kid": caller.kid,
    }
    return jwt.encode(claims, runtime.server_keys().token_key, algorithm=ALGORITHM)


def _claims(header: str | None) -> dict[str, Any]:
    """The verified claims of the request's bearer token; InvalidTokenError if there is none
    or it does not verify."""
    if header is None:
        raise InvalidTokenError(MISSING)
    bearer = _BEARER.fullmatch(header)
    if bearer is None:
        raise InvalidTokenError(INVALID)
    try:
        claims: dict[str, Any] = jwt.decode(
            bearer.group(1),
            runtime.server_keys().token_public_key,
            algorithms=[ALGORITHM],
            audience=_audience(),
            issuer=_audience(),
            options={"require": _REQUIRED},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidTokenError(EXPIRED) from exc
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(INVALID) from exc
    if claims.get("type") != TOKEN_TYPE or not isinstance(claims.get("kid"), str):
        raise InvalidTokenError(INVALID)
    return claims


def _caller() -> Caller | None:
    """The active caller the request's token names; None without an Authorization header."""
    headers = request.headers.getlist("Authorization")
    if not headers or request.method == "OPTIONS":  # a preflight carries no credentials
        return None
    if len(headers) > 1:  # RFC 9110 §5.3 would fold them into a list of two tokens
        raise InvalidTokenError(INVALID)
    claims = _claims(headers[0])
    with runtime.read() as session:
        caller = directory.active_caller(session, claims["sub"], claims["kid"])
    if caller is None:
        raise InvalidTokenError(INACTIVE)
    json_lines.identify(caller.official_id)
    return caller


def verified_token() -> Caller | None:
    """The caller the request's bearer token names (None without a token), checked on the
    first call of the request; later calls repeat that outcome, refusal included.

    Raises InvalidTokenError for a token that does not verify or names nobody active.
    """
    outcome: Caller | InvalidTokenError | None
    if _OUTCOME in g:
        outcome = g.get(_OUTCOME)
    else:
        try:
            outcome = _caller()
        except InvalidTokenError as exc:
            outcome = exc
        setattr(g, _OUTCOME, outcome)
    if isinstance(outcome, InvalidTokenError):
        raise outcome
    return outcome


def authenticated(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Require a valid token (and one of `roles`, if given); pass the caller as `caller`."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            caller = verified_token()
            if caller is None:
                raise InvalidTokenError(MISSING)
            if roles and caller.role not in roles:
                raise ForbiddenError(f"this needs the role {' or '.join(roles)}")
            kwargs["caller"] = caller
            return view(*args, **kwargs)

        return wrapper

    return decorate
