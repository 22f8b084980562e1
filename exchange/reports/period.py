"""The period a report covers, and how its bounds are written.

A bound is a date (`YYYY-MM-DD`, a whole UTC day) or an RFC 3339 UTC timestamp. The period
is half-open, [from, to): a date as `from` starts at its midnight, a date as `to` ends at
the next midnight, so `--from 2026-01-01 --to 2026-06-30` is the whole first half-year.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from schemas.common import format_utc
from schemas.reports import MAX_PERIOD, BoundError, parse_bound


class PeriodError(ValueError):
    """A bound that is not a date or a UTC timestamp, or a period that is empty or too long."""


@dataclass(frozen=True)
class Period:
    """[start, end), in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise PeriodError("a period's bounds must be timezone-aware")
        if self.end <= self.start:
            raise PeriodError("the period must end after it starts")
        if self.end - self.start > MAX_PERIOD:
            raise PeriodError(f"the period is longer than {MAX_PERIOD.days} days")

    @classmethod
    def parse(cls, start: str, end: str) -> "Period":
        bounds = []
        for name, text in (("from", start), ("to", end)):
            try:
                bounds.append(parse_bound(text, end=name == "to"))
            except BoundError as exc:
                raise PeriodError(f"{name} {text[:40]!r}: {exc}") from exc
        return cls(*bounds)

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def weeks(self) -> Iterator[date]:
        """The Mondays (UTC) of every ISO week that overlaps the period."""
        monday = self.start.date() - timedelta(days=self.start.weekday())
        while datetime.combine(monday, time(0), tzinfo=UTC) < self.end:
            yield monday
            monday += timedelta(days=7)

    def to_json(self) -> dict[str, str]:
        return {"from": format_utc(self.start), "to": format_utc(self.end)}


def week_of(moment: datetime) -> date:
    """The Monday (UTC) of the ISO week `moment` falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())
