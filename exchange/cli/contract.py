"""The contract every `hotline` command keeps, in one place (documented in docs/cli.md).

- Output: human text on stdout; with `--json` (which every command takes) one JSON
  document on stdout, whose shape docs/cli.md gives. Notes, warnings and progress go to
  stderr, so stdout stays parseable.
- Errors: one line on stderr, `error: …`, naming the field or file at fault, never a
  traceback.
- Exit codes: 0 ok; 1 refused by the server or a failed check (a signature, the log, a
  digest, a wrong passphrase); 2 a usage problem: bad options or input files, no profile,
  no connection.
"""

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Refused(click.ClickException):
    """A request or check was refused: exit code 1, one line on stderr."""

    exit_code = EXIT_REFUSED

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class UsageProblem(click.ClickException):
    """Bad invocation, bad input, no profile or no connection: exit code 2."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def json_option(command: F) -> F:
    """`--json`: print one JSON document for scripts instead of text."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON for scripts (shapes: docs/cli.md)."
    )(command)


def echo_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def note(message: str) -> None:
    """Something the user should know that is not the command's output: on stderr."""
    click.echo(f"note: {message}", err=True)


def on_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress(length: int, label: str, at_least: int = 1) -> Iterator[Callable[[int], None]]:
    """`advance(done)` moves a bar on stderr, shown only on a terminal and for long work."""
    if length < at_least or not on_terminal():
        yield lambda _done: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        seen = 0

        def advance(done: int) -> None:
            nonlocal seen
            bar.update(done - seen)
            seen = done

        yield advance


def progress_over(items: Iterable[T], label: str) -> Iterator[T]:
    """Iterate `items`, with a bar on stderr when on a terminal (an unknown length spins)."""
    if not on_terminal():
        yield from items
        return
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar


class ProgressOf:
    """`report(done, total)` for work whose size is known only once it started (a log to
    fetch): a bar on stderr from the first report, on a terminal and for long work only."""

    def __init__(self, label: str, at_least: int = 1) -> None:
        self.label, self.at_least = label, at_least
        self._bar: Any = None
        self._seen = 0

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if total < self.at_least or not on_terminal():
                return
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(done - self._seen)
        self._seen = done

    def __enter__(self) -> "ProgressOf":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


class HotlineGroup(click.Group):
    """A group whose subcommands and subgroups share the help options and width, and
    whose subgroups are HotlineGroups too (`@group.group()`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = kwargs.setdefault("context_settings", {})
        settings.setdefault("help_option_names", ["-h", "--help"])
        settings.setdefault("max_content_width", 100)
        super().__init__(*args, **kwargs)

    group_class = type


__all__ = [
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "HotlineGroup",
    "ProgressOf",
    "Refused",
    "UsageProblem",
    "echo_json",
    "json_option",
    "note",
    "progress",
    "progress_over",
]
