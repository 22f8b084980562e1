"""The case body: its rules, and every cap at its boundary."""

import base64
import hashlib
from typing import Any

import pytest

from schemas.case_body import (
    MAX_ATTACHMENTS_BYTES,
    AttachmentSchema,
    CaseSchema,
    HashSchema,
    ItemSchema,
    LocatorSchema,
    OnBehalfOfSchema,
)
from schemas.common import SCOPE_CODES
from schemas.enums import Action, Annotation
from tests.schemas.examples import deepfake_case_body, deepfake_video_item, ncii_case_body
from tests.schemas.helpers import load_errors, loads

CASE = CaseSchema()
ITEM = ItemSchema()
HASH = HashSchema()
ATTACHMENT = AttachmentSchema()


def item(n: int = 0, **changes: Any) -> dict[str, Any]:
    return {**deepfake_video_item(), "item_id": f"item-{n}", **changes}


def attachment(content: bytes, **changes: Any) -> dict[str, Any]:
    return {
        "name": "order.pdf",
        "media_type": "application/pdf",
        "sha256": hashlib.sha256(content).hexdigest(),
        "data": base64.b64encode(content).decode("ascii"),
        **changes,
    }


def test_the_examples_load_unchanged() -> None:
    assert loads(CASE, deepfake_case_body())
    assert loads(CASE, ncii_case_body())


def test_an_ncii_case_may_be_hashes_only() -> None:
    body = ncii_case_body()
    assert all(not each["locators"] and each["hashes"] for each in body["items"])
    assert loads(CASE, body)


def test_unknown_fields_are_refused_at_every_level() -> None:
    assert load_errors(CASE, {**deepfake_case_body(), "case_id": "x"}) == {
        "case_id": ["Unknown field."]
    }
    body = deepfake_case_body()
    body["items"][1]["victim_name"] = "Jane Doe"
    body["contact"]["name"] = "Jane Doe"
    assert load_errors(CASE, body) == {
        "items": {1: {"victim_name": ["Unknown field."]}},
        "contact": {"name": ["Unknown field."]},
    }


def test_required_fields() -> None:
    body = deepfake_case_body()
    del body["statement_of_reasons"]
    del body["keywords"]
    assert load_errors(CASE, body) == {
        "statement_of_reasons": ["Missing data for required field."],
        "keywords": ["Missing data for required field."],
    }


def test_closed_enums() -> None:
    body = {**deepfake_case_body(), "category": "spam", "priority": "URGENT"}
    errors = load_errors(CASE, body)
    assert set(errors) == {"category", "priority"}
    assert errors["priority"] == ["Must be one of: urgent, high, normal."]


def test_escalation_reason_is_required_when_urgent() -> None:
    body = deepfake_case_body()
    del body["escalation_reason"]
    assert load_errors(CASE, body) == {"escalation_reason": ["Required when priority is urgent."]}
    assert loads(CASE, {**body, "priority": "high"})
    assert loads(CASE, {**body, "priority": "normal", "escalation_reason": "Victim distressed."})


def test_victim_ref_is_required_for_victims_and_forbidden_otherwise() -> None:
    schema = OnBehalfOfSchema()
    assert loads(schema, {"type": "victim", "victim_ref": "V-2026-8f3k2q"})
    assert loads(schema, {"type": "agency"})
    assert loads(schema, {"type": "court"})
    assert load_errors(schema, {"type": "victim"}) == {
        "victim_ref": ["Required when type is victim."]
    }
    assert load_errors(schema, {"type": "court", "victim_ref": "V-2026-8f3k2q"}) == {
        "victim_ref": ["Only allowed when type is victim."]
    }


@pytest.mark.parametrize("ref", ["Jane Doe", "jane.doe@mail.example", "short", "a" * 65])
def test_victim_ref_is_opaque(ref: str) -> None:
    errors = load_errors(OnBehalfOfSchema(), {"type": "victim", "victim_ref": ref})
    assert list(errors) == ["victim_ref"]


def test_contact_email_and_phone() -> None:
    body = deepfake_case_body()
    body["contact"]["email"] = "duty desk"
    body["contact"]["phone"] = "030 123 456"
    assert load_errors(CASE, body) == {
        "contact": {
            "email": ["Not a valid email address."],
            "phone": ["Not an E.164 telephone number (+ and 7 to 15 digits)."],
        }
    }
    del body["contact"]["phone"]
    body["contact"]["email"] = "desk@metro.example"
    assert loads(CASE, body)


# --- Caps at their boundaries ---------------------------------------------------------------------

TEXT_CAPS = [
    ("statement_of_reasons", 10_000),
    ("redress_info", 2000),
    ("escalation_reason", 1000),
]


@pytest.mark.parametrize(("field", "cap"), TEXT_CAPS)
def test_case_text_caps(field: str, cap: int) -> None:
    assert loads(CASE, {**deepfake_case_body(), field: "x" * cap})
    assert load_errors(CASE, {**deepfake_case_body(), field: "x" * (cap + 1)}) == {
        field: [f"Length must be between 1 and {cap}."]
    }
    assert load_errors(CASE, {**deepfake_case_body(), field: ""}) == {
        field: [f"Length must be between 1 and {cap}."]
    }


def test_issuer_case_ref() -> None:
    assert loads(CASE, {**deepfake_case_body(), "issuer_case_ref": "A" + "b/:.-_" * 10 + "xyz"})
    assert load_errors(CASE, {**deepfake_case_body(), "issuer_case_ref": "A" * 65}) == {
        "issuer_case_ref": ["Length must be between 1 and 64."]
    }
    for bad in ("/MCU/1", "MCU 1", "MCU#1"):
        assert load_errors(CASE, {**deepfake_case_body(), "issuer_case_ref": bad}) == {
            "issuer_case_ref": ["Not a valid issuer case reference."]
        }


def test_keywords_cap() -> None:
    assert loads(CASE, {**deepfake_case_body(), "keywords": ["k" * 64] * 20})
    assert load_errors(CASE, {**deepfake_case_body(), "keywords": ["k"] * 21}) == {
        "keywords": ["Longer than maximum length 20."]
    }
    assert load_errors(CASE, {**deepfake_case_body(), "keywords": ["k" * 65]}) == {
        "keywords": {0: ["Length must be between 1 and 64."]}
    }


def test_legal_basis_caps() -> None:
    basis = deepfake_case_body()["legal_basis"][0]
    assert loads(CASE, {**deepfake_case_body(), "legal_basis": [basis] * 10})
    assert load_errors(CASE, {**deepfake_case_body(), "legal_basis": [basis] * 11}) == {
        "legal_basis": ["Length must be between 1 and 10."]
    }
    assert load_errors(CASE, {**deepfake_case_body(), "legal_basis": []}) == {
        "legal_basis": ["Length must be between 1 and 10."]
    }
    long_basis = {"jurisdiction": "UK", "instrument": "i" * 201, "article": "a" * 101}
    assert load_errors(CASE, {**deepfake_case_body(), "legal_basis": [long_basis]}) == {
        "legal_basis": {
            0: {
                "jurisdiction": ["Not an ISO 3166-1 alpha-2 country code or EU."],
                "instrument": ["Length must be between 1 and 200."],
                "article": ["Length must be between 1 and 100."],
            }
        }
    }
    edge = {"jurisdiction": "GB", "instrument": "i" * 200, "article": "a" * 100}
    assert loads(CASE, {**deepfake_case_body(), "legal_basis": [edge]})


def test_territorial_scope() -> None:
    every = sorted(SCOPE_CODES)
    assert len(every) == 250
    assert loads(CASE, {**deepfake_case_body(), "territorial_scope": every})
    assert load_errors(CASE, {**deepfake_case_body(), "territorial_scope": [*every, "DE"]}) == {
        "territorial_scope": ["Length must be between 1 and 250."]
    }
    assert load_errors(CASE, {**deepfake_case_body(), "territorial_scope": ["DE", "AT", "DE"]}) == {
        "territorial_scope": {2: ["Duplicate value."]}
    }
    assert load_errors(CASE, {**deepfake_case_body(), "territorial_scope": []}) == {
        "territorial_scope": ["Length must be between 1 and 250."]
    }


def test_items_cap_and_unique_ids() -> None:
    assert loads(CASE, {**deepfake_case_body(), "items": [item(n) for n in range(500)]})
    assert load_errors(CASE, {**deepfake_case_body(), "items": [item(n) for n in range(501)]}) == {
        "items": ["Length must be between 1 and 500."]
    }
    assert load_errors(CASE, {**deepfake_case_body(), "items": []}) == {
        "items": ["Length must be between 1 and 500."]
    }
    assert load_errors(CASE, {**deepfake_case_body(), "items": [item(1), item(2), item(1)]}) == {
        "items": {2: {"item_id": ["Duplicate value."]}}
    }


def test_item_id() -> None:
    assert loads(ITEM, item(item_id="A" + "b._-" * 15 + "xyz"))
    assert load_errors(ITEM, item(item_id="a" * 65)) == {
        "item_id": ["Length must be between 1 and 64."]
    }
    for bad in ("-a", "a/b", "a b", ".."):
        assert load_errors(ITEM, item(item_id=bad)) == {"item_id": ["Not a valid item id."]}


def test_item_needs_a_locator_or_a_hash() -> None:
    assert loads(ITEM, item(hashes=[]))
    assert loads(ITEM, item(locators=[]))
    assert load_errors(ITEM, item(locators=[], hashes=[])) == {
        "_schema": ["An item needs at least one locator or hash."]
    }
    body = {**deepfake_case_body(), "items": [item(locators=[], hashes=[])]}
    assert load_errors(CASE, body) == {
        "items": {0: {"_schema": ["An item needs at least one locator or hash."]}}
    }


def test_item_list_caps() -> None:
    locator = {"type": "platform_item_id", "value": "8kQ2xZ"}
    hash_ = {"algo": "md5", "value": "0" * 32}
    assert loads(ITEM, item(locators=[locator] * 20, hashes=[hash_] * 20))
    assert load_errors(ITEM, item(locators=[locator] * 21, hashes=[hash_] * 21)) == {
        "locators": ["Longer than maximum length 20."],
        "hashes": ["Longer than maximum length 20."],
    }


def test_requested_actions() -> None:
    every = [action.value for action in Action]
    assert len(every) == 8
    assert loads(ITEM, item(requested_actions=every))
    assert load_errors(ITEM, item(requested_actions=[*every, "remove"])) == {
        "requested_actions": ["Length must be between 1 and 8."]
    }
    assert load_errors(ITEM, item(requested_actions=["remove", "label", "remove"])) == {
        "requested_actions": {2: ["Duplicate value."]}
    }
    assert load_errors(ITEM, item(requested_actions=[])) == {
        "requested_actions": ["Length must be between 1 and 8."]
    }
    assert list(load_errors(ITEM, item(requested_actions=["delete"]))["requested_actions"]) == [0]


def test_annotations() -> None:
    every = [annotation.value for annotation in Annotation]
    assert loads(ITEM, item(annotations=every))
    assert loads(ITEM, item(annotations=[]))
    assert load_errors(ITEM, item(annotations=["viral", "viral"])) == {
        "annotations": {1: ["Duplicate value."]}
    }
    assert load_errors(ITEM, item(annotations=["viral"] * 11)) == {
        "annotations": ["Longer than maximum length 10."]
    }


def test_item_optional_members() -> None:
    bare = item()
    for optional in ("first_seen_at", "publicly_available", "notes"):
        bare.pop(optional, None)
    assert loads(ITEM, bare)
    assert loads(ITEM, item(notes="n" * 2000))
    assert load_errors(ITEM, item(notes="n" * 2001)) == {
        "notes": ["Length must be between 1 and 2000."]
    }
    assert load_errors(ITEM, item(publicly_available="yes", first_seen_at="2026-03-02")) == {
        "publicly_available": ["Not a valid boolean."],
        "first_seen_at": ["Not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff]Z)."],
    }


# --- Locators -------------------------------------------------------------------------------------


def test_url_locators_must_be_http_urls() -> None:
    schema = LocatorSchema()
    assert loads(schema, {"type": "url", "value": "https://clipshare.example/v/1"})
    for bad in ("ftp://clipshare.example/v/1", "clipshare.example/v/1", "javascript:alert(1)"):
        assert load_errors(schema, {"type": "url", "value": bad}) == {"value": ["Not a valid URL."]}


def test_other_locators_are_bounded_text() -> None:
    schema = LocatorSchema()
    for kind in ("platform_item_id", "account", "channel", "message"):
        assert loads(schema, {"type": kind, "value": "@leaks-daily / msg 1234"})
    assert loads(schema, {"type": "account", "value": "a" * 2048})
    assert load_errors(schema, {"type": "account", "value": "a" * 2049}) == {
        "value": ["Length must be between 1 and 2048."]
    }


# --- Hashes ---------------------------------------------------------------------------------------

HEX64 = hashlib.sha256(b"x").hexdigest()
HEX32 = hashlib.md5(b"x", usedforsecurity=False).hexdigest()


def b64(n: int) -> str:
    return base64.b64encode(bytes(range(256)) * (n // 256) + bytes(n % 256)).decode()


def vpdq(lines: int) -> str:
    return "\n".join(f"{i},{i % 101},{HEX64},{i / 30:.3f}" for i in range(lines))


VALID_HASHES = [
    ("sha256", HEX64),
    ("md5", HEX32),
    ("pdq", HEX64),
    ("pdq", "0" * 64),
    ("photodna", b64(144)),
    ("tmk_pdqf", b64(1)),
    ("tmk_pdqf", b64(262_144)),
    ("vpdq", vpdq(1)),
    ("vpdq", "0,0," + HEX64 + ",0"),
    ("vpdq", "999999999,100," + HEX64 + ",999999999.999999"),
    ("vpdq", vpdq(10_000)),
]


@pytest.mark.parametrize(("algo", "value"), VALID_HASHES, ids=lambda v: str(v)[:12])
def test_valid_hashes(algo: str, value: str) -> None:
    assert loads(HASH, {"algo": algo, "value": value})


INVALID_HASHES = [
    ("sha256", HEX64.upper(), "Not a sha256 hash (64 lowercase hex digits)."),
    ("sha256", HEX64[:-1], "Not a sha256 hash (64 lowercase hex digits)."),
    ("sha256", HEX32, "Not a sha256 hash (64 lowercase hex digits)."),
    (
        "sha256",
        base64.b64encode(bytes(32)).decode(),
        "Not a sha256 hash (64 lowercase hex digits).",
    ),
    ("md5", HEX64, "Not an md5 hash (32 lowercase hex digits)."),
    ("md5", HEX32.upper(), "Not an md5 hash (32 lowercase hex digits)."),
    ("md5", HEX32 + "\n", "Not an md5 hash (32 lowercase hex digits)."),
    ("pdq", HEX64[:-2] + "zz", "Not a pdq hash (64 lowercase hex digits)."),
    ("pdq", HEX32, "Not a pdq hash (64 lowercase hex digits)."),
    ("photodna", b64(143), "Not a photodna hash (standard base64 of 144 bytes)."),
    ("photodna", b64(145), "Not a photodna hash (standard base64 of 144 bytes)."),
    ("photodna", b64(143).rstrip("="), "Not a photodna hash (standard base64 of 144 bytes)."),
    (
        "photodna",
        base64.urlsafe_b64encode(bytes([251]) * 144).decode(),
        "Not a photodna hash (standard base64 of 144 bytes).",
    ),
    ("photodna", HEX64, "Not a photodna hash (standard base64 of 144 bytes)."),
    ("tmk_pdqf", b64(262_145), "Not a tmk_pdqf hash (standard base64 of 1 to 262144 bytes)."),
    ("tmk_pdqf", "QR==", "Not a tmk_pdqf hash (standard base64 of 1 to 262144 bytes)."),
    ("vpdq", vpdq(10_001), "Not a vpdq hash (1 to 10000 lines of frame,quality,pdq-hex,seconds)."),
    (
        "vpdq",
        vpdq(2) + "\n",
        "Not a vpdq hash (1 to 10000 lines of frame,quality,pdq-hex,seconds).",
    ),
    (
        "vpdq",
        "0,101," + HEX64 + ",0.0",
        "Not a vpdq hash (1 to 10000 lines of frame,quality,pdq-hex,seconds).",
    ),
    (
        "vpdq",
        "-1,50," + HEX64 + ",0.0",
        "Not a vpdq hash (1 to 10000 lines of frame,quality,pdq-hex,seconds).",
    ),
    (
        "vpdq",
        "01,50," + HEX64 + ",0.0",
        "Not a vpdq hash (1 to 10000 lines of frame,quality,pdq-hex,seconds).",
    ),
    (
        "vpdq",
        "0,50," + HEX64.upper() + ",0.0",
        "Not a vpdq hash (1 to 10000 lines of frame,quality,pdq-hex,seconds).",
    ),
    (
        "vpdq",
        "0,50," + HEX64 + ",1e3",
        "Not a vpdq hash (1 to 10000 lines of frame,quality,pdq-hex,seconds).",
    ),
    (
        "vpdq",
        "0,50," + HEX64,
        "Not a vpdq hash (1 to 10000 lines of frame,quality,pdq-hex,seconds).",
    ),
    (
        "vpdq",
        "0,50," + HEX64 + ",0.0\r",
        "Not a vpdq hash (1 to 10000 lines of frame,quality,pdq-hex,seconds).",
    ),
    ("vpdq", HEX64, "Not a vpdq hash (1 to 10000 lines of frame,quality,pdq-hex,seconds)."),
]


@pytest.mark.parametrize(("algo", "value", "message"), INVALID_HASHES, ids=lambda v: str(v)[:12])
def test_invalid_hashes(algo: str, value: str, message: str) -> None:
    assert load_errors(HASH, {"algo": algo, "value": value}) == {"value": [message]}


def test_unknown_hash_algorithm() -> None:
    assert load_errors(HASH, {"algo": "sha1", "value": HEX32}) == {
        "algo": ["Must be one of: sha256, md5, pdq, photodna, tmk_pdqf, vpdq."]
    }


def test_hash_errors_are_reported_inside_the_case() -> None:
    body = ncii_case_body()
    body["items"][1]["hashes"][0]["value"] = HEX64
    assert load_errors(CASE, body) == {
        "items": {1: {"hashes": {0: {"value": ["Not an md5 hash (32 lowercase hex digits)."]}}}}
    }


# --- Attachments ----------------------------------------------------------------------------------


def test_attachment_digest_must_match_its_data() -> None:
    assert loads(ATTACHMENT, attachment(b"%PDF-1.7"))
    forged = attachment(b"%PDF-1.7", sha256=hashlib.sha256(b"other").hexdigest())
    assert load_errors(ATTACHMENT, forged) == {"sha256": ["Does not match the SHA-256 of data."]}
    upper = attachment(b"%PDF-1.7")
    upper["sha256"] = upper["sha256"].upper()
    assert load_errors(ATTACHMENT, upper) == {"sha256": ["Not 64 lowercase hex digits."]}


def test_attachment_data_is_canonical_standard_base64() -> None:
    data = b"\xfb\xff\xfe"
    urlsafe = attachment(data, data=base64.urlsafe_b64encode(data).decode())
    assert load_errors(ATTACHMENT, urlsafe) == {"data": ["Not canonical standard base64."]}
    assert load_errors(ATTACHMENT, attachment(b"A", data="QR==")) == {
        "data": ["Not canonical standard base64."]
    }
    assert load_errors(ATTACHMENT, attachment(b"", data="")) == {
        "data": [f"Length must be between 4 and {4 * -(-MAX_ATTACHMENTS_BYTES // 3)}."]
    }


@pytest.mark.parametrize(
    "name",
    [
        "scans/order.pdf",
        "..\\order.pdf",
        "..",
        ".",
        "order\x00.pdf",
        "order\n.pdf",
        "invoice\u202egpj.exe",
        "a\u2066b",
        "",
        "n" * 256,
    ],
)
def test_attachment_name_is_a_bare_file_name(name: str) -> None:
    errors = load_errors(ATTACHMENT, attachment(b"x", name=name))
    assert list(errors) == ["name"]


@pytest.mark.parametrize("name", ["order.pdf", "...", ".hidden", "Anordnung § 9.pdf", "n" * 255])
def test_attachment_name_accepts_ordinary_names(name: str) -> None:
    assert loads(ATTACHMENT, attachment(b"x", name=name))


@pytest.mark.parametrize(
    ("media_type", "ok"),
    [
        ("application/pdf", True),
        ("image/svg+xml", True),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", True),
        ("text/plain; charset=utf-8", False),
        ("pdf", False),
        ("application/", False),
        ("a" * 64 + "/" + "b", False),
    ],
)
def test_attachment_media_type(media_type: str, ok: bool) -> None:
    document = attachment(b"x", media_type=media_type)
    if ok:
        assert loads(ATTACHMENT, document)
    else:
        assert load_errors(ATTACHMENT, document) == {
            "media_type": ["Not a media type (type/subtype)."]
        }


def test_attachments_total_size_cap() -> None:
    half = MAX_ATTACHMENTS_BYTES // 2
    at_cap = [attachment(b"a" * half), attachment(b"b" * half)]
    assert loads(CASE, {**deepfake_case_body(), "attachments": at_cap})
    over = [attachment(b"a" * half), attachment(b"b" * (half + 1))]
    assert load_errors(CASE, {**deepfake_case_body(), "attachments": over}) == {
        "attachments": [f"Total decoded size exceeds {MAX_ATTACHMENTS_BYTES} bytes."]
    }
    one_too_big = [attachment(b"a" * (MAX_ATTACHMENTS_BYTES + 1))]
    assert list(load_errors(CASE, {**deepfake_case_body(), "attachments": one_too_big})) == [
        "attachments"
    ]


def test_attachments_count_cap() -> None:
    tiny = attachment(b"x")
    assert loads(CASE, {**deepfake_case_body(), "attachments": [tiny] * 10})
    assert loads(CASE, {**deepfake_case_body(), "attachments": []})
    assert load_errors(CASE, {**deepfake_case_body(), "attachments": [tiny] * 11}) == {
        "attachments": ["Longer than maximum length 10."]
    }
