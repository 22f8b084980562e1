"""A platform's final answers, handed over as DSA statements of reasons.

A platform that restricts content must send a statement of reasons to the DSA
Transparency Database (Art. 17 and 24(5) DSA). What it told an agency through the
exchange already says most of it: this module maps one decided case (its decrypted
body, its items and the decrypted final response) to one statement of reasons in the
database's format (`schemas/dsa/`), and refuses with a reason what the database does
not take. The mapping table and what is not mapped: docs/dsa-export.md.

Pure: no network, no clock; `decided_case` reads a case the client already opened and
verified, `statement_of_reasons` is a function of it.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from exchange.client.client import OpenedCase
from schemas.common import parse_utc
from schemas.dsa import EEA_COUNTRY_CODES, EU_COUNTRY_CODES, statement_errors
from schemas.enums import (
    Action,
    Annotation,
    Category,
    ContentType,
    Kind,
    MinorInvolved,
    RequestType,
)
from schemas.response import ACTING_OUTCOMES, is_final


class NotExportableError(Exception):
    """This case gives no statement of reasons; the message says why, in one line."""


# Our categories -> (DSA category, DSA keyword or None). API v2 categories: the
# "(excluding content depicting minors)" keywords of cyber violence are replaced by
# MINOR_CATEGORY when the case says a minor is involved.
CATEGORY: Mapping[str, tuple[str, str | None]] = {
    Category.CSAM: (
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    ),
    Category.NCII: ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"),
    Category.SEXUAL_DEEPFAKE: (
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    ),
    Category.SEXTORTION: ("STATEMENT_CATEGORY_CYBER_VIOLENCE", "KEYWORD_OTHER"),
    Category.GROOMING: (
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
    ),
    Category.ILLEGAL_FILMING: (
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
    ),
    Category.DRUGS: (
        "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
        "KEYWORD_PROHIBITED_PRODUCTS",
    ),
    Category.FRAUD: ("STATEMENT_CATEGORY_SCAMS_AND_FRAUD", None),
    Category.TERRORISM: (
        "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
        "KEYWORD_TERRORIST_CONTENT",
    ),
    Category.OTHER: ("STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", None),
}
# A sexual image of a minor is child sexual abuse material, whatever the agency's category.
MINOR_CATEGORY: Mapping[str, tuple[str, str]] = {
    Category.NCII: (
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    ),
    Category.ILLEGAL_FILMING: (
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    ),
    Category.SEXUAL_DEEPFAKE: (
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
    ),
}
# KEYWORD_OTHER needs its own words.
KEYWORD_OTHER_TEXT: Mapping[str, str] = {Category.SEXTORTION: "Sextortion"}

# Actions that restrict the visibility of the content. Preservation and disclosure
# restrict nothing: they are not in a statement of reasons.
VISIBILITY: Mapping[str, str] = {
    Action.REMOVE: "DECISION_VISIBILITY_CONTENT_REMOVED",
    Action.DISABLE_ACCESS: "DECISION_VISIBILITY_CONTENT_DISABLED",
    # Access disabled where territorial_scope says.
    Action.GEO_RESTRICT: "DECISION_VISIBILITY_CONTENT_DISABLED",
    Action.LABEL: "DECISION_VISIBILITY_CONTENT_LABELLED",
    Action.HASH_BLOCK: "DECISION_VISIBILITY_OTHER",
}
HASH_BLOCK_TEXT = "Blocked by hash matching: copies of the content cannot be uploaded again"
ACCOUNT: Mapping[str, str] = {Action.SUSPEND_ACCOUNT: "DECISION_ACCOUNT_SUSPENDED"}
RESTRICTING: frozenset[str] = frozenset({*VISIBILITY, *ACCOUNT})

CONTENT_TYPE: Mapping[str, str] = {
    ContentType.IMAGE: "CONTENT_TYPE_IMAGE",
    ContentType.VIDEO: "CONTENT_TYPE_VIDEO",
    ContentType.AUDIO: "CONTENT_TYPE_AUDIO",
    ContentType.TEXT: "CONTENT_TYPE_TEXT",
    ContentType.LIVE_STREAM: "CONTENT_TYPE_VIDEO",
}
# Our other content types have no DSA type: CONTENT_TYPE_OTHER, named in content_type_other.
OTHER_CONTENT_NAMES: Mapping[str, str] = {
    ContentType.ACCOUNT: "Account",
    ContentType.CHANNEL: "Channel",
    ContentType.LINK: "Link",
    ContentType.OTHER: "Other content",
}

# Removal orders give no statement (Art. 17(5) DSA), so they need no name here.
REQUEST_NAMES: Mapping[str, str] = {
    RequestType.NOTICE: "a notice of illegal content",
    RequestType.REFERRAL: "a referral by an authority",
    RequestType.PRESERVATION_REQUEST: "a preservation request",
    RequestType.INFO_REQUEST: "a request for information",
}

# Character limits of the database (`max:N`).
MAX_LEGAL_GROUND, MAX_EXPLANATION, MAX_FACTS = 500, 2000, 5000
_UNION = "EU"


@dataclass(frozen=True)
class DecidedCase:
    """A case and its final response, decrypted and verified by the client."""

    case_id: str
    issuer_org: str
    submitted_at: datetime
    body: Mapping[str, Any]
    # The items of the case and of its supplements, by item_id.
    items: Mapping[str, Mapping[str, Any]]
    response: Mapping[str, Any]
    # When the exchange received the final response.
    answered_at: datetime


def decided_case(opened: OpenedCase) -> DecidedCase:
    """The case and its latest final response; NotExportableError when it has none yet."""
    case = opened.case
    case_body: Mapping[str, Any] | None = None
    items: dict[str, Mapping[str, Any]] = {}
    final: tuple[Mapping[str, Any], str] | None = None
    for handoff in opened.timeline:
        if handoff.record is None:
            continue
        body = handoff.record["body"]
        if handoff.kind == Kind.CASE:
            case_body = body
        if handoff.kind in (Kind.CASE, Kind.SUPPLEMENT):
            items.update((item["item_id"], item) for item in body.get("items") or [])
        if handoff.kind == Kind.RESPONSE and is_final(body["outcome"], body.get("reason_code")):
            final = body, handoff.received_at
    if case_body is None:
        raise NotExportableError("its case record could not be read")
    if final is None:
        raise NotExportableError("no final response yet (interim answers are not decisions)")
    return DecidedCase(
        case_id=case["case_id"],
        issuer_org=case["issuer_org"],
        submitted_at=parse_utc(case["submitted_at"]),
        body=case_body,
        items=items,
        response=final[0],
        answered_at=parse_utc(final[1]),
    )


def statement_of_reasons(case: DecidedCase, trusted_flaggers: Iterable[str] = ()) -> dict[str, Any]:
    """The statement of reasons of a decided case, valid against the database's schema.

    `trusted_flaggers`: the agencies (organisation ids) the Digital Services Coordinator
    awarded trusted-flagger status (Art. 22 DSA): their notices are SOURCE_TRUSTED_FLAGGER.
    """
    response, body = case.response, case.body
    if body["request_type"] == RequestType.REMOVAL_ORDER:
        raise NotExportableError(
            "an order under Art. 9 DSA: Art. 17(5) DSA leaves orders out of statements of reasons"
        )
    outcome = response["outcome"]
    if outcome not in ACTING_OUTCOMES:
        raise NotExportableError(
            f"outcome {outcome}: nothing was restricted, and a statement of reasons"
            " records a restriction (Art. 17 DSA)"
        )
    actions = [a for a in response["actions_taken"] if a["action"] in RESTRICTING]
    if not actions:
        taken = ", ".join(sorted({a["action"] for a in response["actions_taken"]}))
        raise NotExportableError(f"no restriction among the actions taken ({taken})")
    bases = [b for b in body["legal_basis"] if _in_eea(b["jurisdiction"])]
    if not bases:
        laws = ", ".join(sorted({b["jurisdiction"] for b in body["legal_basis"]}))
        raise NotExportableError(
            f"it rests on no EU or EEA law ({laws}): illegal content in the DSA's sense is"
            " illegal under Union or Member State law"
        )
    scope = _territorial_scope(actions)
    if not scope:
        places = ", ".join(sorted({c for a in actions for c in a["territorial_scope"] or ()}))
        raise NotExportableError(f"its restrictions apply outside the EEA only ({places})")
    items = [_item(case, item_id) for item_id in dict.fromkeys(a["item_id"] for a in actions)]
    statement: dict[str, Any] = {
        **_decisions(actions),
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": _clip(
            "; ".join(f"{b['instrument']}, {b['article']} ({b['jurisdiction']})" for b in bases),
            MAX_LEGAL_GROUND,
        ),
        "illegal_content_explanation": _clip(_explanation(case), MAX_EXPLANATION),
        **_content_types(items),
        **_category(body),
        "territorial_scope": scope,
        "content_date": _content_date(case, items),
        "application_date": min(parse_utc(a["at"]) for a in actions).date().isoformat(),
        "decision_facts": _clip(_facts(case, actions, items), MAX_FACTS),
        **_source(case, frozenset(trusted_flaggers)),
        "automated_detection": "Yes" if response["automated_detection"] else "No",
        # An official of the platform decided and signed the response.
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": case.case_id,
    }
    problems = statement_errors(statement)
    if problems:
        raise NotExportableError(
            f"the statement does not meet the database's schema: {problems[0]}"
        )
    return statement


def _in_eea(jurisdiction: str) -> bool:
    return jurisdiction == _UNION or jurisdiction in EEA_COUNTRY_CODES


def _territorial_scope(actions: Sequence[Mapping[str, Any]]) -> list[str]:
    """Where the restrictions apply, as the EEA codes the database takes: worldwide (null)
    is the whole EEA, EU the Union's members; codes outside the EEA are left out."""
    codes: set[str] = set()
    for action in actions:
        scope = action["territorial_scope"]
        if scope is None:
            codes.update(EEA_COUNTRY_CODES)
            continue
        for code in scope:
            if code == _UNION:
                codes.update(EU_COUNTRY_CODES)
            elif code in EEA_COUNTRY_CODES:
                codes.add(code)
    return sorted(codes)


def _item(case: DecidedCase, item_id: str) -> Mapping[str, Any]:
    try:
        return case.items[item_id]
    except KeyError:
        raise NotExportableError(
            f"its response acts on item {item_id}, which no record holds"
        ) from None


def _decisions(actions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    taken = {a["action"] for a in actions}
    decisions: dict[str, Any] = {}
    visibility = sorted({VISIBILITY[a] for a in taken if a in VISIBILITY})
    if visibility:
        decisions["decision_visibility"] = visibility
    if Action.HASH_BLOCK in taken:
        decisions["decision_visibility_other"] = HASH_BLOCK_TEXT
    if Action.SUSPEND_ACCOUNT in taken:
        decisions["decision_account"] = ACCOUNT[Action.SUSPEND_ACCOUNT]
    return decisions


def _content_types(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    types: set[str] = set()
    others: list[str] = []
    for item in items:
        kind = item["content_type"]
        if kind in CONTENT_TYPE:
            types.add(CONTENT_TYPE[kind])
        elif OTHER_CONTENT_NAMES[kind] not in others:
            others.append(OTHER_CONTENT_NAMES[kind])
        if Annotation.GENERATIVE_AI in item["annotations"]:
            types.add("CONTENT_TYPE_SYNTHETIC_MEDIA")
    found: dict[str, Any] = {}
    if others:
        types.add("CONTENT_TYPE_OTHER")
        found["content_type_other"] = ", ".join(others)
    return {"content_type": sorted(types), **found}


def _category(body: Mapping[str, Any]) -> dict[str, Any]:
    ours = body["category"]
    category, keyword = CATEGORY[ours]
    if body["minor_involved"] == MinorInvolved.YES and ours in MINOR_CATEGORY:
        category, keyword = MINOR_CATEGORY[ours]
    found: dict[str, Any] = {"category": category}
    if keyword is not None:
        found["category_specification"] = [keyword]
    if keyword == "KEYWORD_OTHER":
        found["category_specification_other"] = KEYWORD_OTHER_TEXT[ours]
    return found


def _explanation(case: DecidedCase) -> str:
    explanation = case.response.get("explanation")
    if explanation:
        return str(explanation)
    request = REQUEST_NAMES[case.body["request_type"]]
    return (
        f"The provider found the content illegal under the legal ground given, on {request}"
        f" from {case.issuer_org}, and restricted it."
    )


def _content_date(case: DecidedCase, items: Sequence[Mapping[str, Any]]) -> str:
    """When the content was first seen, the closest to its posting date the case knows;
    else the case's submission, the latest the content can have been posted."""
    seen = [parse_utc(item["first_seen_at"]) for item in items if item.get("first_seen_at")]
    return min(seen, default=case.submitted_at).date().isoformat()


def _facts(
    case: DecidedCase, actions: Sequence[Mapping[str, Any]], items: Sequence[Mapping[str, Any]]
) -> str:
    request = REQUEST_NAMES[case.body["request_type"]]
    taken = ", ".join(sorted({a["action"].replace("_", " ") for a in actions}))
    reported = len(case.items)
    return (
        f"Restriction decided on {request} from {case.issuer_org}, received through Hotline"
        f" Exchange on {case.submitted_at.date().isoformat()} (case {case.case_id})."
        f" {len(items)} of {reported} reported item(s) restricted: {taken}."
    )


def _source(case: DecidedCase, trusted_flaggers: frozenset[str]) -> dict[str, Any]:
    """The source type only: the notifier's identity belongs in a statement only where it is
    strictly necessary to show the illegality (Art. 17(3)(b) DSA), which the case cannot say."""
    if case.body["request_type"] == RequestType.NOTICE:
        trusted = case.issuer_org in trusted_flaggers
        return {"source_type": "SOURCE_TRUSTED_FLAGGER" if trusted else "SOURCE_ARTICLE_16"}
    # A referral or another request of an authority that is not an Art. 9 order.
    return {"source_type": "SOURCE_TYPE_OTHER_NOTIFICATION"}


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters; a cut text ends with an ellipsis, so that it shows."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "CATEGORY",
    "DecidedCase",
    "NotExportableError",
    "decided_case",
    "statement_of_reasons",
]
