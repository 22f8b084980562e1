"""The reports in Korean and English (issue 18): the catalogs, how a language is chosen, the
page in both languages in headless Chromium with the same figures, the CLI's text in Korean."""

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from exchange.cli.output import width
from exchange.cli.reporting import ReportText
from exchange.reports.compliance import DISPOSITIONS, MET, MISSED, PENDING, RELEASED
from exchange.reports.evidence import _BREACH_KINDS
from exchange.reports.history import ACK, ACTION
from exchange.reports.html import render
from exchange.reports.i18n import (
    UnknownLocaleError,
    choose,
    language,
    parse_locale,
    translations,
)
from exchange.reports.vocabulary import DEADLINES, LABELS
from schemas.api import CASE_STATES
from schemas.enums import Category, Outcome, Priority, ReasonCode, RequestType
from tests.exchange.reports.page import (
    assert_figures_match,
    figures_of,
    korean_font,
    png_summary,
    run_chromium,
)
from tests.exchange.reports.test_html import _report

ROOT = Path(__file__).resolve().parents[3]
LOCALES = resources.files("exchange.reports") / "locales"


def _catalog(path, locale=None):
    with path.open("rb") as source:
        return read_po(source, locale=locale)


# --- the catalogs ---------------------------------------------------------------------------


def test_every_message_is_translated_into_korean():
    template = _catalog(LOCALES / "messages.pot")
    korean = _catalog(LOCALES / "ko" / "LC_MESSAGES" / "messages.po", "ko")
    wanted = {message.id for message in template if message.id}
    assert len(wanted) > 150
    assert {message.id for message in korean if message.id} == wanted
    for message in korean:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"not translated: {message.id!r}"
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
    assert not korean.obsolete
    # Babel's checks: the same %(name)s placeholders in each translation as in its msgid.
    assert [(message.id, errors) for message, errors in korean.check()] == []
    assert korean.plural_forms == "nplurals=1; plural=0;"


def test_the_english_catalog_holds_the_same_messages():
    template = _catalog(LOCALES / "messages.pot")
    english = _catalog(LOCALES / "en" / "LC_MESSAGES" / "messages.po", "en")
    assert {m.id for m in english if m.id} == {m.id for m in template if m.id}


def test_the_committed_template_is_what_make_messages_extracts(tmp_path):
    """A word added to the page or the CLI outside the catalogs fails here until `make
    messages` is run (and then the Korean test until it is translated)."""
    extracted = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [
            str(pybabel),
            "extract",
            "-F",
            "babel.cfg",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(extracted),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    committed = (LOCALES / "messages.pot").read_text(encoding="utf-8")
    assert extracted.read_text(encoding="utf-8") == committed


def test_every_value_a_report_shows_has_words():
    """A new priority, category, outcome, state... must get a label (and its translation)."""
    values = {
        *Priority,
        *Category,
        *RequestType,
        *Outcome,
        *ReasonCode,
        *CASE_STATES,
        *DISPOSITIONS,
        MET,
        MISSED,
        RELEASED,
        PENDING,
    }
    assert {str(value) for value in values} <= set(LABELS)
    assert {ACK, ACTION, *_BREACH_KINDS} <= set(DEADLINES)
    korean = language("ko")
    assert korean.label("sexual_deepfake") == "성적 허위영상물(딥페이크)"
    assert korean.label("outside_territorial_scope") == "적용 지역 범위 밖"
    assert korean.deadline("ack") == "접수 확인"
    assert korean.label("a_value_of_tomorrow") == "a_value_of_tomorrow"


# --- numbers, durations and times -------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "english", "korean"),
    [
        (0, "0 s", "0초"),
        (0.25, "250 ms", "250밀리초"),
        (4.5, "4.5 s", "4.5초"),
        (725, "12 min 5 s", "12분 5초"),
        (12000, "3 h 20 min", "3시간 20분"),
        (288000, "3 d 8 h", "3일 8시간"),
        (1234 * 86400, "1,234 d", "1,234일"),
    ],
)
def test_durations_in_both_languages(seconds, english, korean):
    assert language("en").duration(seconds) == english
    assert language("ko").duration(seconds) == korean


def test_numbers_shares_and_times_in_both_languages():
    moment = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
    en, ko = language("en"), language("ko")
    assert (en.number(12345), ko.number(12345)) == ("12,345", "12,345")
    assert (en.share(1 / 3), ko.share(1 / 3)) == ("33.3%", "33.3%")
    assert en.moment(moment) == "March 16, 2026, 12:00:00 UTC"
    assert ko.moment(moment) == "2026년 3월 16일 12:00:00 UTC"
    assert (en.day(date(2026, 3, 2)), ko.day(date(2026, 3, 2))) == ("Mar 2", "3월 2일")


# --- choosing the language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("explicit", "environ", "chosen"),
    [
        (None, {}, "en"),
        ("ko", {"HOTLINE_LOCALE": "en", "LANG": "en_US.UTF-8"}, "ko"),
        ("ko-KR", {}, "ko"),
        (None, {"HOTLINE_LOCALE": "ko", "LC_ALL": "en_GB.UTF-8"}, "ko"),
        (None, {"LANG": "ko_KR.UTF-8"}, "ko"),
        (None, {"LC_MESSAGES": "ko_KR.eucKR", "LANG": "en_US.UTF-8"}, "ko"),
        (None, {"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "ko_KR.UTF-8"}, "en"),
        (None, {"LANG": "C.UTF-8"}, "en"),
        (None, {"LANG": "de_DE.UTF-8"}, "en"),  # not translated: English, not an error
        (None, {"LC_ALL": "", "LANG": "ko_KR"}, "ko"),
    ],
)
def test_the_language_is_chosen_by_flag_then_environment(explicit, environ, chosen):
    assert choose(explicit, environ) == chosen


def test_an_unknown_language_asked_for_is_an_error():
    with pytest.raises(UnknownLocaleError, match=r"unknown locale 'fr': the reports exist in en"):
        parse_locale("fr")
    with pytest.raises(UnknownLocaleError, match=r"^HOTLINE_LOCALE: unknown locale 'de_DE'"):
        choose(None, {"HOTLINE_LOCALE": "de_DE"})


def test_catalogs_are_compiled_once_per_language():
    assert translations("ko") is translations("ko")
    assert translations("ko").gettext("Compliance report") == "준수 보고서"
    assert translations("en").gettext("Compliance report") == "Compliance report"


# --- the page ------------------------------------------------------------------------------


class _Text(HTMLParser):
    """The words a reader sees, outside code, pre and style (identifiers and commands)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("code", "pre", "style"):
            self._skipping += 1
        for name, value in attrs:
            if name == "aria-label" and value:
                self.words.append(value)

    def handle_endtag(self, tag):
        if tag in ("code", "pre", "style"):
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.words.append(data)


def _visible(html: str) -> str:
    reader = _Text()
    reader.feed(html)
    return " ".join(reader.words)


def _squeezed(html_fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html_fragment)).strip()


def test_no_english_is_left_on_the_korean_page(app, scripted):
    report = _report(app)
    document = report.to_json()
    text = _visible(render(report, server="https://hotline.example", locale="ko"))
    for named in (*document["platforms"], *document["agencies"]):
        text = text.replace(named["name"], " ")
    for org in (*document["platforms"], *document["agencies"]):
        text = re.sub(rf"\b{org.get('platform') or org['agency']}\b", " ", text)
    text = text.replace("docs/reports.md", " ")
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", " ", text)
    english = set(re.findall(r"[A-Za-z][A-Za-z-]*", text))
    # Names of standards and formats, the time zone, and one term given in both languages.
    assert english <= {"UTC", "RFC", "ISO", "JSON", "base", "nearest-rank"}, english
    assert len(re.findall(r"[\uac00-\ud7a3]+", text)) > 300


def test_the_korean_and_english_pages_in_chromium_show_the_same_figures(app, scripted, tmp_path):
    report = _report(app)
    document = report.to_json()
    doms, figures = {}, {}
    for locale in ("en", "ko"):
        page = tmp_path / f"compliance.{locale}.html"
        page.write_text(render(report, server="https://hotline.example", locale=locale))
        doms[locale] = run_chromium(tmp_path / "profile", "--dump-dom", page.as_uri()).stdout
        figures[locale] = figures_of(doms[locale]).figures
        assert_figures_match(figures[locale], document, locale)

    # The same figures in the same places: every data-metric and data-value is identical.
    assert len(figures["ko"]) > 200
    assert [(f.metric, f.value, f.tag) for f in figures["ko"]] == [
        (f.metric, f.value, f.tag) for f in figures["en"]
    ]
    shown = {locale: {f.metric: f.text for f in figures[locale]} for locale in figures}
    for metric, english, korean in (
        ("platform:clipshare:acknowledgement.time.p90_seconds", "5 h", "5시간"),
        ("platform:clipshare:acknowledgement.time.median_seconds", "20 min", "20분"),
        ("platform:clipshare:action.time.max_seconds", "3 d 8 h", "3일 8시간"),
        ("platform:clipshare:acknowledgement.share_met", "33.3%", "33.3%"),
        ("platform:chatter:action.time.median_seconds", "\N{EN DASH}", "\N{EN DASH}"),
        ("platform:clipshare:weekly_volume.0.week_start", "Mar 2", "3월 2일"),
        ("platform:clipshare:cases_received", "4", "4"),
    ):
        assert (shown["en"][metric], shown["ko"][metric]) == (english, korean), metric

    ko, en = doms["ko"], doms["en"]
    assert '<html lang="ko">' in ko
    assert '<html lang="en">' in en
    size = document["checkpoint"]["size"]
    assert _squeezed(re.search(r"<header>(.*?)</header>", ko, re.S).group(1)) == (
        "준수 보고서 2026년 3월 2일 00:00:00 UTC부터 2026년 3월 16일 00:00:00 UTC 전까지"
        " 제출된 사건, 기준 시점 2026년 3월 16일 12:00:00 UTC, 전체 플랫폼."
        f" 서명된 체크포인트(아래)로 검증된 투명성 로그 항목 {size}개만으로 산출했습니다."
    )
    assert _squeezed(re.search(r"<header>(.*?)</header>", en, re.S).group(1)) == (
        "Compliance report Cases submitted from March 2, 2026, 00:00:00 UTC to March 16,"
        " 2026, 00:00:00 UTC (end excluded), as of March 16, 2026, 12:00:00 UTC; every"
        f" platform. Computed from the {size} entries of the transparency log that verified"
        " against its signed checkpoint (below): nothing else."
    )
    assert (
        "<title>준수 보고서 2026년 3월 2일 00:00:00 UTC \N{EN DASH}"
        " 2026년 3월 16일 00:00:00 UTC</title>" in ko
    )
    for heading in ("플랫폼별 요약", "기한", "처리 결과", "기관", "수치의 출처와 검증 방법"):
        assert f"<h2>{heading}</h2>" in ko or f"<h3>{heading}</h3>" in ko, heading
    assert "<h3>접수 사건: " in ko
    assert "<th>조치 기한 준수율</th>" in ko
    assert '<th scope="row">성적 허위영상물(딥페이크)</th>' in ko
    headings = [_squeezed(h) for h in re.findall(r"<h3>(.*?)</h3>", ko, re.S)]
    # One overdue case on each platform (chatter's E, clipshare's D).
    assert headings.count("2026년 3월 16일 12:00:00 UTC 기준 기한 초과 미결 사건: 1건") == 2
    # The overdue case's times: the machine's value in the attribute, the reader's in the text.
    assert '<time datetime="2026-03-03T12:00:00Z">2026년 3월 3일 12:00:00 UTC</time>' in ko
    assert '<time datetime="2026-03-03T12:00:00Z">March 3, 2026, 12:00:00 UTC</time>' in en
    # The commands to re-verify are the same in both (only the placeholders are words).
    commands = {
        locale: re.findall(r"hotline report compliance[^<]*", doms[locale]) for locale in doms
    }
    assert commands["ko"] == commands["en"] != []

    korean_font()
    screenshot = tmp_path / "compliance.ko.png"
    run_chromium(
        tmp_path / "profile", f"--screenshot={screenshot}", "--window-size=1280,2000",
        (tmp_path / "compliance.ko.html").as_uri(),
    )  # fmt: skip
    width, height, variety = png_summary(screenshot)
    assert (width, height) == (1280, 2000)
    assert variety > 100


def test_the_korean_page_escapes_what_it_is_given(app, scripted):
    """The translated sentences are trusted; the values put into them are not."""
    report = _report(app)
    html = render(report, server='https://x.example/"><b>', locale="ko")
    assert "<b>" not in html
    assert "https://x.example/&#34;&gt;&lt;b&gt;" in html


# --- the CLI's text ------------------------------------------------------------------------


def test_the_cli_text_in_korean(app, scripted, capsys):
    report = _report(app)
    ReportText(language("ko")).summary(report)
    lines = capsys.readouterr().out.splitlines()
    document = report.to_json()
    checkpoint = document["checkpoint"]
    assert lines == [
        "제출 기간: 2026년 3월 2일 00:00:00 UTC부터 2026년 3월 16일 00:00:00 UTC 전까지,"
        " 기준 시점: 2026년 3월 16일 12:00:00 UTC",
        # Hangul takes two columns in a terminal: the columns line up on screen.
        "플랫폼     사건 수  접수확인 중앙값  접수확인 P90  접수확인 기한준수율"
        "  조치 중앙값  조치 P90   조치 기한준수율  조치 완료  조치 거부  기한 초과",
        "chatter    1        1시간            1시간         100.0%              "
        " -            -          0.0%             0          0          1",
        "clipshare  4        20분             5시간         33.3%               "
        " 5시간        3일 8시간  50.0%            1          1          1",
        f"  기한 초과: chatter 사건 {scripted.cases['E']} (조치 기한 10일 초과)",
        f"  기한 초과: clipshare 사건 {scripted.cases['D']} (접수 확인 기한 5일 3시간 초과)",
        "플랫폼     삭제 보고  검증됨  반증됨  중간 답변만  기한 초과 질의  기록된 기한 위반",
        "chatter    0          0       0       0            1               2",
        "clipshare  2          0       0       0            0               2",
        f"로그 {checkpoint['origin']}의 항목 {checkpoint['size']}개로 산출했으며, 루트"
        f" {checkpoint['root']}인 체크포인트로 검증했습니다.",
    ]
    # The last column's "1" starts where its heading does.
    last_column = width(lines[1]) - width("기한 초과")
    assert [width(line) - 1 for line in lines[2:4]] == [last_column, last_column]
