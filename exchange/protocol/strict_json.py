"""The one JSON parser for untrusted input: RFC 8259 JSON, one meaning per document.

Python's `json` takes NaN and Infinity (not JSON) and keeps the last of two members with
the same name, where another parser may keep the first: two readers of one signed or
logged document could then disagree on what it says. Both are refused here.
"""

import json
from typing import Any, NoReturn


class DuplicateMemberError(ValueError):
    """An object names a member twice; `name` is the member's name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the member {json.dumps(name)} appears twice in one object")
        self.name = name


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise DuplicateMemberError(name)
            seen.add(name)
    return document


def loads(data: bytes | str) -> Any:
    """Parse JSON strictly. Raises ValueError (UnicodeDecodeError, json's own errors,
    `DuplicateMemberError`), or RecursionError for absurdly deep nesting."""
    return json.loads(data, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
