"""The flask-smorest Blueprint with our strict parser and problem documentation."""

from collections.abc import Callable
from typing import Any, TypeVar

import flask_smorest

from exchange.api.parsing import StrictParser
from schemas.api import ProblemSchema

F = TypeVar("F", bound=Callable[..., Any])

_DESCRIPTIONS = {
    400: "Malformed request (bad JSON, nesting too deep)",
    401: "No valid access token or client assertion",
    403: "Authenticated, but not allowed to do this",
    404: "No such resource, or one the caller may not see",
    409: "Conflicts with the current state",
    413: "Body larger than the configured limit",
    415: "Body is not of the required media type",
    422: "Well-formed but refused: schema, envelope or business rule",
    429: "Rate limited; see Retry-After",
    503: "Temporarily unavailable; see Retry-After",
}


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    ARGUMENTS_PARSER = StrictParser()

    def problems(self, *statuses: int) -> Callable[[F], F]:
        """Document the problem responses a route can give (all are problem+json)."""

        def decorate(view: F) -> F:
            for status in statuses:
                view = self.alt_response(
                    status,
                    schema=ProblemSchema,
                    description=_DESCRIPTIONS[status],
                    content_type="application/problem+json",
                )(view)
            return view

        return decorate


BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
