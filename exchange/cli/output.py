"""Human output: tables, relative times, colour only on a terminal; or JSON for scripts."""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click

from schemas.common import parse_utc


def echo_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


def relative(timestamp: str | None, now: datetime | None = None) -> str:
    """'in 42 min', '3 h ago': how a person reads a deadline at 3 a.m."""
    if not timestamp:
        return "-"
    delta = (parse_utc(timestamp) - (now or datetime.now(UTC))).total_seconds()
    ahead, seconds = delta >= 0, abs(delta)
    if seconds < 90:
        span = f"{int(seconds)} s"
    elif seconds < 90 * 60:
        span = f"{int(seconds // 60)} min"
    elif seconds < 48 * 3600:
        span = f"{int(seconds // 3600)} h"
    else:
        span = f"{int(seconds // 86400)} d"
    return f"in {span}" if ahead else f"{span} ago"


_STATE_COLOURS = {"overdue": "red", "urgent": "red", "high": "yellow", "actioned": "green"}


def styled(text: str) -> str:
    """Colour a few words that matter; click strips colour when not on a terminal."""
    colour = _STATE_COLOURS.get(text)
    return click.style(text, fg=colour, bold=colour == "red") if colour else text


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> None:
    if not rows:
        click.echo("(nothing)")
        return
    widths = [
        max(len(click.unstyle(str(row[i]))) for row in [headers, *rows])
        for i in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(cell) + " " * (width - len(click.unstyle(str(cell))))
            for cell, width in zip(cells, widths, strict=True)
        ).rstrip()

    click.echo(click.style(line(headers), bold=True))
    for row in rows:
        click.echo(line([styled(str(cell)) for cell in row]))
