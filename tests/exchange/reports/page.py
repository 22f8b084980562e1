"""Reading the HTML report back: its marked figures, and headless Chromium to render it."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from exchange.reports.html import dig
from exchange.reports.i18n import language
from tests.helpers.databases import in_ci

# Headless, and nothing that could reach a network: the page must stand alone.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@dataclass
class Figure:
    metric: str
    value: str
    tag: str
    text: str = ""


@dataclass
class _Open:
    figure: Figure
    tag: str
    depth: int


class FigureReader(HTMLParser):
    """Every element with data-metric: its data-value and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: list[Figure] = []
        self.tags: list[str] = []
        self._open: list[_Open] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        named = dict(attrs)
        if tag in ("meta", "br", "line", "rect", "img", "input", "link"):
            return  # void (or, in the SVG here, always empty) elements
        self._depth += 1
        if "data-metric" in named:
            figure = Figure(str(named["data-metric"]), str(named.get("data-value") or ""), tag)
            self.figures.append(figure)
            self._open.append(_Open(figure, tag, self._depth))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("meta", "br", "line", "rect", "img", "input", "link"):
            return
        if self._open and self._open[-1].depth == self._depth and self._open[-1].tag == tag:
            self._open.pop()
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        for opened in self._open:
            opened.figure.text += data


def figures_of(html: str) -> FigureReader:
    reader = FigureReader()
    reader.feed(html)
    reader.close()
    return reader


def scope_object(report: dict[str, Any], scope: str) -> Any:
    if scope == "report":
        return report
    if scope == "totals":
        return report["totals"]
    kind, _, org = scope.partition(":")
    group = {"platform": "platforms", "agency": "agencies"}[kind]
    (found,) = [item for item in report[group] if item[kind] == org]
    return found


def json_value(report: dict[str, Any], metric: str) -> Any:
    scope, path = metric.rsplit(":", 1)
    return dig(scope_object(report, scope), path)


def assert_figures_match(figures: list[Figure], report: dict[str, Any], locale: str = "en") -> None:
    """Each figure's data-value is the JSON report's value at its metric; a count reads as
    the page's language writes that number."""
    for figure in figures:
        value = json_value(report, figure.metric)
        if value is None:
            assert figure.value == "", figure
            assert figure.text.strip() in ("\N{EN DASH}", ""), figure
        elif isinstance(value, bool):
            raise AssertionError(f"booleans are not shown as figures: {figure}")
        elif isinstance(value, int | float):
            assert float(figure.value) == value, (figure, value)
            if isinstance(value, int) and figure.tag in ("span", "text"):
                assert figure.text.strip() == language(locale).number(value), figure
        else:
            assert figure.value == value, (figure, value)


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        reason = "chromium is not installed (Debian: apt-get install chromium)"
        if in_ci():
            pytest.fail(f"{reason}; CI must open the HTML report (.ci/run installs it)")
        pytest.skip(f"{reason}: the HTML report is not opened in a browser")
    return path


def korean_font() -> None:
    """A font with Hangul, without which Chromium draws the Korean page as empty boxes."""
    fc_list = shutil.which("fc-list")
    if fc_list is not None:
        listed = subprocess.run(
            [fc_list, ":lang=ko", "family"], capture_output=True, text=True, check=False
        )
        if listed.returncode == 0 and listed.stdout.strip():
            return
    reason = "no font with Hangul (Debian: apt-get install fonts-nanum)"
    if in_ci():
        pytest.fail(f"{reason}; CI must draw the Korean report (.ci/run installs it)")
    pytest.skip(f"{reason}: the Korean page is not drawn")


def run_chromium(profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def png_summary(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct byte values of the decompressed image data) of a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, width, height, compressed = 8, 0, 0, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            compressed += body
        position += 12 + length
    return width, height, len(set(zlib.decompress(compressed)))
