"""Responses that carry stored JSON documents, serialised once.

A handoff's JWE is stored as its RFC 8785 text. An inbox page holds up to a hundred of
them: parsing each back into Python objects only for the response schema to copy them
and the JSON encoder to print them again cost more than the page's database reads. Here
the stored text goes into the response as it is (an `orjson.Fragment`) and the rest of
the body is printed once by orjson, with sorted keys like Flask's own provider.

The route's marshmallow schema still documents the response (OpenAPI) and the tests
check the body against it; it no longer copies it.
"""

from typing import Any

import orjson
from flask import Response


def stored(text: str | None) -> orjson.Fragment | None:
    """A JSON document kept as text, to be placed in a response unchanged."""
    return orjson.Fragment(text) if text is not None else None


def json_response(body: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body, option=orjson.OPT_SORT_KEYS),
        status=status,
        mimetype="application/json",
    )
