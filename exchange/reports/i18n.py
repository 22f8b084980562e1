"""The languages of the human reports (the HTML page and the CLI's text): English and Korean.

Messages come from the Babel catalogs in `exchange/reports/locales/<code>/LC_MESSAGES/
messages.po`, compiled in memory on first use (a fresh clone or an installed package
needs no build step, and no generated `.mo` file is kept). English is the source
language: its catalog is empty and every message reads as written. Numbers, shares,
durations and times are written with Babel (CLDR) for the language; every time is shown
in UTC, as the JSON report has it. Machine-readable output (`--json`, the page's
`data-value` attributes, the re-verification commands) never depends on the language.

How a language is chosen (`choose`): an explicit choice (`--locale`, else the
`HOTLINE_LOCALE` environment variable) must name a supported language, or it is an
error; else the system's locale (`LC_ALL`, `LC_MESSAGES`, `LANG`, the first one set, as
POSIX has it) is used when it is a supported language and English otherwise (a German
desktop still gets a report, in English).
"""

import gettext
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from io import BytesIO

from babel.dates import format_date, format_skeleton, get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from exchange.reports.vocabulary import DEADLINES, LABELS, N_

LOCALES = ("en", "ko")
DEFAULT_LOCALE = "en"
LOCALE_ENV = "HOTLINE_LOCALE"
# POSIX precedence: the first of these that is set and not empty decides.
SYSTEM_LOCALE_ENV = ("LC_ALL", "LC_MESSAGES", "LANG")
DOMAIN = "messages"


class UnknownLocaleError(ValueError):
    """A language asked for by name that the reports are not translated into."""


def parse_locale(text: str) -> str:
    """'ko', 'ko_KR', 'ko-KR', 'ko_KR.UTF-8' or 'ko_KR@euro' -> 'ko'; or UnknownLocaleError."""
    language = text.strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_").split("_")[0]
    if language.lower() in LOCALES:
        return language.lower()
    supported = ", ".join(LOCALES)
    raise UnknownLocaleError(f"unknown locale {text[:40]!r}: the reports exist in {supported}")


def choose(explicit: str | None, environ: Mapping[str, str]) -> str:
    """The language of a report: see the module docstring."""
    if explicit:
        return parse_locale(explicit)
    configured = environ.get(LOCALE_ENV)
    if configured:
        try:
            return parse_locale(configured)
        except UnknownLocaleError as exc:
            raise UnknownLocaleError(f"{LOCALE_ENV}: {exc}") from exc
    for name in SYSTEM_LOCALE_ENV:
        value = environ.get(name)
        if value:
            try:
                return parse_locale(value)
            except UnknownLocaleError:
                return DEFAULT_LOCALE  # C, POSIX, or a language not translated
    return DEFAULT_LOCALE


def catalog_path(code: str) -> Traversable:
    return resources.files("exchange.reports") / "locales" / code / "LC_MESSAGES" / "messages.po"


@cache
def translations(code: str) -> gettext.GNUTranslations:
    """The catalog of `code`, compiled from its .po file (fuzzy entries left out)."""
    with catalog_path(code).open("rb") as source:
        catalog = read_po(source, locale=code, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


# Durations: two units at most, the larger first.
_MINUTE, _HOUR, _DAY = 60, 3600, 86400


@dataclass(frozen=True)
class Language:
    """One language's messages and number, duration and date formats."""

    code: str

    def gettext(self, message: str) -> str:
        return translations(self.code).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.code).ngettext(singular, plural, n)

    def label(self, value: str) -> str:
        """A value of a closed vocabulary (a priority, an outcome, a state...) in words;
        a value the vocabulary does not know yet is shown as it is."""
        english = LABELS.get(value)
        return value if english is None else self.gettext(english)

    def deadline(self, kind: str) -> str:
        """A kind of deadline ('ack', 'action', ...) in words."""
        english = DEADLINES.get(kind)
        return kind if english is None else self.gettext(english)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.code)

    def share(self, fraction: float) -> str:
        """A share in 0..1 as a percentage with one decimal: '33.3%'."""
        return format_percent(round(fraction, 3), "#,##0.0%", locale=self.code)

    def _unit(self, amount: int, unit: str) -> str:
        return self.gettext(unit) % {"n": self.number(amount)}

    def duration(self, seconds: float) -> str:
        """'250 ms', '4.5 s', '12 min 5 s', '3 h 20 min', '2 d 4 h': two units at most."""
        whole = round(seconds)
        if 0 < seconds < 1:
            return self._unit(round(seconds * 1000), N_("%(n)s ms"))
        if seconds < 10 and whole != seconds:
            tenths = format_decimal(round(seconds, 1), "#,##0.0", locale=self.code)
            return self.gettext("%(n)s s") % {"n": tenths}
        if whole < _MINUTE:
            return self._unit(whole, N_("%(n)s s"))
        minutes, secs = divmod(whole, _MINUTE)
        if minutes < _HOUR // _MINUTE:
            return self._pair(minutes, N_("%(n)s min"), secs, N_("%(n)s s"))
        hours, minutes = divmod(minutes, _HOUR // _MINUTE)
        if hours < _DAY // _HOUR:
            return self._pair(hours, N_("%(n)s h"), minutes, N_("%(n)s min"))
        days, hours = divmod(hours, _DAY // _HOUR)
        return self._pair(days, N_("%(n)s d"), hours, N_("%(n)s h"))

    def _pair(self, first: int, first_unit: str, second: int, second_unit: str) -> str:
        shown = self._unit(first, first_unit)
        return f"{shown} {self._unit(second, second_unit)}" if second else shown

    def moment(self, value: datetime) -> str:
        """An instant, in UTC: 'March 16, 2026, 12:00:00 UTC', '2026년 3월 16일 12:00:00 UTC'."""
        utc = value.astimezone(UTC)
        day = format_date(utc.date(), "long", locale=self.code)
        clock = format_skeleton("Hms", utc, tzinfo=UTC, locale=self.code, fuzzy=True)
        joined = str(get_datetime_format("long", locale=self.code)).replace("{1}", day)
        return self.gettext("%(moment)s UTC") % {"moment": joined.replace("{0}", clock)}

    def day(self, value: date) -> str:
        """A day without its year, for chart labels: 'Mar 2', '3월 2일'."""
        return format_skeleton("MMMd", value, locale=self.code, fuzzy=True)


@cache
def language(code: str = DEFAULT_LOCALE) -> Language:
    if code not in LOCALES:
        raise UnknownLocaleError(f"unknown locale {code!r}")
    return Language(code)


ENGLISH = language(DEFAULT_LOCALE)
