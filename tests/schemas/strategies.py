"""Hypothesis strategies for valid instances of every schema, as plain JSON dicts.

Sizes stay far below the caps so that properties run fast; the caps themselves are
tested by examples at their boundaries.
"""

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from schemas.case_body import MEDIA_TYPE_RE, VICTIM_REF_RE
from schemas.common import (
    E164_RE,
    ISSUER_CASE_REF_RE,
    ITEM_ID_RE,
    ORG_ID_RE,
    SCOPE_CODES,
    format_utc,
)
from schemas.enums import (
    SEALED_KINDS,
    Action,
    Annotation,
    Category,
    ClosureReason,
    ContentType,
    HashAlgo,
    Kind,
    LocatorType,
    MinorInvolved,
    OnBehalfOf,
    Outcome,
    Priority,
    ReasonCode,
    RequestType,
    WithdrawalReason,
)
from schemas.statement import meta_for

Draw = Callable[[st.SearchStrategy[Any]], Any]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64std(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def values(enum: Any) -> st.SearchStrategy[str]:
    # `.value` is a plain str, as a JSON parser would produce.
    return st.sampled_from([member.value for member in enum])


def unique_values(enum: Any, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(values(enum), min_size=min_size, max_size=len(enum), unique=True)


def text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Free text: any Unicode scalar value except controls (tab, LF, CR allowed)."""
    chars = st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), st.sampled_from("\t\n\r")
    )
    return st.text(alphabet=chars, min_size=1, max_size=max_size)


uuids = st.uuids().map(str)
digests = st.binary(min_size=32, max_size=32).map(b64url)
lower_hex_64 = st.binary(min_size=32, max_size=32).map(bytes.hex)
org_ids = st.from_regex(ORG_ID_RE, fullmatch=True)
official_ids = org_ids
item_ids = st.from_regex(ITEM_ID_RE, fullmatch=True)
issuer_case_refs = st.from_regex(ISSUER_CASE_REF_RE, fullmatch=True)
victim_refs = st.from_regex(VICTIM_REF_RE, fullmatch=True)
country_codes = st.sampled_from(sorted(SCOPE_CODES))
scopes = st.lists(country_codes, min_size=1, max_size=5, unique=True)
phones = st.from_regex(E164_RE, fullmatch=True)
language_tags = st.sampled_from(["en", "de", "fr-BE", "pt-BR", "zh-Hant-TW", "es-419", "sl-rozaj"])
media_types = st.from_regex(MEDIA_TYPE_RE, fullmatch=True)
_labels = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
hosts = st.lists(_labels, min_size=1, max_size=3).map(".".join).map(lambda h: h + ".example")
urls = st.builds(
    "{}://{}{}".format,
    st.sampled_from(["http", "https", "HTTPS"]),
    hosts,
    st.from_regex(
        r"(?:/[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,20}){0,3}(?:\?[a-z0-9=&]{1,20})?", fullmatch=True
    ),
)
emails = st.builds(
    "{}@{}".format, st.from_regex(r"[a-z0-9](?:[a-z0-9_+-]{0,20}[a-z0-9])?", fullmatch=True), hosts
)
file_names = text(60).filter(
    lambda s: (
        s not in (".", "..")
        and not any(c in s for c in "/\\\t\n\r\u061c\u200e\u200f")
        and not any("\u202a" <= c <= "\u202e" or "\u2066" <= c <= "\u2069" for c in s)
    )
)


@st.composite
def timestamps(draw: Draw) -> str:
    moment = draw(
        st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2199, 12, 31))
    ).replace(tzinfo=UTC)
    digits = draw(st.integers(0, 6))
    whole = format_utc(moment.replace(microsecond=0))
    if digits == 0:
        return whole
    return f"{whole[:-1]}.{moment.microsecond:06d}"[: len(whole) + digits] + "Z"


def _vpdq_line(frame: int, quality: int, pdq: bytes, millis: int) -> str:
    return f"{frame},{quality},{pdq.hex()},{millis // 1000}.{millis % 1000:03d}"


_vpdq = st.lists(
    st.builds(
        _vpdq_line,
        st.integers(0, 999_999_999),
        st.integers(0, 100),
        st.binary(min_size=32, max_size=32),
        st.integers(0, 10**7),
    ),
    min_size=1,
    max_size=5,
).map("\n".join)

HASH_VALUES: dict[str, st.SearchStrategy[str]] = {
    HashAlgo.SHA256: lower_hex_64,
    HashAlgo.MD5: st.binary(min_size=16, max_size=16).map(bytes.hex),
    HashAlgo.PDQ: lower_hex_64,
    HashAlgo.PHOTODNA: st.binary(min_size=144, max_size=144).map(b64std),
    HashAlgo.TMK_PDQF: st.binary(min_size=1, max_size=300).map(b64std),
    HashAlgo.VPDQ: _vpdq,
}

hashes = values(HashAlgo).flatmap(
    lambda algo: HASH_VALUES[algo].map(lambda value: {"algo": algo, "value": value})
)


@st.composite
def locators(draw: Draw) -> dict[str, Any]:
    kind = draw(values(LocatorType))
    value = draw(urls if kind == LocatorType.URL else text(80))
    return {"type": kind, "value": value}


def by_item_id(item: dict[str, Any]) -> str:
    return str(item["item_id"])


def _maybe(draw: Draw, target: dict[str, Any], key: str, strategy: st.SearchStrategy[Any]) -> None:
    if draw(st.booleans()):
        target[key] = draw(strategy)


@st.composite
def items(draw: Draw) -> dict[str, Any]:
    item_locators = draw(st.lists(locators(), max_size=3))
    item_hashes = draw(st.lists(hashes, min_size=0 if item_locators else 1, max_size=3))
    item: dict[str, Any] = {
        "item_id": draw(item_ids),
        "locators": item_locators,
        "requested_actions": draw(unique_values(Action, min_size=1)),
        "hashes": item_hashes,
        "content_type": draw(values(ContentType)),
        "annotations": draw(unique_values(Annotation)),
    }
    _maybe(draw, item, "first_seen_at", timestamps())
    _maybe(draw, item, "publicly_available", st.booleans())
    _maybe(draw, item, "notes", text())
    return item


item_lists = st.lists(items(), min_size=1, max_size=3, unique_by=by_item_id)


@st.composite
def attachments(draw: Draw) -> dict[str, Any]:
    data = draw(st.binary(min_size=1, max_size=200))
    return {
        "name": draw(file_names),
        "media_type": draw(media_types),
        "sha256": hashlib.sha256(data).hexdigest(),
        "data": b64std(data),
    }


legal_bases = st.fixed_dictionaries(
    {"jurisdiction": country_codes, "instrument": text(), "article": text(20)}
)


@st.composite
def on_behalf_of(draw: Draw) -> dict[str, Any]:
    kind = draw(values(OnBehalfOf))
    if kind == OnBehalfOf.VICTIM:
        return {"type": kind, "victim_ref": draw(victim_refs)}
    return {"type": kind}


contacts = st.fixed_dictionaries({"title": text(), "email": emails}, optional={"phone": phones})


@st.composite
def case_bodies(draw: Draw) -> dict[str, Any]:
    priority = draw(values(Priority))
    body: dict[str, Any] = {
        "issuer_case_ref": draw(issuer_case_refs),
        "request_type": draw(values(RequestType)),
        "category": draw(values(Category)),
        "keywords": draw(st.lists(text(20), max_size=3)),
        "minor_involved": draw(values(MinorInvolved)),
        "priority": priority,
        "legal_basis": draw(st.lists(legal_bases, min_size=1, max_size=2)),
        "statement_of_reasons": draw(text(200)),
        "territorial_scope": draw(scopes),
        "redress_info": draw(text()),
        "language": draw(language_tags),
        "on_behalf_of": draw(on_behalf_of()),
        "contact": draw(contacts),
        "items": draw(item_lists),
    }
    if priority == Priority.URGENT or draw(st.booleans()):
        body["escalation_reason"] = draw(text())
    _maybe(draw, body, "attachments", st.lists(attachments(), max_size=2))
    return body


receipts = st.fixed_dictionaries(
    {"handoff_id": uuids, "record_sha256": digests, "received_at": timestamps()}
)

action_taken = st.fixed_dictionaries(
    {
        "item_id": item_ids,
        "action": values(Action),
        "at": timestamps(),
        "territorial_scope": st.none() | scopes,
    }
)


@st.composite
def preservations(draw: Draw) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"preserved": True, "until": draw(timestamps())}
    return {"preserved": False}


@st.composite
def response_bodies(draw: Draw) -> dict[str, Any]:
    outcome = draw(values(Outcome))
    acting = outcome in (Outcome.ACTIONED, Outcome.PARTIALLY_ACTIONED)
    body: dict[str, Any] = {
        "outcome": outcome,
        "actions_taken": draw(st.lists(action_taken, min_size=1, max_size=3)) if acting else [],
        "automated_detection": draw(st.booleans()),
    }
    if outcome == Outcome.ACTIONED:
        _maybe(draw, body, "reason_code", st.none() | values(ReasonCode))
        _maybe(draw, body, "explanation", text())
    else:
        body["reason_code"] = draw(values(ReasonCode))
        body["explanation"] = draw(text())
    _maybe(draw, body, "preservation", preservations())
    _maybe(draw, body, "notes", text())
    return body


question_bodies = st.fixed_dictionaries(
    {"questions": st.lists(text(), min_size=1, max_size=3)},
    optional={
        "item_ids": st.lists(item_ids, max_size=3, unique=True),
        "respond_by": timestamps(),
    },
)

supplement_items: st.SearchStrategy[list[dict[str, Any]]] = st.lists(
    items(), max_size=2, unique_by=by_item_id
)
supplement_bodies = st.fixed_dictionaries(
    {},
    optional={
        "text": text(),
        "items": supplement_items,
        "attachments": st.lists(attachments(), max_size=2),
    },
).filter(lambda b: bool(b.get("text") or b.get("items") or b.get("attachments")))

withdrawal_bodies = st.fixed_dictionaries(
    {"reason": values(WithdrawalReason)}, optional={"explanation": text()}
)
closure_bodies = st.fixed_dictionaries(
    {"reason": values(ClosureReason)}, optional={"notes": text()}
)
assignments = st.fixed_dictionaries({"assignee": official_ids})
senders = st.fixed_dictionaries({"org": org_ids, "official": official_ids, "kid": digests})

BODIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    Kind.CASE: case_bodies(),
    Kind.RESPONSE: response_bodies(),
    Kind.QUESTION: question_bodies,
    Kind.SUPPLEMENT: supplement_bodies,
    Kind.WITHDRAWAL: withdrawal_bodies,
    Kind.CLOSURE: closure_bodies,
}


@st.composite
def headers(draw: Draw, kind: str) -> dict[str, Any]:
    handoff_id, previous = draw(st.lists(uuids, min_size=2, max_size=2, unique=True))
    return {
        "handoff_id": handoff_id,
        "case_id": draw(uuids),
        "kind": kind,
        "issued_at": draw(timestamps()),
        "sender": draw(senders),
        "to": draw(st.lists(org_ids, min_size=1, max_size=3, unique=True)),
        "in_reply_to": None if kind == Kind.CASE else previous,
    }


@st.composite
def records(draw: Draw, kind: str | None = None) -> dict[str, Any]:
    """A record of `kind`, or of any sealed kind."""
    kind = kind or draw(st.sampled_from(sorted(k.value for k in SEALED_KINDS)))
    return {"typ": "hotline.record/v1", **draw(headers(kind)), "body": draw(BODIES[kind])}


@st.composite
def statements(draw: Draw, kind: str | None = None) -> dict[str, Any]:
    """A statement of `kind`, or of any kind; sealed ones derive their meta from a record."""
    kind = kind or draw(values(Kind))
    if kind in SEALED_KINDS:
        record = draw(records(kind))
        header = {k: v for k, v in record.items() if k not in ("typ", "body")}
        return {
            "typ": "hotline.handoff/v1",
            **header,
            "meta": meta_for(record),
            "jwe_sha256": draw(digests),
            "record_sha256": draw(digests),
        }
    header = draw(headers(kind))
    if kind == Kind.RECEIPT:
        meta = draw(receipts)
        header["in_reply_to"] = meta["handoff_id"]
        if header["handoff_id"] == meta["handoff_id"]:
            header["handoff_id"] = draw(uuids.filter(lambda u: u != meta["handoff_id"]))
    else:
        meta = draw(assignments)
    return {
        "typ": "hotline.handoff/v1",
        **header,
        "meta": meta,
        "jwe_sha256": None,
        "record_sha256": None,
    }


case_metas = case_bodies().map(lambda body: meta_for({"kind": "case", "body": body}))


@st.composite
def response_metas(draw: Draw) -> dict[str, Any]:
    return meta_for({"kind": "response", "body": draw(response_bodies())})


epks = st.fixed_dictionaries(
    {
        "kty": st.just("OKP"),
        "crv": st.just("X25519"),
        "x": st.binary(min_size=32, max_size=32).map(b64url),
    }
)
recipients: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {
        "header": st.fixed_dictionaries(
            {"alg": st.just("ECDH-ES+A256KW"), "kid": digests, "epk": epks}
        ),
        "encrypted_key": st.binary(min_size=1, max_size=72).map(b64url),
    }
)
recipient_lists: st.SearchStrategy[list[dict[str, Any]]] = st.lists(
    recipients, min_size=1, max_size=4, unique_by=lambda r: str(r["header"]["kid"])
)
jwes = st.fixed_dictionaries(
    {
        "protected": st.binary(min_size=1, max_size=64).map(b64url),
        "recipients": recipient_lists,
        "iv": st.binary(min_size=12, max_size=12).map(b64url),
        "ciphertext": st.binary(min_size=1, max_size=256).map(b64url),
        "tag": st.binary(min_size=16, max_size=16).map(b64url),
    }
)
compact_jws = st.lists(st.binary(min_size=1, max_size=96).map(b64url), min_size=3, max_size=3).map(
    ".".join
)
envelopes = st.fixed_dictionaries({"statement": compact_jws, "jwe": st.none() | jwes})
