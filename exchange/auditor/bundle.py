"""The offline audit bundle: everything needed to verify a log, in one JSON file.

    {"format": "hotline-log-bundle/v1",
     "origin": "<log origin>",
     "verifier_keys": ["<name>+<key id>+<key>", ...],
     "checkpoint": "<the C2SP signed checkpoint of size n>",
     "checkpoints": ["<earlier signed checkpoints, optional>", ...],
     "entries": ["<entry 0 as RFC 8785 JSON text>", ..., "<entry n-1>"]}

Entries are carried as text because the leaf hash covers their exact bytes. The verifier
keys in a bundle are what its exporter saw; an auditor pins its own (`--log-key`).
Earlier checkpoints are optional evidence: with them a mismatch names its entry.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BUNDLE_FORMAT = "hotline-log-bundle/v1"


class BundleFormatError(ValueError):
    """The file is not a bundle: a usage problem, not evidence of tampering."""


def _strings(document: dict[str, Any], name: str, *, required: bool = True) -> tuple[str, ...]:
    value = document.get(name, None if required else [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BundleFormatError(f"bundle {name} must be a list of strings")
    return tuple(value)


@dataclass(frozen=True)
class Bundle:
    origin: str
    verifier_keys: tuple[str, ...]
    checkpoint: str
    entries: Sequence[str]
    checkpoints: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": BUNDLE_FORMAT,
            "origin": self.origin,
            "verifier_keys": list(self.verifier_keys),
            "checkpoint": self.checkpoint,
            "checkpoints": list(self.checkpoints),
            "entries": list(self.entries),
        }

    @classmethod
    def from_json(cls, document: object) -> "Bundle":
        if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
            raise BundleFormatError(f"not a {BUNDLE_FORMAT} document")
        origin, checkpoint = document.get("origin"), document.get("checkpoint")
        if not isinstance(origin, str) or not isinstance(checkpoint, str):
            raise BundleFormatError("bundle origin and checkpoint must be strings")
        return cls(
            origin,
            _strings(document, "verifier_keys"),
            checkpoint,
            _strings(document, "entries"),
            _strings(document, "checkpoints", required=False),
        )


def read_bundle(path: Path) -> Bundle:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleFormatError(f"cannot read {path}: {exc}") from exc
    try:
        return Bundle.from_json(json.loads(text))
    except json.JSONDecodeError as exc:
        raise BundleFormatError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from exc


def write_bundle(bundle: Bundle, path: Path) -> None:
    """Write atomically: a reader never sees half a bundle."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(bundle.to_json(), ensure_ascii=False), encoding="utf-8")
    partial.replace(path)
