"""The body of a case: what an agency asks a platform to do, about which items, and why.

Fields follow what real systems carry: the DSA Art. 9 order (legal basis, statement of
reasons, territorial scope, redress), the DSA Transparency Database statement of reasons
(category, content type, automated detection on the response side), NCMEC CyberTipline
reports (locators, hashes, first seen) and StopNCII hash records (a case may be hashes
only). The case id is not here: it is in the record header.
"""

import hashlib
import re
from typing import Any, Unpack

from marshmallow import ValidationError, fields, validates_schema

from keys.b64 import b64_decode, b64_decoded_size
from schemas.common import (
    Bool,
    BoundedList,
    Choice,
    CountryCode,
    Email,
    FieldOptions,
    IssuerCaseRef,
    ItemId,
    LanguageTag,
    LowerHex64,
    Phone,
    StdBase64,
    StrictSchema,
    TerritorialScope,
    Text,
    UtcTimestamp,
    validate_url,
)
from schemas.enums import (
    Action,
    Annotation,
    Category,
    ContentType,
    HashAlgo,
    LocatorType,
    MinorInvolved,
    OnBehalfOf,
    Priority,
    RequestType,
)
from schemas.hashes import MAX_HASH_VALUE_CHARS, validate_hash_value

MAX_KEYWORDS = 20
MAX_LEGAL_BASES = 10
MAX_ITEMS = 500
MAX_LOCATORS = 20
MAX_HASHES = 20
MAX_REQUESTED_ACTIONS = 8
MAX_ANNOTATIONS = 10
MAX_ATTACHMENTS = 10
# Attachments ride base64 inside the record, the record rides base64 inside the signed
# record and again inside the JWE: 512 KiB grows to about 1.2 MB on the wire, which keeps
# the largest case under the server's default 2 MiB body limit.
MAX_ATTACHMENTS_BYTES = 512 * 1024

# Opaque, so that a victim can be recognised across cases without being named.
VICTIM_REF_RE = re.compile(r"[A-Za-z0-9_-]{8,64}", re.ASCII)
# RFC 6838 type/subtype, without parameters.
MEDIA_TYPE_RE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}", re.ASCII
)
# A bare file name: no path separators, no controls, no bidi overrides (which can make
# "gpj.exe" display as "exe.jpg"), and not "." or "..".
ATTACHMENT_NAME_RE = re.compile(
    r"(?!\.\.?\Z)[^/\\\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+"
)


class LegalBasisSchema(StrictSchema):
    """The law the request rests on, e.g. EU / Regulation (EU) 2022/2065 / Art. 9."""

    jurisdiction = CountryCode(required=True)
    instrument = Text(max_length=200, required=True)
    article = Text(max_length=100, required=True)


class OnBehalfOfSchema(StrictSchema):
    """Whose interest the request serves. A victim appears only as an opaque reference."""

    type = Choice(OnBehalfOf, required=True)
    victim_ref = Text(
        max_length=64,
        pattern=VICTIM_REF_RE,
        pattern_error="Not an opaque victim reference (8 to 64 of A-Z a-z 0-9 _ -).",
    )

    @validates_schema
    def _check_victim_ref(self, data: dict[str, Any], **kwargs: object) -> None:
        is_victim = data["type"] == OnBehalfOf.VICTIM
        if is_victim and "victim_ref" not in data:
            raise ValidationError("Required when type is victim.", field_name="victim_ref")
        if not is_victim and "victim_ref" in data:
            raise ValidationError("Only allowed when type is victim.", field_name="victim_ref")


class ContactSchema(StrictSchema):
    """A functional contact point of the issuing agency (a desk, not a person's name)."""

    title = Text(max_length=200, required=True)
    email = Email(required=True)
    phone = Phone()


class LocatorSchema(StrictSchema):
    """Where the item is: a URL, or a platform-internal id, account, channel or message."""

    type = Choice(LocatorType, required=True)
    value = Text(max_length=2048, required=True)

    @validates_schema
    def _check_url(self, data: dict[str, Any], **kwargs: object) -> None:
        if data["type"] == LocatorType.URL:
            try:
                validate_url(data["value"])
            except ValidationError as exc:
                raise ValidationError(exc.messages, field_name="value") from exc


class HashSchema(StrictSchema):
    algo = Choice(HashAlgo, required=True)
    value = Text(max_length=MAX_HASH_VALUE_CHARS, required=True)

    @validates_schema
    def _check_value(self, data: dict[str, Any], **kwargs: object) -> None:
        try:
            validate_hash_value(data["algo"], data["value"])
        except ValidationError as exc:
            raise ValidationError(exc.messages, field_name="value") from exc


class ItemSchema(StrictSchema):
    """One piece of content. It needs a locator or a hash: NCII is often sent as hashes only."""

    item_id = ItemId(required=True)
    locators = BoundedList(fields.Nested(LocatorSchema), max_length=MAX_LOCATORS, required=True)
    requested_actions = BoundedList(
        Choice(Action),
        min_length=1,
        max_length=MAX_REQUESTED_ACTIONS,
        unique=True,
        required=True,
    )
    hashes = BoundedList(fields.Nested(HashSchema), max_length=MAX_HASHES, required=True)
    content_type = Choice(ContentType, required=True)
    annotations = BoundedList(
        Choice(Annotation), max_length=MAX_ANNOTATIONS, unique=True, required=True
    )
    first_seen_at = UtcTimestamp()
    publicly_available = Bool()
    notes = Text(max_length=2000)

    @validates_schema
    def _check_findable(self, data: dict[str, Any], **kwargs: object) -> None:
        if not data["locators"] and not data["hashes"]:
            raise ValidationError("An item needs at least one locator or hash.")


class AttachmentSchema(StrictSchema):
    """A small file (an order scan, a screenshot) carried inside the encrypted record."""

    name = Text(
        max_length=255,
        pattern=ATTACHMENT_NAME_RE,
        pattern_error="Not a bare file name (no path, control or bidi characters).",
        required=True,
    )
    media_type = Text(
        max_length=127,
        pattern=MEDIA_TYPE_RE,
        pattern_error="Not a media type (type/subtype).",
        required=True,
    )
    sha256 = LowerHex64(required=True)
    data = StdBase64(max_bytes=MAX_ATTACHMENTS_BYTES, required=True)

    @validates_schema
    def _check_digest(self, data: dict[str, Any], **kwargs: object) -> None:
        digest = hashlib.sha256(b64_decode(data["data"])).hexdigest()
        if digest != data["sha256"]:
            raise ValidationError("Does not match the SHA-256 of data.", field_name="sha256")


class AttachmentList(BoundedList):
    """Up to 10 attachments of at most MAX_ATTACHMENTS_BYTES (512 KiB) together, decoded."""

    def __init__(self, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(fields.Nested(AttachmentSchema), max_length=MAX_ATTACHMENTS, **kwargs)
        self.error_messages = {
            **self.error_messages,
            "too_large": f"Total decoded size exceeds {MAX_ATTACHMENTS_BYTES} bytes.",
        }

    def _check_loaded(self, result: list[Any]) -> None:
        super()._check_loaded(result)
        if sum(b64_decoded_size(each["data"]) for each in result) > MAX_ATTACHMENTS_BYTES:
            raise self.make_error("too_large")


class ItemList(BoundedList):
    """Items of a case or supplement, each with its own item_id."""

    def __init__(self, *, min_length: int, **kwargs: Unpack[FieldOptions]) -> None:
        super().__init__(
            fields.Nested(ItemSchema),
            min_length=min_length,
            max_length=MAX_ITEMS,
            unique_key="item_id",
            **kwargs,
        )


class CaseSchema(StrictSchema):
    issuer_case_ref = IssuerCaseRef(required=True)
    request_type = Choice(RequestType, required=True)
    category = Choice(Category, required=True)
    keywords = BoundedList(Text(max_length=64), max_length=MAX_KEYWORDS, required=True)
    minor_involved = Choice(MinorInvolved, required=True)
    priority = Choice(Priority, required=True)
    escalation_reason = Text(max_length=1000)
    legal_basis = BoundedList(
        fields.Nested(LegalBasisSchema),
        min_length=1,
        max_length=MAX_LEGAL_BASES,
        required=True,
    )
    statement_of_reasons = Text(max_length=10_000, required=True)
    territorial_scope = TerritorialScope(required=True)
    redress_info = Text(max_length=2000, required=True)
    language = LanguageTag(required=True)
    on_behalf_of = fields.Nested(OnBehalfOfSchema, required=True)
    contact = fields.Nested(ContactSchema, required=True)
    items = ItemList(min_length=1, required=True)
    attachments = AttachmentList()

    @validates_schema
    def _check_escalation(self, data: dict[str, Any], **kwargs: object) -> None:
        # Urgent cases jump the platform's queue; the reason is what lets it check that.
        if data["priority"] == Priority.URGENT and "escalation_reason" not in data:
            raise ValidationError(
                "Required when priority is urgent.", field_name="escalation_reason"
            )
