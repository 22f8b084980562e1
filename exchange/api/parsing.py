"""Request bodies and query strings, parsed strictly, through webargs and marshmallow.

JSON bodies must say `application/json` (else 415), parse (else 400), nest no deeper than
the configured depth (else 400) and match their schema (else 422 with `errors` by field).
Form bodies (the OAuth token request) must say `application/x-www-form-urlencoded`.
A query or form parameter given twice is refused (RFC 6749 §3.2 for the token request;
elsewhere two readers could disagree on which value counts). `errors` names at most
`MAX_REPORTED_ERRORS` fields, so that a refusal never echoes a huge input back.
"""

from collections.abc import Mapping
from typing import Any, NoReturn

from flask import Request, current_app
from marshmallow import Schema, ValidationError
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from exchange.api.problems import (
    JSONTooDeepError,
    MalformedJSONError,
    RequestValidationError,
    UnsupportedMediaTypeError,
)
from exchange.protocol import strict_json

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_REPORTED_ERRORS = 100


def _depth(document: Any, limit: int) -> int:
    """The nesting depth of a parsed document, stopping as soon as it exceeds `limit`."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            if level > limit:
                return level
            deepest = max(deepest, level)
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, level + 1) for child in children)
    return deepest


def parse_json_body(request: Request, max_depth: int) -> Any:
    if request.mimetype != "application/json":
        raise UnsupportedMediaTypeError(
            f"Content-Type is {request.mimetype or 'missing'}; send application/json"
        )
    data = request.get_data(cache=True)
    try:
        document = strict_json.loads(data)
    except RecursionError as exc:
        raise JSONTooDeepError(f"the JSON is nested deeper than {max_depth} levels") from exc
    except strict_json.DuplicateMemberError as exc:
        raise MalformedJSONError(str(exc)) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedJSONError("the body is not valid UTF-8 JSON") from exc
    if _depth(document, max_depth) > max_depth:
        raise JSONTooDeepError(f"the JSON is nested deeper than {max_depth} levels")
    return document


def _bounded(messages: Mapping[Any, Any], budget: list[int]) -> dict[Any, Any]:
    """The first messages, depth first, until `budget[0]` fields are reported."""
    kept: dict[Any, Any] = {}
    for name, value in messages.items():
        if budget[0] <= 0:
            break
        if isinstance(value, Mapping):
            kept[name] = _bounded(value, budget)
        else:
            kept[name] = value
            budget[0] -= 1
    return kept


def _fields_at_fault(messages: Mapping[Any, Any]) -> int:
    return sum(_fields_at_fault(v) if isinstance(v, Mapping) else 1 for v in messages.values())


def _refuse(messages: Mapping[Any, Any]) -> NoReturn:
    total = _fields_at_fault(messages)
    detail = "see errors for the fields at fault"
    if total > MAX_REPORTED_ERRORS:
        detail = f"see errors for the first {MAX_REPORTED_ERRORS} of {total} fields at fault"
    raise RequestValidationError(detail, errors=_bounded(messages, [MAX_REPORTED_ERRORS]))


def _single_valued(values: MultiDict[str, str], proxy: MultiDictProxy) -> MultiDictProxy:
    """The parameters, unless one that takes a single value is given more than once."""
    repeated = sorted(
        name for name, given in values.lists() if len(given) > 1 and name not in proxy.multiple_keys
    )
    if repeated:
        _refuse({name: ["Given more than once."] for name in repeated})
    return proxy


class StrictParser(FlaskParser):
    def __init__(self) -> None:
        super().__init__()
        # None: each schema's own `unknown` (RAISE) applies, in the body and the query alike.
        self.unknown = None

    def load_json(self, req: Request, schema: Schema) -> Any:
        return parse_json_body(req, current_app.config["MAX_JSON_DEPTH"])

    def load_querystring(self, req: Request, schema: Schema) -> Any:
        return _single_valued(req.args, self._makeproxy(req.args, schema))

    def load_form(self, req: Request, schema: Schema) -> Any:
        # OAuth 2.0 (RFC 6749 §4.4.2) token requests are form-encoded, and nothing else:
        # JSON here would otherwise look like an empty form and pass for a schema error.
        if req.mimetype != FORM_MEDIA_TYPE:
            raise UnsupportedMediaTypeError(
                f"Content-Type is {req.mimetype or 'missing'}; send {FORM_MEDIA_TYPE}"
            )
        return _single_valued(req.form, self._makeproxy(req.form, schema))

    def handle_error(
        self,
        error: ValidationError,
        req: Request,
        schema: Schema,
        *,
        error_status_code: int | None,
        error_headers: Mapping[str, str] | None,
    ) -> NoReturn:
        messages: Any = error.messages
        if not isinstance(messages, dict):
            messages = {"_schema": messages}
        # webargs nests messages under the location; the client wants the fields.
        if len(messages) == 1 and next(iter(messages)) in ("json", "query", "form"):
            messages = next(iter(messages.values()))
        _refuse(messages)
