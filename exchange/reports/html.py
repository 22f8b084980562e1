"""The compliance report as one self-contained HTML page: inline CSS and SVG, no script.

Opened from a file with no network: nothing is fetched (the page's own Content-Security-
Policy forbids it). Jinja2 escapes every value, organisation names from the operator
included. Every figure shown carries `data-metric="<scope>:<path>"` and `data-value`,
where scope is `report`, `totals`, `platform:<id>` or `agency:<id>` and path is the dotted
path of the figure in that scope's JSON object (`exchange.reports.compliance`), so a test
or a script can read each number back and compare it with the JSON report.

The page holds ids and metadata only, never case content: it can be shared like the JSON
(files are written 0644).
"""

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from exchange.reports.charts import StripChart, strip_chart, volume_chart
from exchange.reports.compliance import (
    PRIORITIES,
    ComplianceReport,
    DeadlineFigures,
    Figures,
)
from exchange.reports.format import duration, share


def dig(document: Any, path: str) -> Any:
    """The value at a dotted path; list items by their index."""
    value = document
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def attribute_value(value: Any) -> str:
    """How a figure is written in `data-value`: JSON null as empty, numbers as Python prints
    them (which round-trips floats exactly)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def shown(value: Any, kind: str = "count") -> str:
    if value is None:
        return "\N{EN DASH}"
    if kind == "duration":
        return duration(float(value))
    if kind == "share":
        return share(float(value))
    return str(value)


_ENVIRONMENT = Environment(
    loader=PackageLoader("exchange.reports", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENVIRONMENT.filters.update(dig=dig, attribute_value=attribute_value, shown=shown)


def _charts(figures: Figures) -> dict[str, Any]:
    def strip(name: str, deadline: DeadlineFigures) -> StripChart:
        return strip_chart(deadline.samples, PRIORITIES, name)

    return {
        "acknowledgement": strip("acknowledgement", figures.acknowledgement),
        "action": strip("action", figures.action),
        "volume": volume_chart(figures.weekly_volume, "weekly_volume"),
    }


def render(report: ComplianceReport, *, server: str | None = None) -> str:
    """The page. `server` (the exchange's URL) fills in the re-verification commands."""
    document = report.to_json()
    names: Mapping[str, str] = {
        **{p["platform"]: p["name"] for p in document["platforms"]},
        **{a["agency"]: a["name"] for a in document["agencies"]},
    }
    sections = [
        {"scope": f"platform:{p['platform']}", "data": p, "charts": _charts(figures.figures)}
        for p, figures in zip(document["platforms"], report.platforms, strict=True)
    ]
    template = _ENVIRONMENT.get_template("compliance.html.j2")
    return template.render(
        report=document,
        sections=sections,
        names=names,
        priorities=PRIORITIES,
        server=server,
    )
