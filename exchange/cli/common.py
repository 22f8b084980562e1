"""What every hotline command shares: passphrases, input files, output and exit codes.

Exit codes: 0 ok; 1 refused or a check failed; 2 usage or connection error.
"""

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

PASSPHRASE_ENV = "HOTLINE_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret


class Refused(click.ClickException):
    """A request or check was refused: exit code 1, one line on stderr."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class UsageProblem(click.ClickException):
    """Bad invocation or no connection: exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


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


def echo_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))
