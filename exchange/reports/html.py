"""The compliance report as one self-contained HTML page: inline CSS and SVG, no script.

Opened from a file with no network: nothing is fetched (the page's own Content-Security-
Policy forbids it). Jinja2 escapes every value, organisation names from the operator
included. Every figure shown carries `data-metric="<scope>:<path>"` and `data-value`,
where scope is `report`, `totals`, `platform:<id>` or `agency:<id>` and path is the dotted
path of the figure in that scope's JSON object (`exchange.reports.compliance`), so a test
or a script can read each number back and compare it with the JSON report.

The page holds ids and metadata only, never case content: it can be shared like the JSON
(files are written 0644).

The page is in English or Korean (`locale`, exchange/reports/i18n.py): its words from the
Babel catalogs, its numbers, durations and times written as the language writes them;
the `data-value` attributes and the commands to re-verify are the same in every language.
"""

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from exchange.reports import i18n
from exchange.reports.charts import StripChart, strip_chart, volume_chart
from exchange.reports.compliance import (
    PRIORITIES,
    ComplianceReport,
    DeadlineFigures,
    Figures,
)
from exchange.reports.i18n import Language
from schemas.common import parse_utc


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


def _shown(language: Language) -> Callable[..., str]:
    def shown(value: Any, kind: str = "count") -> str:
        if value is None:
            return "\N{EN DASH}"
        if kind == "duration":
            return language.duration(float(value))
        if kind == "share":
            return language.share(float(value))
        return language.number(value)

    return shown


@cache
def environment(code: str) -> Environment:
    """The template environment of one language: its gettext, its number formats."""
    language = i18n.language(code)
    env = Environment(
        loader=PackageLoader("exchange.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # One msgid per sentence however the template wraps it (babel.cfg extracts alike).
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(code), newstyle=True
    )
    env.filters.update(
        dig=dig,
        attribute_value=attribute_value,
        shown=_shown(language),
        number=language.number,
        label=language.label,
        deadline=language.deadline,
        moment=lambda text: language.moment(parse_utc(text)),
    )
    return env


def _charts(figures: Figures, language: Language) -> dict[str, Any]:
    def strip(name: str, deadline: DeadlineFigures) -> StripChart:
        return strip_chart(deadline.samples, PRIORITIES, name, language)

    return {
        "acknowledgement": strip("acknowledgement", figures.acknowledgement),
        "action": strip("action", figures.action),
        "volume": volume_chart(figures.weekly_volume, "weekly_volume", language),
    }


def render(
    report: ComplianceReport, *, server: str | None = None, locale: str = i18n.DEFAULT_LOCALE
) -> str:
    """The page, in `locale` (`exchange.reports.i18n.LOCALES`). `server` (the exchange's URL)
    fills in the re-verification commands."""
    language = i18n.language(locale)
    document = report.to_json()
    names: Mapping[str, str] = {
        **{p["platform"]: p["name"] for p in document["platforms"]},
        **{a["agency"]: a["name"] for a in document["agencies"]},
    }
    sections = [
        {
            "scope": f"platform:{p['platform']}",
            "data": p,
            "charts": _charts(figures.figures, language),
        }
        for p, figures in zip(document["platforms"], report.platforms, strict=True)
    ]
    template = environment(language.code).get_template("compliance.html.j2")
    return template.render(
        locale=language.code,
        report=document,
        sections=sections,
        names=names,
        priorities=PRIORITIES,
        server=server,
    )
