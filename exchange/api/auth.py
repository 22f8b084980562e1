"""Bearer access tokens (flask-jwt-extended, EdDSA) and the `authenticated` decorator.

Every flask-jwt-extended error loader answers with a 401 problem: its default 422 for a
malformed token would tell a client to fix its request body. Every request re-reads the
official, their organisation and the key behind the token: deactivation or revocation
takes effect on the next request, not when the token expires.

A request's token is decoded, verified and looked up once (`verified_token`), whoever asks
first: the rate limiter, to count the request against the official, or the route.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Flask, Response, g
from flask_jwt_extended import JWTManager, get_current_user, verify_jwt_in_request
from flask_jwt_extended.exceptions import JWTExtendedException, NoAuthorizationError
from jwt import PyJWTError

from exchange import runtime
from exchange.api.problems import problem
from exchange.errors import ForbiddenError, InvalidTokenError
from exchange.services import directory
from exchange.services.caller import Caller

P = ParamSpec("P")
R = TypeVar("R")

_OUTCOME = "hotline_token_outcome"


def _unauthorized(detail: str) -> Response:
    return problem(
        401,
        InvalidTokenError.slug,
        InvalidTokenError.title,
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="hotline"'},
    )


def init_app(app: Flask) -> None:
    public_url = app.config["PUBLIC_URL"].rstrip("/")
    app.config.update(
        JWT_ALGORITHM="EdDSA",
        JWT_DECODE_ALGORITHMS=["EdDSA"],
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=app.config["TOKEN_TTL_SECONDS"],
        JWT_ENCODE_ISSUER=public_url,
        JWT_DECODE_ISSUER=public_url,
        JWT_ENCODE_AUDIENCE=public_url,
        JWT_DECODE_AUDIENCE=public_url,
        JWT_ERROR_MESSAGE_KEY="detail",
    )
    jwt = JWTManager(app)

    @jwt.user_lookup_loader
    def _load_caller(_header: dict[str, Any], claims: dict[str, Any]) -> Caller | None:
        if "exp" not in claims:
            return None  # every token this server issues expires; one that does not is not ours
        with runtime.read() as session:
            return directory.active_caller(session, claims["sub"], claims.get("kid"))

    @jwt.user_lookup_error_loader
    def _inactive(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
        return _unauthorized("the official, their organisation or their key is not active")

    @jwt.expired_token_loader
    def _expired(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
        return _unauthorized("the access token has expired")

    @jwt.invalid_token_loader
    def _invalid(reason: str) -> Response:
        return _unauthorized("the access token is invalid")

    @jwt.unauthorized_loader
    def _missing(reason: str) -> Response:
        return _unauthorized("send an access token: Authorization: Bearer <token>")

    @jwt.revoked_token_loader
    def _revoked(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
        return _unauthorized("the access token has been revoked")

    @jwt.needs_fresh_token_loader
    def _stale(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
        return _unauthorized("a fresh access token is required")

    @jwt.token_verification_failed_loader
    def _failed(_header: dict[str, Any], _claims: dict[str, Any]) -> Response:
        return _unauthorized("the access token failed verification")


def verified_token() -> Caller | None:
    """The caller the request's bearer token names (None without a token), decoded and looked
    up on the first call of the request; later calls repeat that outcome, refusal included.

    Raises flask-jwt-extended's and PyJWT's errors, which the JWTManager answers with the
    401 problems registered in `init_app`.
    """
    outcome: Caller | Exception | None
    if _OUTCOME in g:
        outcome = g.get(_OUTCOME)
    else:
        try:
            # None without a token, and for OPTIONS, which needs none.
            found = verify_jwt_in_request(optional=True)
            outcome = get_current_user() if found is not None else None
        except (JWTExtendedException, PyJWTError) as exc:
            outcome = exc
        setattr(g, _OUTCOME, outcome)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def authenticated(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Require a valid token (and one of `roles`, if given); pass the caller as `caller`."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            caller = verified_token()
            if caller is None:
                raise NoAuthorizationError("Missing Authorization Header")
            if roles and caller.role not in roles:
                raise ForbiddenError(f"this needs the role {' or '.join(roles)}")
            kwargs["caller"] = caller
            return view(*args, **kwargs)

        return wrapper

    return decorate
