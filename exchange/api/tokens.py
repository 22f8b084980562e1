"""`POST /v1/token`: client credentials with a private_key_jwt client assertion."""

from typing import Any

from exchange import runtime
from exchange.api.auth import issue_access_token
from exchange.api.blueprint import Blueprint
from exchange.runtime import now, seconds, token_endpoint
from exchange.services import tokens
from schemas.api import TokenRequestSchema, TokenResponseSchema

blp = Blueprint("token", __name__, url_prefix="/v1", description="OAuth 2.0 access tokens")


@blp.route("/token", methods=["POST"])
@blp.arguments(TokenRequestSchema, location="form")
@blp.response(200, TokenResponseSchema, headers={"Cache-Control": {"description": "no-store"}})
@blp.problems(400, 401, 413, 415, 422, 429)
def issue_token(form: dict[str, Any]) -> dict[str, Any]:
    """Exchange a client assertion signed with your key for a short-lived access token."""
    with runtime.write() as session:
        caller = tokens.authenticate(
            session,
            now(),
            form["client_assertion"],
            audience=token_endpoint(),
            max_lifetime=seconds("ASSERTION_MAX_LIFETIME_SECONDS"),
            skew=seconds("CLOCK_SKEW_SECONDS"),
        )
    lifetime = seconds("TOKEN_TTL_SECONDS")
    token = issue_access_token(caller, lifetime)
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
    }
