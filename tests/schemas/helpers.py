"""Small helpers shared by the schema tests."""

from typing import Any

import pytest
from marshmallow import Schema, ValidationError


def load_errors(schema: Schema, document: Any) -> Any:
    """The error messages of a load that must fail."""
    with pytest.raises(ValidationError) as exc:
        schema.load(document)
    return exc.value.messages


def loads(schema: Schema, document: Any) -> bool:
    """True if `document` loads, unchanged."""
    try:
        loaded = schema.load(document)
    except ValidationError:
        return False
    assert loaded == document
    return True
