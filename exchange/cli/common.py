"""What every hotline command shares: passphrases and input files (the contract of
output and exit codes is `exchange.cli.contract`, re-exported here)."""

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from exchange.cli.contract import Refused, UsageProblem, echo_json

PASSPHRASE_ENV = "HOTLINE_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret


def passphrase(confirm: bool = False) -> bytes:
    """The key passphrase from HOTLINE_PASSPHRASE, else a hidden prompt."""
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env.encode()
    if not sys.stdin.isatty():
        raise UsageProblem(f"no terminal to ask for the passphrase: set {PASSPHRASE_ENV}")
    entered: str = click.prompt(
        "Key passphrase", hide_input=True, confirmation_prompt=confirm, err=True
    )
    return entered.encode()


def read_json(source: str) -> Any:
    """Read a JSON document from a path, or from stdin when the path is '-'."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageProblem(f"cannot read {source}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageProblem(f"{source} is not JSON: {exc.msg} at line {exc.lineno}") from exc


__all__ = ["Refused", "UsageProblem", "echo_json", "passphrase", "read_json"]
