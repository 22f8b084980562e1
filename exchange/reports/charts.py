"""Chart geometry for the HTML report, computed here and drawn as inline SVG by the template.

Two charts: a strip plot of answer times against the deadline, one row per priority, on a
logarithmic time axis (deadlines span seconds to days); and weekly volume bars. Nothing
here is markup: the template escapes every label it draws.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from exchange.reports.compliance import Sample, WeekVolume
from exchange.reports.i18n import ENGLISH, Language

STRIP_WIDTH, ROW_HEIGHT, LEFT, RIGHT, TOP, AXIS = 760, 46, 90, 20, 10, 34
BARS_WIDTH, BARS_HEIGHT, BARS_TOP, BARS_BOTTOM = 760, 180, 22, 36
# The axis starts this far right of the plot's edge, so that a dot at "≤ 1 s" (radius 5,
# stroke 2) is drawn whole.
STRIP_PAD = 8
# A bar is never wider than this: a one-week period is one slim bar, not a wall.
MAX_BAR_WIDTH = 40
# Round durations for axis ticks, in seconds.
_TICKS = (1, 10, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    verdict: str  # met, missed or pending: the colour
    answered: bool  # hollow while still waiting
    metric: str
    value: float
    title: str


@dataclass(frozen=True)
class DeadlineMark:
    x: float
    label: str
    anchor: str  # where the label sits: "start" (right of the mark) or "end" (left)


@dataclass(frozen=True)
class Row:
    label: str
    y: float
    marks: tuple[DeadlineMark, ...]
    dots: tuple[Dot, ...]


@dataclass(frozen=True)
class StripChart:
    width: int
    height: int
    left: int
    right: int
    axis_y: float
    rows: tuple[Row, ...]
    ticks: tuple[Tick, ...]

    @property
    def empty(self) -> bool:
        """No time to plot: the page says so instead of drawing bare axes."""
        return not any(row.dots for row in self.rows)


def strip_chart(
    samples: Sequence[Sample],
    priorities: Sequence[str],
    metric_prefix: str,
    language: Language = ENGLISH,
) -> StripChart:
    """Each sample a dot at its time on its priority's row, the row's deadline(s) marked."""
    values = [s.seconds for s in samples] + [s.allowed_seconds for s in samples]
    top = max([60.0, *values]) * 1.5
    span = math.log10(top)
    inner = STRIP_WIDTH - LEFT - RIGHT - STRIP_PAD

    def x(seconds: float) -> float:
        return round(LEFT + STRIP_PAD + inner * math.log10(max(seconds, 1.0)) / span, 2)

    rows = []
    for row_index, priority in enumerate(priorities):
        y = TOP + ROW_HEIGHT * row_index + ROW_HEIGHT / 2
        mine = [(i, s) for i, s in enumerate(samples) if s.priority == priority]
        allowed = sorted({s.allowed_seconds for _, s in mine})
        dots = tuple(
            Dot(
                x=x(sample.seconds),
                # A small fixed spread, so equal times stay visible as separate dots.
                y=round(y + ((n % 5) - 2) * 5, 2),
                verdict=sample.verdict,
                answered=sample.answered,
                metric=f"{metric_prefix}.samples.{i}.seconds",
                value=sample.seconds,
                title=_dot_title(sample, language),
            )
            for n, (i, sample) in enumerate(mine)
        )
        marks = tuple(
            DeadlineMark(
                x(a),
                _("deadline %(time)s", language) % {"time": language.duration(a)},
                "start" if x(a) < inner else "end",
            )
            for a in allowed
        )
        rows.append(Row(language.label(priority), y, marks, dots))
    axis_y = TOP + ROW_HEIGHT * len(priorities)
    # Shorter times are drawn at the axis' start: log scales have no zero.
    ticks = tuple(
        Tick(x(t), "≤ " + language.duration(t) if t == 1 else language.duration(t))
        for t in _TICKS
        if t <= top
    )
    return StripChart(STRIP_WIDTH, int(axis_y + AXIS), LEFT, RIGHT, axis_y, tuple(rows), ticks)


def _(message: str, language: Language) -> str:
    """A message of the charts, in `language` (named `_` for pybabel extract)."""
    return language.gettext(message)


def _dot_title(sample: Sample, language: Language) -> str:
    values = {
        "case": sample.case_id,
        "time": language.duration(sample.seconds),
        "verdict": language.label(sample.verdict),
        "deadline": language.duration(sample.allowed_seconds),
    }
    if sample.answered:
        return _("case %(case)s: %(time)s (%(verdict)s; deadline %(deadline)s)", language) % values
    return (
        _(
            "case %(case)s: %(time)s so far, unanswered (%(verdict)s; deadline %(deadline)s)",
            language,
        )
        % values
    )


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    metric: str
    label: str | None  # the week's date (YYYY-MM-DD), on every few bars only
    label_shown: str  # that date as the language writes it
    label_metric: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    base_y: float
    bars: tuple[Bar, ...]

    @property
    def empty(self) -> bool:
        """No case in any week: the page says so instead of drawing zero-height bars."""
        return not any(bar.count for bar in self.bars)


def volume_chart(
    weeks: Sequence[WeekVolume], metric_prefix: str, language: Language = ENGLISH
) -> BarChart:
    """One bar per ISO week (Monday, UTC) of the period, its count written above it."""
    inner = BARS_WIDTH - LEFT - RIGHT
    slot = inner / max(len(weeks), 1)
    highest = max([1, *(w.cases for w in weeks)])
    plot = BARS_HEIGHT - BARS_TOP - BARS_BOTTOM
    every = max(1, math.ceil(len(weeks) / 12))
    bars = []
    width = min(slot * 0.7, MAX_BAR_WIDTH)
    for i, week in enumerate(weeks):
        height = plot * week.cases / highest
        bars.append(
            Bar(
                x=round(LEFT + slot * i + (slot - width) / 2, 2),
                y=round(BARS_TOP + plot - height, 2),
                width=round(width, 2),
                height=round(height, 2),
                count=week.cases,
                metric=f"{metric_prefix}.{i}.cases",
                label=week.week_start.isoformat() if i % every == 0 else None,
                label_shown=language.day(week.week_start),
                label_metric=f"{metric_prefix}.{i}.week_start",
            )
        )
    return BarChart(BARS_WIDTH, BARS_HEIGHT, BARS_TOP + plot, tuple(bars))
