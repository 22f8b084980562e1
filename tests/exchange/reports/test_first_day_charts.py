"""The compliance page's charts on a first day (issue 16, finding 18): a one-week period,
answers within a second, and a period with no case at all."""

import re
from datetime import date, timedelta

from exchange.reports import Period, compute
from exchange.reports.charts import LEFT, MAX_BAR_WIDTH, strip_chart, volume_chart
from exchange.reports.compliance import Sample, WeekVolume
from exchange.reports.html import render
from tests.exchange.reports.conftest import verified_from_database
from tests.helpers.world import standard_world

DOT_RADIUS, DOT_STROKE = 5, 2


def test_18_a_one_week_period_is_one_slim_bar():
    chart = volume_chart([WeekVolume(date(2026, 3, 2), 4)], "weekly_volume")
    [bar] = chart.bars
    assert bar.width == MAX_BAR_WIDTH
    assert bar.x + bar.width / 2 == (LEFT + chart.width - 20) / 2  # centred in its week
    many = volume_chart(
        [WeekVolume(date(2026, 1, 5) + timedelta(weeks=i), 1) for i in range(27)], "w"
    )
    assert all(b.width < MAX_BAR_WIDTH for b in many.bars)


def test_18_a_dot_within_a_second_is_drawn_whole():
    samples = [Sample("c-1", "urgent", 0.4, 3600, "met", True)]
    chart = strip_chart(samples, ["urgent", "high", "normal"], "acknowledgement")
    [dot] = [dot for row in chart.rows for dot in row.dots]
    assert dot.x - DOT_RADIUS - DOT_STROKE / 2 >= LEFT
    assert chart.ticks[0].label == "≤ 1 s"
    assert chart.ticks[0].x == dot.x


def test_18_an_empty_period_says_no_data(app, client, clock):
    standard_world(app, client, clock)
    verified = verified_from_database(app)
    start = clock() - timedelta(days=200)
    report = compute(
        verified.entries,
        checkpoint=verified.checkpoint,
        period=Period(start, start + timedelta(days=7 * 27)),
        now=clock(),
    )
    html = render(report, server="https://hotline.example")
    assert html.count("No data: no case was received in this period") == len(report.platforms)
    assert "No data: nothing to plot for this period" in html
    assert re.search(r'<rect class="bar"', html) is None
