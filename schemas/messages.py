"""Validation errors in plain words: one line per field at fault, never a Python dict.

Marshmallow reports `{'body': {'category': ['Missing data for required field.']}}`; a
person reads `body.category is required`. Used by the client (before anything is sent)
and by the envelope's sealing errors.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from marshmallow import Schema, ValidationError

from schemas.enums import Kind
from schemas.record import BODY_SCHEMAS

_PLAIN = {
    "Missing data for required field.": "is required",
    "Unknown field.": "is not a field of this document",
    "Field may not be null.": "may not be null",
    "Not a valid string.": "must be text",
    "Not a valid integer.": "must be a whole number",
    "Not a valid boolean.": "must be true or false",
    "Not a valid list.": "must be a list",
    "Not a valid mapping type.": "must be an object",
    "Invalid input type.": "has the wrong type",
}
# Lines shown before "and N more": enough to fix a file, few enough to read.
SHOWN = 5


def _plain(message: str) -> str:
    known = _PLAIN.get(message)
    if known is not None:
        return known
    # "Must be one of: a, b." reads well after the field name in lower case.
    return message[:1].lower() + message[1:].rstrip(".")


def field_errors(messages: Any, path: str = "") -> list[str]:
    """Each field at fault as `path.to.field is required`, in document order."""
    if isinstance(messages, Mapping):
        lines = []
        for name, inner in messages.items():
            if name == "_schema":
                lines.extend(field_errors(inner, path))
                continue
            step = f"[{name}]" if isinstance(name, int) else str(name)
            joined = f"{path}{step}" if not path or step.startswith("[") else f"{path}.{step}"
            lines.extend(field_errors(inner, joined))
        return lines
    if isinstance(messages, Sequence) and not isinstance(messages, str):
        return [line for inner in messages for line in field_errors(inner, path)]
    text = _plain(str(messages))
    return [f"{path} {text}" if path else text]


def describe(messages: Any) -> str:
    """All field errors on one line: the first few, then how many more."""
    lines = field_errors(messages)
    shown = "; ".join(lines[:SHOWN])
    return shown + (f" (and {len(lines) - SHOWN} more)" if len(lines) > SHOWN else "")


def body_errors(kind: Kind, body: Mapping[str, Any]) -> str | None:
    """Why `body` is not a valid body of `kind`, in plain words; None if it is valid.

    A body that is valid for another kind is named as such ("this is a case, not a
    response") rather than listed field by field.
    """
    try:
        _schema(kind).load(body)
    except ValidationError as exc:
        for other in BODY_SCHEMAS:
            if body and other != kind and _is_valid(other, body):
                return f"this is a {other} body, not a {kind}"
        return describe(exc.messages)
    return None


def _schema(kind: Kind) -> Schema:
    return BODY_SCHEMAS[kind]()


def _is_valid(kind: Kind, body: Mapping[str, Any]) -> bool:
    try:
        _schema(kind).load(body)
    except ValidationError:
        return False
    return True
