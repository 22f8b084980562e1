"""The DSA Transparency Database's statement of reasons, as a JSON Schema we hold.

`statement_of_reasons.schema.json` is written down by hand from the database's own
validation rules and enumerations (its `$comment` names the repository, files and
commits). It is someone else's format: we validate what we export against it with the
`jsonschema` library, and change it only when the database changes its rules.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_PATH = Path(__file__).with_name("statement_of_reasons.schema.json")

# EuropeanCountriesService of the database: the codes `territorial_scope` accepts are
# those of the European Economic Area; the Union's are a subset of them.
EU_COUNTRY_CODES: tuple[str, ...] = (
    *("AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU"),
    *("IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"),
)
EEA_COUNTRY_CODES: tuple[str, ...] = tuple(sorted((*EU_COUNTRY_CODES, "IS", "LI", "NO")))
# The batch endpoint (POST /api/v1/statements) takes at most this many per call.
MAX_BATCH = 100


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def validator() -> Draft202012Validator:
    """A validator of one statement, with format checks on (`date`, and `uri` when the
    optional checker is installed)."""
    return Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def statement_errors(statement: object) -> list[str]:
    """What the schema refuses in `statement`, each as `path: message`; [] when valid."""
    return sorted(
        f"{'.'.join(map(str, error.absolute_path)) or '(statement)'}: {error.message}"
        for error in validator().iter_errors(statement)
    )


__all__ = [
    "EEA_COUNTRY_CODES",
    "EU_COUNTRY_CODES",
    "MAX_BATCH",
    "SCHEMA_PATH",
    "schema",
    "statement_errors",
    "validator",
]
