"""The shared fields and helpers: each accepts exactly one spelling of each value."""

import base64
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema

from keys.b64 import b64_decode, b64_decoded_size, is_canonical_b64url
from schemas.common import (
    COUNTRY_CODES,
    SCOPE_CODES,
    Bool,
    BoundedInt,
    BoundedList,
    CountryCode,
    Email,
    Kid,
    LanguageTag,
    OrgId,
    Phone,
    SenderSchema,
    Sha256B64Url,
    StdBase64,
    StrictSchema,
    Text,
    Url,
    UtcTimestamp,
    Uuid,
    format_utc,
    parse_utc,
)
from tests.schemas.examples import digest, sender
from tests.schemas.helpers import load_errors, loads


class Probe(StrictSchema):
    text = Text(max_length=5)
    text_exact = Text(min_length=3, max_length=3)
    timestamp = UtcTimestamp()
    uuid = Uuid()
    org = OrgId()
    digest = Sha256B64Url()
    kid = Kid()
    url = Url()
    email = Email()
    phone = Phone()
    country = CountryCode()
    language = LanguageTag()
    flag = Bool()
    count = BoundedInt(min_value=1, max_value=3)
    words = BoundedList(Text(max_length=3), max_length=2, unique=True)
    blob = StdBase64(max_bytes=6)


PROBE = Probe()


def probe_errors(field: str, value: Any) -> Any:
    messages = load_errors(PROBE, {field: value})
    assert set(messages) == {field}
    return messages[field]


# --- Timestamps -------------------------------------------------------------------------------

TIMESTAMP_ERROR = ["Not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)."]


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-03T05:12:09Z",
        "2026-03-03T05:12:09.5Z",
        "2026-03-03T05:12:09.123456Z",
        "2024-02-29T23:59:59Z",
        "0001-01-01T00:00:00Z",
    ],
)
def test_timestamp_accepts_utc_rfc3339(value: str) -> None:
    assert loads(PROBE, {"timestamp": value})


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-03T05:12:09+00:00",  # an offset, even a zero one
        "2026-03-03T05:12:09z",  # lowercase z
        "2026-03-03t05:12:09Z",  # lowercase t
        "2026-03-03 05:12:09Z",  # space separator
        "2026-03-03T05:12:09",  # no zone at all
        "2026-02-30T00:00:00Z",  # no such day
        "2025-02-29T00:00:00Z",  # not a leap year
        "2026-03-03T25:00:00Z",  # no such hour
        "2026-03-03T23:60:00Z",  # no such minute
        "2026-12-31T23:59:60Z",  # leap seconds are not representable downstream
        "2026-03-03T05:12:09.1234567Z",  # more than microseconds
        "2026-03-03T05:12:09.Z",  # empty fraction
        "2026-03-03T05:12Z",  # no seconds
        "2026-03-03",  # a date
        "0000-01-01T00:00:00Z",  # year zero
        "\u0662\u0660\u0662\u0666-03-03T05:12:09Z",  # Arabic-Indic digits
        "2026-03-03T05:12:09Z\n",  # trailing newline
        "",
    ],
)
def test_timestamp_refuses_other_spellings_and_impossible_instants(value: str) -> None:
    assert probe_errors("timestamp", value) == TIMESTAMP_ERROR


@pytest.mark.parametrize("value", [1772514729, None, ["2026-03-03T05:12:09Z"]])
def test_timestamp_refuses_non_strings(value: object) -> None:
    expected = ["Field may not be null."] if value is None else ["Not a valid string."]
    assert probe_errors("timestamp", value) == expected


def test_format_utc_writes_seconds_or_six_digit_microseconds() -> None:
    assert format_utc(datetime(2026, 3, 3, 5, 12, 9, tzinfo=UTC)) == "2026-03-03T05:12:09Z"
    assert (
        format_utc(datetime(2026, 3, 3, 5, 12, 9, 500, tzinfo=UTC)) == "2026-03-03T05:12:09.000500Z"
    )


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))]
        ),
    )
)
def test_format_utc_is_the_field_by_field_wire_form(moment: datetime) -> None:
    u = moment.astimezone(UTC)
    base = f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
    assert format_utc(moment) == (f"{base}.{u.microsecond:06d}Z" if u.microsecond else f"{base}Z")


def test_format_utc_converts_other_zones_to_utc() -> None:
    cet = timezone(timedelta(hours=1))
    assert format_utc(datetime(2026, 3, 3, 6, 12, 9, tzinfo=cet)) == "2026-03-03T05:12:09Z"


def test_format_utc_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_utc(datetime(2026, 3, 3, 5, 12, 9))


def test_parse_utc_inverts_format_utc() -> None:
    moment = datetime(2026, 3, 3, 5, 12, 9, 123, tzinfo=UTC)
    parsed = parse_utc(format_utc(moment))
    assert parsed == moment
    assert parsed.utcoffset() == timedelta(0)
    assert parse_utc("2026-03-03T05:12:09.5Z").microsecond == 500_000


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-03-03T05:12:09+00:00", "not an RFC 3339 UTC timestamp"),
        ("2026-02-30T00:00:00Z", "not a real date and time"),
    ],
)
def test_parse_utc_refuses_what_the_field_refuses(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_utc(value)


# --- Identifiers ------------------------------------------------------------------------------


def test_uuid_must_be_canonical_lowercase() -> None:
    assert loads(PROBE, {"uuid": "4f0c8a52-3b1e-4d6a-9f27-8c5e1b0d7a31"})
    assert probe_errors("uuid", "4F0C8A52-3B1E-4D6A-9F27-8C5E1B0D7A31") == [
        "Not a canonical lowercase UUID."
    ]
    assert probe_errors("uuid", "{4f0c8a52-3b1e-4d6a-9f27-8c5e1b0d7a31}") == ["Length must be 36."]
    assert probe_errors("uuid", "4f0c8a523b1e4d6a9f278c5e1b0d7a31") == ["Length must be 36."]


@pytest.mark.parametrize("value", ["a", "clipshare", "metro-cyber-unit", "0", "a" * 63])
def test_org_id_accepts_dns_labels(value: str) -> None:
    assert loads(PROBE, {"org": value})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-clipshare", "Not a valid organisation id."),
        ("clipshare-", "Not a valid organisation id."),
        ("ClipShare", "Not a valid organisation id."),
        ("clip_share", "Not a valid organisation id."),
        ("clip.share", "Not a valid organisation id."),
        ("a" * 64, "Length must be between 1 and 63."),
        ("", "Length must be between 1 and 63."),
    ],
)
def test_org_id_refuses_everything_else(value: str, message: str) -> None:
    assert probe_errors("org", value) == [message]


def test_digest_is_43_char_canonical_base64url() -> None:
    good = digest("anything")
    assert len(good) == 43
    assert loads(PROBE, {"digest": good, "kid": good})
    assert probe_errors("digest", good[:42]) == ["Length must be 43."]
    assert probe_errors("digest", good + "A") == ["Length must be 43."]
    assert probe_errors("digest", good + "=") == ["Length must be 43."]
    assert probe_errors("digest", "+" + good[1:]) == ["Not a canonical base64url SHA-256 digest."]


@pytest.mark.parametrize("last", list("AEIMQUYcgkosw048"))
def test_digest_last_char_has_zero_low_bits(last: str) -> None:
    assert loads(PROBE, {"kid": "A" * 42 + last})


@pytest.mark.parametrize("last", list("BCDFHJ-_15zx"))
def test_digest_with_set_trailing_bits_is_refused(last: str) -> None:
    # Same 32 bytes, another spelling: it would make two different ids of one key.
    assert probe_errors("kid", "A" * 42 + last) == ["Not a canonical base64url SHA-256 digest."]


def test_sender_is_strict() -> None:
    schema = SenderSchema()
    assert loads(schema, sender())
    assert load_errors(schema, {**sender(), "name": "Jane"}) == {"name": ["Unknown field."]}
    assert load_errors(schema, {"org": "metro-cyber-unit"}) == {
        "official": ["Missing data for required field."],
        "kid": ["Missing data for required field."],
    }


# --- URLs, contacts, codes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "https://clipshare.example/v/8kQ2xZ",
        "http://clipshare.example",
        "HTTPS://clipshare.example/a?b=c#d",
        "https://192.0.2.7:8443/x",
        "http://intranet/item/1",
        "https://xn--bcher-kva.example/",
    ],
)
def test_url_accepts_http_and_https(value: str) -> None:
    assert loads(PROBE, {"url": value})


@pytest.mark.parametrize(
    "value",
    [
        "ftp://clipshare.example/file",
        "javascript://clipshare.example/%0Aalert(1)",
        "file:///etc/passwd",
        "mailto:someone@clipshare.example",
        "data:text/html,hello",
        "//clipshare.example/v/1",
        "/v/8kQ2xZ",
        "clipshare.example/v/8kQ2xZ",
        "https://clip share.example/",
        "https:///v/1",
    ],
)
def test_url_refuses_other_schemes_and_relative_urls(value: str) -> None:
    assert probe_errors("url", value) == ["Not a valid URL."]


def test_url_length_cap() -> None:
    prefix = "https://clipshare.example/"
    assert loads(PROBE, {"url": prefix + "a" * (2048 - len(prefix))})
    assert probe_errors("url", prefix + "a" * (2049 - len(prefix))) == [
        "Length must be between 1 and 2048."
    ]


def test_email_and_phone() -> None:
    assert loads(PROBE, {"email": "duty-desk@cyber.metro-police.example", "phone": "+4930123456"})
    assert probe_errors("email", "duty desk@metro.example") == ["Not a valid email address."]
    assert probe_errors("email", "duty-desk") == ["Not a valid email address."]
    e164 = ["Not an E.164 telephone number (+ and 7 to 15 digits)."]
    assert probe_errors("phone", "030 123456") == e164
    assert probe_errors("phone", "+0301234567") == e164
    assert probe_errors("phone", "+49301") == e164
    assert loads(PROBE, {"phone": "+1" + "2" * 14})
    assert probe_errors("phone", "+1" + "2" * 15) == ["Length must be between 1 and 16."]


def test_country_codes_are_the_249_assigned_ones_plus_eu() -> None:
    assert len(COUNTRY_CODES) == 249
    assert "EU" not in COUNTRY_CODES
    assert sorted(SCOPE_CODES.difference(COUNTRY_CODES)) == ["EU"]


def test_country_code_list_matches_tzdata_when_available() -> None:
    table = Path("/usr/share/zoneinfo/iso3166.tab")
    if not table.exists():
        pytest.skip("no tzdata iso3166.tab on this system")
    listed = {
        line.split("\t")[0]
        for line in table.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    }
    assert listed == COUNTRY_CODES


@pytest.mark.parametrize("value", ["DE", "IE", "GB", "EU"])
def test_country_code_accepts_assigned_codes(value: str) -> None:
    assert loads(PROBE, {"country": value})


@pytest.mark.parametrize("value", ["de", "UK", "EL", "XX", "XK", "DEU", "276", "", " DE"])
def test_country_code_refuses_unassigned_and_other_forms(value: str) -> None:
    # UK and EL are the EU's own abbreviations, not ISO codes; XK is user-assigned.
    assert probe_errors("country", value) == ["Not an ISO 3166-1 alpha-2 country code or EU."]


@pytest.mark.parametrize(
    "value", ["en", "de-DE", "pt-BR", "zh-Hant-TW", "es-419", "sl-rozaj", "de-CH-1901", "ast"]
)
def test_language_tag_accepts_common_bcp47(value: str) -> None:
    assert loads(PROBE, {"language": value})


@pytest.mark.parametrize(
    "value", ["e", "english", "en_GB", "en-", "-en", "en-GB-", "x-klingon", "en GB", "12"]
)
def test_language_tag_refuses_malformed(value: str) -> None:
    assert probe_errors("language", value) == ["Not a BCP 47 language tag."]


def test_language_tag_length_cap() -> None:
    tag = "en-Latn-GB-abcdefgh-ijklmnop-qrstuv"
    assert len(tag) == 35
    assert loads(PROBE, {"language": tag})
    assert probe_errors("language", tag + "w") == ["Length must be between 1 and 35."]


# --- Text, booleans, integers, lists ------------------------------------------------------------


def test_text_length_boundaries() -> None:
    assert loads(PROBE, {"text": "a" * 5, "text_exact": "abc"})
    assert probe_errors("text", "a" * 6) == ["Length must be between 1 and 5."]
    assert probe_errors("text", "") == ["Length must be between 1 and 5."]
    assert probe_errors("text_exact", "ab") == ["Length must be 3."]


def test_text_counts_code_points() -> None:
    assert loads(PROBE, {"text": "\U0001f600" * 5})


def test_text_allows_tab_and_newlines() -> None:
    assert loads(PROBE, {"text": "a\tb\r\n"})


@pytest.mark.parametrize("value", ["a\x00", "\x1b[31m", "a\x7f", "a\x85", "a\ud800", "\udfff"])
def test_text_refuses_controls_and_lone_surrogates(value: str) -> None:
    assert probe_errors("text", value) == ["Contains control characters or unpaired surrogates."]


# Printable ASCII skips the regex: the two must agree on every short string of the
# characters around both edges (ASCII, its controls, the C1 controls, beyond).
@given(st.text(alphabet=st.characters(max_codepoint=0xA0), min_size=1, max_size=5))
def test_text_refuses_exactly_the_forbidden_characters(value: str) -> None:
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", value):
        assert probe_errors("text", value) == [
            "Contains control characters or unpaired surrogates."
        ]
    else:
        assert loads(PROBE, {"text": value})


@pytest.mark.parametrize("value", [b"abc", 12, 1.5, True, ["a"], {"a": 1}])
def test_text_refuses_non_strings(value: object) -> None:
    assert probe_errors("text", value) == ["Not a valid string."]


def test_null_is_refused_unless_allowed() -> None:
    assert probe_errors("text", None) == ["Field may not be null."]


@pytest.mark.parametrize("value", [1, 0, "true", "yes", None])
def test_bool_is_json_boolean_only(value: object) -> None:
    expected = ["Field may not be null."] if value is None else ["Not a valid boolean."]
    assert probe_errors("flag", value) == expected


def test_bool_accepts_true_and_false() -> None:
    assert loads(PROBE, {"flag": True})
    assert loads(PROBE, {"flag": False})


@pytest.mark.parametrize("value", [True, 2.0, "2", None])
def test_integer_is_json_integer_only(value: object) -> None:
    expected = ["Field may not be null."] if value is None else ["Not a valid integer."]
    assert probe_errors("count", value) == expected


def test_integer_range() -> None:
    assert loads(PROBE, {"count": 3})
    message = ["Must be greater than or equal to 1 and less than or equal to 3."]
    assert probe_errors("count", 0) == message
    assert probe_errors("count", 4) == message


def test_list_must_be_a_json_array() -> None:
    assert probe_errors("words", ("a",)) == ["Not a valid list."]
    assert probe_errors("words", "ab") == ["Not a valid list."]
    assert probe_errors("words", {"a": 1}) == ["Not a valid list."]


def test_list_length_is_checked_before_its_elements() -> None:
    assert probe_errors("words", [1, 2, 3]) == ["Longer than maximum length 2."]


def test_list_reports_bad_elements_and_duplicates_by_index() -> None:
    assert probe_errors("words", ["ab", 5]) == {1: ["Not a valid string."]}
    assert probe_errors("words", ["ab", "ab"]) == {1: ["Duplicate value."]}


# --- Base64 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"a", b"ab", b"abc", bytes(range(256))])
def test_b64_decode_round_trips(data: bytes) -> None:
    text = base64.b64encode(data).decode()
    assert b64_decode(text) == data
    assert b64_decoded_size(text) == len(data)


@pytest.mark.parametrize(
    "text",
    [
        "QR==",  # trailing bits set: "QQ==" is the canonical spelling of b"A"
        "QUJ=",  # same for two bytes: "QUI="
        "QQ",  # padding missing
        "QQ=",  # padding short
        "QQ===",
        "QU JD",  # whitespace
        "QUJD\n",
        "-_-_",  # base64url alphabet
        "QUJD=",
    ],
)
def test_b64_decode_refuses_non_canonical(text: str) -> None:
    with pytest.raises(ValueError, match="base64"):
        b64_decode(text)


def test_std_base64_field() -> None:
    assert loads(PROBE, {"blob": base64.b64encode(b"abcdef").decode()})
    assert probe_errors("blob", "QR==") == ["Not canonical standard base64."]
    assert probe_errors("blob", base64.b64encode(b"abcdefg").decode()) == [
        "Length must be between 4 and 8."
    ]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", True),
        ("QQ", True),
        ("QR", False),
        ("QUI", True),
        ("QUJ", False),
        ("QUJD", True),
        ("Q", False),
        ("QQ==", False),
        ("a+b/", False),
        ("a-b_", True),
    ],
)
def test_is_canonical_b64url(text: str, canonical: bool) -> None:
    assert is_canonical_b64url(text) is canonical


# --- The strict base ------------------------------------------------------------------------------


def test_strict_schema_refuses_unknown_fields_and_non_objects() -> None:
    assert load_errors(PROBE, {"text": "a", "txet": "b"}) == {"txet": ["Unknown field."]}
    assert load_errors(PROBE, ["text"]) == {"_schema": ["Invalid input type."]}


def test_dumping_a_document_without_an_optional_items_member() -> None:
    # marshmallow would otherwise fall back to getattr(dict, "items") and dump a method.
    class WithItems(StrictSchema):
        items = BoundedList(Text(max_length=3), max_length=2)

    assert WithItems().dump({}) == {}


def test_strict_schemas_stay_out_of_the_global_registry() -> None:
    from marshmallow import class_registry
    from marshmallow.exceptions import RegistryError

    with pytest.raises(RegistryError):
        class_registry.get_class("SenderSchema")
    assert issubclass(SenderSchema, Schema)
