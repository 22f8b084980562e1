"""Human output: tables, relative times, colour only on a terminal; or JSON for scripts."""

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import click

from exchange.cli.contract import echo_json
from exchange.protocol.workflow import AWAITING_ACK, AWAITING_ACTION
from schemas.common import parse_utc

__all__ = ["deadline", "deadlines_line", "echo_json", "relative", "styled", "table", "width"]


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


def width(text: str) -> int:
    """Columns a terminal gives `text`: two for wide characters (Hangul, CJK), none for
    combining marks, colour codes left out."""
    return sum(
        2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
        for c in click.unstyle(text)
    )


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> None:
    if not rows:
        click.echo("(nothing)")
        return
    widths = [max(width(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(cell) + " " * (column - width(str(cell)))
            for cell, column in zip(cells, widths, strict=True)
        ).rstrip()

    click.echo(click.style(line(headers), bold=True))
    for row in rows:
        click.echo(line([styled(str(cell)) for cell in row]))


def deadline(case: Mapping[str, Any], now: datetime | None = None) -> str:
    """The deadline still running on a case, as a short cell: none once it is answered."""
    if case["overdue"]:
        return "overdue"
    if case["state"] in AWAITING_ACK:
        return f"ack {relative(case['ack_due_at'], now)}"
    if case["state"] in AWAITING_ACTION:
        return f"action {relative(case['action_due_at'], now)}"
    return "-"


def deadlines_line(case: Mapping[str, Any], now: datetime | None = None) -> str:
    """The deadlines of `show`: only those still running, and OVERDUE when one passed."""
    late = "  OVERDUE" if case["overdue"] else ""
    if case["state"] in AWAITING_ACK:
        return (
            f"ack due {relative(case['ack_due_at'], now)}, action due "
            f"{relative(case['action_due_at'], now)}{late}"
        )
    if case["state"] in AWAITING_ACTION:
        return f"acknowledged; action due {relative(case['action_due_at'], now)}{late}"
    return f"no deadline running (the case is {case['state']})"
