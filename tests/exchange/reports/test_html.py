"""The HTML report, opened in headless Chromium: its figures are the JSON report's."""

import re
from datetime import timedelta

from exchange import runtime
from exchange.reports import Period, compute
from exchange.reports.html import render
from exchange.services import operator
from tests.exchange.reports.conftest import verified_from_database
from tests.exchange.reports.page import (
    assert_figures_match,
    figures_of,
    png_summary,
    run_chromium,
)
from tests.exchange.reports.scripted import AS_OF, PERIOD
from tests.helpers.world import standard_world


def _report(app):
    verified = verified_from_database(app)
    return compute(
        verified.entries, checkpoint=verified.checkpoint, period=Period.parse(*PERIOD), now=AS_OF
    )


def test_the_page_in_chromium_shows_the_json_reports_figures(app, scripted, tmp_path):
    report = _report(app)
    document = report.to_json()
    page = tmp_path / "compliance.html"
    page.write_text(render(report, server="https://hotline.example"), encoding="utf-8")

    dom = run_chromium(tmp_path / "profile", "--dump-dom", page.as_uri()).stdout
    figures = figures_of(dom).figures
    assert_figures_match(figures, document)
    metrics = {figure.metric for figure in figures}
    for platform in ("chatter", "clipshare"):
        for path in (
            "cases_received",
            "acknowledgement.time.median_seconds",
            "acknowledgement.time.p90_seconds",
            "acknowledgement.time.max_seconds",
            "acknowledgement.share_met",
            "action.time.median_seconds",
            "action.time.p90_seconds",
            "action.time.max_seconds",
            "action.share_met",
            "outcomes.actioned",
            "declined",
            "overdue.count",
            "withdrawals.ack_time.median_seconds",
            "questions_from_agencies.unanswered",
            "weekly_volume.1.cases",
        ):
            assert f"platform:{platform}:{path}" in metrics, (platform, path)
    assert "totals:cases_received" in metrics
    assert "agency:metro-police:questions_from_platforms.answer_time.median_seconds" in metrics
    assert {"report:checkpoint.size", "report:checkpoint.root"} <= metrics
    # Every case of the strip charts is a dot with its time.
    clipshare = document["platforms"][1]
    dots = [f for f in figures if f.tag == "circle" and f.metric.startswith("platform:clipshare")]
    assert len(dots) == len(clipshare["acknowledgement"]["samples"]) + len(
        clipshare["action"]["samples"]
    )
    # Readable values: the summary shows clipshare's ack p90 (5 h) and share (33.3%, as
    # CLDR writes it in English).
    shown = {f.metric: f.text for f in figures}
    assert shown["platform:clipshare:acknowledgement.time.p90_seconds"] == "5 h"
    assert shown["platform:clipshare:acknowledgement.share_met"] == "33.3%"
    assert shown["platform:chatter:action.time.median_seconds"] == "\N{EN DASH}"
    assert document["checkpoint"]["note"] in dom.replace("&amp;", "&")

    screenshot = tmp_path / "compliance.png"
    run_chromium(
        tmp_path / "profile",
        f"--screenshot={screenshot}",
        "--window-size=1280,2000",
        page.as_uri(),
    )
    width, height, variety = png_summary(screenshot)
    assert (width, height) == (1280, 2000)
    assert screenshot.stat().st_size > 50_000
    assert variety > 100  # text, tables and charts; a blank page has a handful


def test_the_page_needs_no_network(app, scripted):
    html = render(_report(app))
    lowered = html.lower()
    for needle in ("<script", "<link", "src=", "href=", "url(", "@import", "<iframe", "<img"):
        assert needle not in lowered, needle
    assert "default-src 'none'" in html  # the page's own policy forbids any fetch
    tags = set(figures_of(html).tags)
    assert tags <= {
        "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p",
        "time", "code", "section", "table", "thead", "tbody", "tr", "th", "td", "span",
        "small", "div", "svg", "line", "text", "circle", "rect", "pre",
    }  # fmt: skip


def test_names_from_the_operator_are_escaped(app, client, clock, tmp_path):
    world = standard_world(app, client, clock)
    evil = '</td><script>document.title="owned"</script><img src=x onerror=alert(1)> & "Co"'
    with app.app_context(), runtime.write() as session:
        operator.create_organisation(session, clock(), "evil", "platform", evil)
    verified = verified_from_database(app)
    start = clock() - timedelta(days=1)
    report = compute(
        verified.entries,
        checkpoint=verified.checkpoint,
        period=Period(start, start + timedelta(days=7)),
        now=clock(),
    )
    html = render(report, server='https://x.example/"><script>alert(2)</script>')
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert html.count("&lt;script&gt;") >= 3
    page = tmp_path / "evil.html"
    page.write_text(html, encoding="utf-8")
    dom = run_chromium(tmp_path / "profile", "--dump-dom", page.as_uri()).stdout
    # The browser built no script or image: the name is text, shown as it was written.
    assert "<script" not in dom.lower()
    assert "<img" not in dom.lower()
    title = re.search(r'<section class="platform" id="platform-evil">\s*<h2>(.*?) <small>', dom)
    assert title is not None
    assert title.group(1) == (
        '&lt;/td&gt;&lt;script&gt;document.title="owned"&lt;/script&gt;&lt;img src=x '
        'onerror=alert(1)&gt; &amp; "Co"'
    )
    assert world.log_size() == verified.checkpoint.size


def test_the_evidence_figures_are_on_the_page(app, scripted):
    report = _report(app)
    figures = figures_of(render(report, server="https://hotline.example")).figures
    assert_figures_match(figures, report.to_json())
    shown = {figure.metric: figure.value for figure in figures}
    assert shown["platform:clipshare:evidence.removals_claimed"] == "2"
    assert shown["platform:clipshare:evidence.breach_entries.action"] == "1"
    assert shown["platform:chatter:evidence.questions_overdue"] == "1"
    assert shown["platform:chatter:evidence.breach_entries.answer"] == "1"
