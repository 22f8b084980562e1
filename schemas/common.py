"""Building blocks shared by every schema: the strict base, bounded and typed string fields,
identifiers, timestamps, URLs, country and language codes, the sender, and the JWE shape.

Loaded values stay plain JSON types (str, int, bool, list, dict, None): these documents
are canonicalised (RFC 8785) and signed, so loading validates and never converts. Every
pattern is matched with `fullmatch` and `re.ASCII`: `re.match` with `$` accepts a trailing
newline, and a Unicode `\\d` accepts digits such as "٢" that `int()` then happily parses.
"""

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypedDict, TypeVar, Unpack, cast

from marshmallow import RAISE, Schema, ValidationError, fields, types, validate, validates_schema

from keys.b64 import b64_decode, b64_max_chars, is_canonical_b64url
from schemas import load_plan
from schemas.load_plan import FieldPlan, SchemaPlan

# --- Patterns -------------------------------------------------------------------------------

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
# DNS-label shaped so an id can appear in hostnames, paths and file names unescaped.
ORG_ID_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
OFFICIAL_ID_RE = ORG_ID_RE
# 32 bytes in unpadded base64url: the last character carries 2 unused bits, which must be
# zero, or two spellings would name the same digest.
SHA256_B64URL_RE = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]", re.ASCII)
UTC_TIMESTAMP_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?Z",
    re.ASCII,
)
# Pragmatic BCP 47: language, optional script, optional region, variants. Extensions,
# private use and grandfathered tags are refused; nobody needs them to say what language a
# statement of reasons is written in.
LANGUAGE_TAG_RE = re.compile(
    r"[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*",
    re.ASCII,
)
# The agency's own reference and the ids of items within a case: printable, path-safe ASCII.
ISSUER_CASE_REF_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}", re.ASCII)
ITEM_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)
E164_RE = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)
LOWER_HEX_64_RE = re.compile(r"[0-9a-f]{64}", re.ASCII)
# C0 and C1 controls except tab, LF and CR; and lone surrogates, which JSON can carry
# ("\ud800") but UTF-8 cannot, so RFC 8785 canonicalisation would fail after validation.
_FORBIDDEN_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

MAX_URL_LENGTH = 2048
MAX_EMAIL_LENGTH = 254  # RFC 5321 path limit
MAX_LANGUAGE_TAG_LENGTH = 35  # RFC 5646 §4.4.1
UTC_TIMESTAMP_MAX_LENGTH = len("2026-01-01T00:00:00.000000Z")

# ISO 3166-1 alpha-2 officially assigned codes (249).
_COUNTRY_CODES_TEXT = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRY_CODES: frozenset[str] = frozenset(_COUNTRY_CODES_TEXT.split())
# "EU" is exceptionally reserved in ISO 3166-1 for the European Union: a DSA order may
# apply Union-wide rather than country by country.
EU = "EU"
SCOPE_CODES: frozenset[str] = COUNTRY_CODES | {EU}


# --- Pure helpers -----------------------------------------------------------------------------


def parse_utc(text: str) -> datetime:
    """Parse an RFC 3339 UTC timestamp of this format into an aware UTC datetime.

    Raises ValueError for any other spelling (offsets, lowercase 'z', no 'Z') and for
    impossible dates or times (2026-02-30, hour 25, leap second 60).
    """
    match = UTC_TIMESTAMP_RE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not an RFC 3339 UTC timestamp: {text!r}")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise ValueError(f"not a real date and time: {text!r} ({exc})") from exc


def format_utc(moment: datetime) -> str:
    """The wire form of an aware datetime: whole seconds, or 6-digit microseconds if any."""
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("a naive datetime names no instant; attach a timezone")
        moment = moment.astimezone(UTC)
    # isoformat (C) writes a 4-digit year and leaves the microseconds out exactly when
    # they are 0: the wire form. An inbox page formats hundreds of these.
    return moment.replace(tzinfo=None).isoformat() + "Z"


_URL_VALIDATOR = validate.URL(schemes={"http", "https"}, require_tld=False)


def validate_url(value: str) -> str:
    """Raise ValidationError unless `value` is an absolute http(s) URL of bounded length."""
    if len(value) > MAX_URL_LENGTH:
        raise ValidationError(f"Longer than maximum length {MAX_URL_LENGTH}.")
    return _URL_VALIDATOR(value)


# --- Base schema ----------------------------------------------------------------------------


class StrictSchema(Schema):
    """Unknown members are refused everywhere: a signed document means exactly what it says."""

    class Meta(Schema.Meta):
        unknown = RAISE
        # Schemas are referenced by class, never by name; keep them out of the global
        # registry so same-named schemas elsewhere cannot collide.
        register = False

    _plan: SchemaPlan | None

    def plan(self) -> SchemaPlan | None:
        """This instance's load plan (`schemas.load_plan`), compiled on first use; shared by
        the instances of a class that are configured alike (webargs makes one per request)."""
        try:
            return self._plan
        except AttributeError:
            self._plan = None  # what a schema nested in itself sees while it compiles
            self._plan = load_plan.shared_plan(self, StrictSchema)
            return self._plan

    def load(
        self,
        data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        many: bool | None = None,
        partial: bool | types.StrSequenceOrSet | None = None,
        unknown: types.UnknownOption | None = None,
    ) -> Any:
        if many is None and partial is None and unknown in (None, self.unknown):
            return load_plan.load(self, data, self.plan())
        return super().load(data, many=many, partial=partial, unknown=unknown)

    def get_attribute(self, obj: object, attr: str, default: object) -> object:
        # marshmallow falls back to getattr() for a missing key, so dumping a dict without
        # its optional "items" would dump the dict's items() method. Documents here are
        # mappings: read them as mappings only.
        if isinstance(obj, Mapping):
            return obj.get(attr, default)
        return super().get_attribute(obj, attr, default)


# --- Fields -----------------------------------------------------------------------------------


class FieldOptions(TypedDict, total=False):
    """The marshmallow field options that the fields below pass through."""

    required: bool
    allow_none: bool
    load_default: object
    dump_default: object
    data_key: str | None
    metadata: Mapping[str, object] | None


def _plain(value: str) -> str:
    # A str subclass (a StrEnum member) is copied to an exact str so that loaded
    # documents hold only plain JSON types.
    return value if type(value) is str else str.__str__(value)


class Text(fields.String):
    """A string of bounded length (in code points), free of control characters.

    With `pattern`, the whole string must match it. Checks run cheapest first and stop at
    the first failure, so each bad value gets exactly one message.
    """

    def __init__(
        self,
        *,
        max_length: int,
        min_length: int = 1,
        pattern: re.Pattern[str] | None = None,
        pattern_error: str = "String does not match expected pattern.",
        **kwargs: Unpack[FieldOptions],
    ) -> None:
        super().__init__(**kwargs)
        self.min_length = min_length
        self.max_length = max_length
        self.pattern = pattern
        self._length = (
            validate.Length(equal=max_length)
            if min_length == max_length
            else validate.Length(min=min_length or None, max=max_length)
        )
        self.error_messages = {
            **self.error_messages,
            "invalid": "Not a valid string.",
            "forbidden_chars": "Contains control characters or unpaired surrogates.",
            "pattern": pattern_error,
        }

    def _check(self, value: str) -> None:
        """Further checks of subclasses; the string already has a bounded length."""

    def _deserialize(
        self, value: object, attr: str | None, data: Mapping[str, object] | None, **kwargs: object
    ) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        if not self.min_length <= len(value) <= self.max_length:
            self._length(value)  # raises, with marshmallow's message
        # Printable ASCII (most text) has none of the forbidden characters, and CPython
        # answers both questions without the regex's scan of every character.
        if not (value.isascii() and value.isprintable()) and _FORBIDDEN_CHARS_RE.search(value):
            raise self.make_error("forbidden_chars")
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise self.make_error("pattern")
        self._check(value)
        return _plain(value)


class Choice(fields.String):
    """One string of a closed set (an enum's values); loads as the plain string."""

    def __init__(self, choices: Iterable[str], **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(**kwargs)
        values = tuple(c.value if isinstance(c, Enum) else c for c in choices)
        self.choices: frozenset[str] = frozenset(values)
        self.error_messages = {
            **self.error_messages,
            "invalid": "Not a valid string.",
            "choice": "Must be one of: " + ", ".join(values) + ".",
        }

    def _deserialize(
        self, value: object, attr: str | None, data: Mapping[str, object] | None, **kwargs: object
    ) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        if value not in self.choices:
            raise self.make_error("choice")
        return _plain(value)


class Const(fields.String):
    """A member whose only allowed value is a fixed string (a `typ`, an `alg`)."""

    def __init__(self, value: str, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(**kwargs)
        self.value = value
        self.error_messages = {
            **self.error_messages,
            "const": f"Must be {json.dumps(value)}.".replace("{", "{{").replace("}", "}}"),
        }

    def _deserialize(
        self, value: object, attr: str | None, data: Mapping[str, object] | None, **kwargs: object
    ) -> str:
        if not isinstance(value, str) or value != self.value:
            raise self.make_error("const")
        return self.value


class Bool(fields.Boolean):
    """JSON true or false only: no "yes", 1 or "on"."""

    def _deserialize(
        self, value: object, attr: str | None, data: Mapping[str, object] | None, **kwargs: object
    ) -> bool:
        if value is True or value is False:
            return value
        raise self.make_error("invalid")


class BoundedInt(fields.Integer):
    """A JSON integer (not a float, string or bool) within [min_value, max_value]."""

    def __init__(self, *, min_value: int, max_value: int, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(strict=True, **kwargs)
        self.validators.insert(0, validate.Range(min=min_value, max=max_value))


class BoundedList(fields.List[Any]):
    """A JSON array with a length checked before its elements are, optionally unique.

    `unique` compares the elements themselves; `unique_key` compares a member of object
    elements. A duplicate is reported at its index (under the key, with `unique_key`).
    """

    def __init__(
        self,
        inner: fields.Field[Any],
        *,
        max_length: int,
        min_length: int = 0,
        unique: bool = False,
        unique_key: str | None = None,
        **kwargs: Unpack[FieldOptions],
    ) -> None:
        super().__init__(inner, **kwargs)
        self.min_length = min_length
        self.max_length = max_length
        self.unique = unique
        self.unique_key = unique_key
        self._length = validate.Length(min=min_length or None, max=max_length)
        self.error_messages = {**self.error_messages, "duplicate": "Duplicate value."}

    def _deserialize(
        self, value: object, attr: str | None, data: Mapping[str, object] | None, **kwargs: object
    ) -> list[Any]:
        return self._checked(
            value, lambda values: fields.List._deserialize(self, values, attr, data, **kwargs)
        )

    def load_plan(self, attr: str | None) -> FieldPlan:
        elements = load_plan.elements_plan(self.inner)
        validators = tuple(self.validators)

        def plan(value: object, data: Mapping[str, object] | None) -> list[Any]:
            loaded = self._checked(value, elements)
            for validator in validators:
                validator(loaded)
            return loaded

        return plan

    def _checked(self, value: object, elements: Callable[[list[Any]], list[Any]]) -> list[Any]:
        if not isinstance(value, list):
            raise self.make_error("invalid")
        if not self.min_length <= len(value) <= self.max_length:
            self._length(value)  # raises, with marshmallow's message
        result = elements(value)
        self._check_loaded(result)
        return result

    def _check_loaded(self, result: list[Any]) -> None:
        """Checks of the loaded list as a whole; subclasses extend it (not `_deserialize`,
        which the list's load plan does not call)."""
        self._check_unique(result)

    def _check_unique(self, result: list[Any]) -> None:
        if not self.unique and self.unique_key is None:
            return
        message = self.error_messages["duplicate"]
        seen: set[Any] = set()
        errors: dict[int, Any] = {}
        for index, element in enumerate(result):
            key = element if self.unique_key is None else element[self.unique_key]
            if key in seen:
                errors[index] = (
                    [message] if self.unique_key is None else {self.unique_key: [message]}
                )
            seen.add(key)
        if errors:
            raise ValidationError(errors)


class Uuid(Text):
    """A canonical (lowercase, hyphenated) UUID: handoff and case ids."""

    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            min_length=36,
            max_length=36,
            pattern=UUID_RE,
            pattern_error="Not a canonical lowercase UUID.",
            **kwargs,
        )


class OrgId(Text):
    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            max_length=63,
            pattern=ORG_ID_RE,
            pattern_error="Not a valid organisation id.",
            **kwargs,
        )


class OfficialId(Text):
    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            max_length=63,
            pattern=OFFICIAL_ID_RE,
            pattern_error="Not a valid official id.",
            **kwargs,
        )


class Sha256B64Url(Text):
    """A SHA-256 digest in canonical unpadded base64url (43 characters)."""

    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            min_length=43,
            max_length=43,
            pattern=SHA256_B64URL_RE,
            pattern_error="Not a canonical base64url SHA-256 digest.",
            **kwargs,
        )


class Kid(Sha256B64Url):
    """A key id: the RFC 7638 SHA-256 thumbprint of the key, in base64url."""


class IssuerCaseRef(Text):
    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            max_length=64,
            pattern=ISSUER_CASE_REF_RE,
            pattern_error="Not a valid issuer case reference.",
            **kwargs,
        )


class ItemId(Text):
    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            max_length=64,
            pattern=ITEM_ID_RE,
            pattern_error="Not a valid item id.",
            **kwargs,
        )


class LowerHex64(Text):
    """A SHA-256 digest as 64 lowercase hex digits (the form humans and tools compare)."""

    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            min_length=64,
            max_length=64,
            pattern=LOWER_HEX_64_RE,
            pattern_error="Not 64 lowercase hex digits.",
            **kwargs,
        )


class UtcTimestamp(fields.String):
    """An RFC 3339 timestamp in UTC ('Z'), to the second or microsecond, of a real instant.

    Loads as the string, unchanged; use `parse_utc` to compute with it.
    """

    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(**kwargs)
        self.error_messages = {
            **self.error_messages,
            "invalid": "Not a valid string.",
            "timestamp": "Not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff]Z).",
        }

    def _deserialize(
        self, value: object, attr: str | None, data: Mapping[str, object] | None, **kwargs: object
    ) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        if len(value) > UTC_TIMESTAMP_MAX_LENGTH:
            raise self.make_error("timestamp")
        try:
            parse_utc(value)
        except ValueError as exc:
            raise self.make_error("timestamp") from exc
        return _plain(value)


class Url(Text):
    """An absolute http or https URL of at most 2048 characters."""

    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(max_length=MAX_URL_LENGTH, **kwargs)

    def _check(self, value: str) -> None:
        validate_url(value)


class Email(Text):
    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(max_length=MAX_EMAIL_LENGTH, **kwargs)

    def _check(self, value: str) -> None:
        validate.Email()(value)


class Phone(Text):
    """An E.164 telephone number: '+', country code, subscriber number; no spaces."""

    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            max_length=16,
            pattern=E164_RE,
            pattern_error="Not an E.164 telephone number (+ and 7 to 15 digits).",
            **kwargs,
        )


class CountryCode(fields.String):
    """An assigned ISO 3166-1 alpha-2 code in uppercase, or 'EU' for the whole Union."""

    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(**kwargs)
        self.error_messages = {
            **self.error_messages,
            "invalid": "Not a valid string.",
            "country": "Not an ISO 3166-1 alpha-2 country code or EU.",
        }

    def _deserialize(
        self, value: object, attr: str | None, data: Mapping[str, object] | None, **kwargs: object
    ) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        if value not in SCOPE_CODES:
            raise self.make_error("country")
        return _plain(value)


MAX_SCOPE_CODES = len(SCOPE_CODES)


class TerritorialScope(BoundedList):
    """Where a measure applies: 1 to 250 distinct country codes (or EU)."""

    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            CountryCode(), min_length=1, max_length=MAX_SCOPE_CODES, unique=True, **kwargs
        )


class LanguageTag(Text):
    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            max_length=MAX_LANGUAGE_TAG_LENGTH,
            pattern=LANGUAGE_TAG_RE,
            pattern_error="Not a BCP 47 language tag.",
            **kwargs,
        )


class StdBase64(Text):
    """Standard padded base64 (RFC 4648 §4) in its canonical spelling; loads as the text."""

    def __init__(self, *, max_bytes: int, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(min_length=4, max_length=b64_max_chars(max_bytes), **kwargs)
        self.error_messages = {
            **self.error_messages,
            "base64": "Not canonical standard base64.",
        }

    def _check(self, value: str) -> None:
        try:
            b64_decode(value)
        except ValueError as exc:
            raise self.make_error("base64") from exc


class B64Url(Text):
    """Unpadded base64url (RFC 7515 §2) in its canonical spelling; loads as the text."""

    def __init__(
        self, *, max_length: int, min_length: int = 1, **kwargs: Unpack[FieldOptions]
    ) -> None:
        super().__init__(min_length=min_length, max_length=max_length, **kwargs)
        self.error_messages = {
            **self.error_messages,
            "base64url": "Not canonical unpadded base64url.",
        }

    def _check(self, value: str) -> None:
        if not is_canonical_b64url(value):
            raise self.make_error("base64url")


_Selector = TypeVar("_Selector", bound=str)


class Dispatch(fields.Field[dict[str, Any]]):
    """A nested object whose schema is chosen by a sibling member (e.g. `body` by `kind`).

    The selector is read from the parent's raw input when loading and from the parent
    object when dumping. Without a valid selector the object cannot be checked, so it is
    refused rather than passed through unchecked.
    """

    def __init__(
        self,
        selector: str,
        schemas: Mapping[_Selector, type[Schema]],
        **kwargs: Unpack[FieldOptions],
    ) -> None:
        super().__init__(**kwargs)
        self.error_messages = {
            **self.error_messages,
            "unchecked": "Cannot be validated without a valid {selector}.",
        }
        self.selector = selector
        self.schemas: dict[str, Schema] = {str(key): cls() for key, cls in schemas.items()}

    def _schema_for(self, parent: object) -> Schema | None:
        choice = (
            parent.get(self.selector)
            if isinstance(parent, Mapping)
            else getattr(parent, self.selector, None)
        )
        return self.schemas.get(choice) if isinstance(choice, str) else None

    def _serialize(self, value: object, attr: str | None, obj: object, **kwargs: object) -> object:
        schema = self._schema_for(obj)
        if value is None or schema is None:
            return value
        return schema.dump(value)

    def _deserialize(
        self, value: object, attr: str | None, data: Mapping[str, object] | None, **kwargs: object
    ) -> dict[str, Any]:
        schema = self._schema_for(data)
        if schema is None:
            raise self.make_error("unchecked", selector=self.selector)
        if not isinstance(value, Mapping):
            raise ValidationError({"_schema": ["Invalid input type."]})
        try:
            loaded = schema.load(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return cast(dict[str, Any], loaded)

    def load_plan(self, attr: str | None) -> FieldPlan:
        plans = {
            choice: load_plan.validated(schema_plan, self)
            for choice, schema in self.schemas.items()
            if isinstance(schema, load_plan.PlannedSchema)
            and (schema_plan := schema.plan()) is not None
        }

        def plan(value: object, data: Mapping[str, object] | None) -> object:
            choice = data.get(self.selector) if isinstance(data, Mapping) else None
            chosen = plans.get(choice) if isinstance(choice, str) else None
            if chosen is None or not isinstance(value, Mapping):
                return self.deserialize(value, attr, data)
            return chosen(value, data)

        return plan


# --- Shared schemas ---------------------------------------------------------------------------


class SenderSchema(StrictSchema):
    """Who signed: the organisation, the official, and the id of the signing key."""

    org = OrgId(required=True)
    official = OfficialId(required=True)
    kid = Kid(required=True)


Sender = SenderSchema


# The JWE (RFC 7516, General JSON Serialization) that carries a sealed record. Only the
# structure is checked here; decryption and header semantics belong to the envelope code.
JWE_KEY_ALG = "ECDH-ES+A256KW"
MAX_JWE_RECIPIENTS = 64
MAX_JWE_PROTECTED_CHARS = 4096
MAX_JWE_ENCRYPTED_KEY_CHARS = 256
MAX_JWE_IV_CHARS = 64
MAX_JWE_TAG_CHARS = 128
MAX_JWE_CIPHERTEXT_CHARS = 3 * 1024 * 1024


class EpkSchema(StrictSchema):
    """The sender's ephemeral X25519 public key (RFC 8037 OKP JWK, public part only)."""

    kty = Const("OKP", required=True)
    crv = Const("X25519", required=True)
    x = B64Url(min_length=43, max_length=43, required=True)


class RecipientHeaderSchema(StrictSchema):
    alg = Const(JWE_KEY_ALG, required=True)
    kid = Kid(required=True)
    # Here, or (for a single recipient only) in the protected header: the envelope code
    # checks that it is in exactly one of the two places.
    epk = fields.Nested(EpkSchema)


class RecipientSchema(StrictSchema):
    header = fields.Nested(RecipientHeaderSchema, required=True)
    encrypted_key = B64Url(max_length=MAX_JWE_ENCRYPTED_KEY_CHARS, required=True)


class JweSchema(StrictSchema):
    protected = B64Url(max_length=MAX_JWE_PROTECTED_CHARS, required=True)
    recipients = BoundedList(
        fields.Nested(RecipientSchema),
        min_length=1,
        max_length=MAX_JWE_RECIPIENTS,
        required=True,
    )
    iv = B64Url(max_length=MAX_JWE_IV_CHARS, required=True)
    ciphertext = B64Url(max_length=MAX_JWE_CIPHERTEXT_CHARS, required=True)
    tag = B64Url(max_length=MAX_JWE_TAG_CHARS, required=True)

    @validates_schema
    def _check_unique_recipients(self, data: dict[str, Any], **kwargs: object) -> None:
        # One key wrapped twice is at best a bug; at worst the two entries wrap different
        # CEKs and, AES-GCM not being key-committing, two readers of the same key picking
        # different entries could decrypt different plaintexts.
        seen: set[str] = set()
        errors: dict[int, Any] = {}
        for index, recipient in enumerate(data["recipients"]):
            kid = recipient["header"]["kid"]
            if kid in seen:
                errors[index] = {"header": {"kid": ["Duplicate recipient kid."]}}
            seen.add(kid)
        if errors:
            raise ValidationError(errors, field_name="recipients")
