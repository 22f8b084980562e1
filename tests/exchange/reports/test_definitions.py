"""The pure pieces: nearest-rank percentiles, periods and their weeks, readable durations."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.reports import Period, PeriodError
from exchange.reports.format import duration, share
from exchange.reports.period import week_of
from exchange.reports.stats import DurationStats, nearest_rank


def test_nearest_rank_by_hand():
    values = [15, 20, 35, 40, 50]  # the textbook example
    assert nearest_rank(values, 5) == 15
    assert nearest_rank(values, 30) == 20
    assert nearest_rank(values, 40) == 20
    assert nearest_rank(values, 50) == 35
    assert nearest_rank(values, 90) == 50
    assert nearest_rank(values, 100) == 50
    # For an even count the median is the lower middle value, not an average.
    assert nearest_rank([1, 2, 3, 4], 50) == 2
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank(list(range(1, 12)), 90) == 10


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=50), st.integers(1, 100))
def test_a_percentile_is_a_value_with_enough_below(values, percent):
    ordered = sorted(values)
    found = nearest_rank(ordered, percent)
    assert found in ordered
    at_or_below = sum(1 for v in ordered if v <= found)
    assert at_or_below * 100 >= percent * len(ordered)
    below = sum(1 for v in ordered if v < found)
    assert below * 100 < percent * len(ordered)


def test_nearest_rank_refuses_nonsense():
    with pytest.raises(ValueError, match="no values"):
        nearest_rank([], 50)
    with pytest.raises(ValueError, match=r"1\.\.100"):
        nearest_rank([1], 0)


def test_duration_stats():
    assert DurationStats.of([]).to_json() == {
        "count": 0,
        "median_seconds": None,
        "p90_seconds": None,
        "max_seconds": None,
    }
    assert DurationStats.of([30.0, 10.0, 20.0]) == DurationStats(3, 20.0, 30.0, 30.0)


def test_periods_take_dates_as_whole_days_and_timestamps_as_they_are():
    period = Period.parse("2026-01-01", "2026-06-30")
    assert period.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert period.end == datetime(2026, 7, 1, tzinfo=UTC)
    assert datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=UTC) in period
    assert datetime(2026, 7, 1, tzinfo=UTC) not in period
    exact = Period.parse("2026-03-03T09:00:00Z", "2026-03-03T09:00:01.5Z")
    assert exact.to_json() == {"from": "2026-03-03T09:00:00Z", "to": "2026-03-03T09:00:01.500000Z"}


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-02-30", "2026-03-01", "from '2026-02-30'"),
        ("2026-03-01", "03/02/2026", "to '03/02/2026'"),
        ("2026-03-01T00:00:00+01:00", "2026-03-02", "from"),
        ("2026-03-02", "2026-03-01", "must end after it starts"),
        ("2000-01-01", "2026-01-01", "longer than 3660 days"),
        ("9999-12-31", "9999-12-31", "to '9999-12-31'"),
    ],
)
def test_bad_periods(start, end, message):
    with pytest.raises(PeriodError, match=message):
        Period.parse(start, end)


def test_weeks_are_the_iso_weeks_overlapping_the_period():
    # Wednesday 2026-03-04 to Monday 2026-03-16 (included): three ISO weeks.
    period = Period.parse("2026-03-04", "2026-03-16")
    assert list(period.weeks()) == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    assert week_of(datetime(2026, 3, 8, 23, 59, tzinfo=UTC)) == date(2026, 3, 2)
    assert week_of(datetime(2026, 3, 9, 0, 0, tzinfo=UTC)) == date(2026, 3, 9)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (0.25, "250 ms"),
        (0.0004, "0 ms"),
        (4.5, "4.5 s"),
        (42, "42 s"),
        (60, "1 min"),
        (725, "12 min 5 s"),
        (3600, "1 h"),
        (12000, "3 h 20 min"),
        (86400, "1 d"),
        (288000, "3 d 8 h"),
    ],
)
def test_durations_read_as_a_person_says_them(seconds, text):
    assert duration(seconds) == text


def test_shares():
    assert share(1 / 3) == "33.3%"
    assert share(1.0) == "100.0%"
