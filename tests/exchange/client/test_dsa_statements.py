"""Final responses as DSA statements of reasons: the mapping per outcome, every statement
valid against the Transparency Database's schema, and the schema refusing what the
database refuses (issue 18)."""

import copy
from datetime import UTC, datetime

import pytest
from jsonschema import Draft202012Validator

from exchange.client.client import OpenedCase, OpenedHandoff
from exchange.client.dsa_statements import (
    HASH_BLOCK_TEXT,
    DecidedCase,
    NotExportableError,
    decided_case,
    statement_of_reasons,
)
from schemas.dsa import EEA_COUNTRY_CODES, EU_COUNTRY_CODES, schema, statement_errors
from tests.schemas import examples

CASE_ID = examples.CASE_ID
SUBMITTED = datetime(2026, 3, 3, 6, 30, tzinfo=UTC)
ANSWERED = datetime(2026, 3, 3, 7, 5, tzinfo=UTC)


def _validator():
    """The schema as the jsonschema library reads it, format checks on (not our helper)."""
    return Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _referral():
    """The deepfake case, sent as a police referral rather than an Art. 9 order."""
    body = examples.deepfake_case_body()
    body["request_type"] = "referral"
    return body


def _decided(body=None, response=None, issuer="metro-cyber-unit"):
    body = body or _referral()
    return DecidedCase(
        case_id=CASE_ID,
        issuer_org=issuer,
        submitted_at=SUBMITTED,
        body=body,
        items={item["item_id"]: item for item in body["items"]},
        response=response or examples.response_body(),
        answered_at=ANSWERED,
    )


def _ncii_response(**changes):
    response = {
        "outcome": "actioned",
        "actions_taken": [
            {
                "item_id": "img-1",
                "action": "hash_block",
                "at": "2026-03-04T10:00:00Z",
                "territorial_scope": None,
            },
            {
                "item_id": "img-1",
                "action": "remove",
                "at": "2026-03-04T09:59:00Z",
                "territorial_scope": None,
            },
        ],
        "automated_detection": True,
        "explanation": "Intimate image shared without consent, matched by its PDQ hash.",
    }
    response.update(changes)
    return response


def test_an_actioned_removal_order_maps_field_by_field():
    statement = statement_of_reasons(_decided())
    assert statement == {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_account": "DECISION_ACCOUNT_SUSPENDED",
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": (
            "Regulation (EU) 2022/2065 (Digital Services Act), Art. 9 (EU);"
            " Strafgesetzbuch (StGB), § 201a (DE)"
        ),
        "illegal_content_explanation": (
            "The provider found the content illegal under the legal ground given, on a referral"
            " by an authority from metro-cyber-unit, and restricted it."
        ),
        # The video is generative AI; the channel has no DSA content type.
        "content_type": [
            "CONTENT_TYPE_OTHER",
            "CONTENT_TYPE_SYNTHETIC_MEDIA",
            "CONTENT_TYPE_VIDEO",
        ],
        "content_type_other": "Channel",
        "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        "category_specification": ["KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE"],
        # The removal is worldwide (null): the whole EEA; the suspension's EU is inside it.
        "territorial_scope": list(EEA_COUNTRY_CODES),
        # The earliest first_seen_at of the restricted items (the channel's).
        "content_date": "2026-02-27",
        "application_date": "2026-03-03",
        "decision_facts": (
            "Restriction decided on a referral by an authority from metro-cyber-unit, received"
            " through Hotline Exchange on 2026-03-03 (case"
            f" {CASE_ID}). 2 of 2 reported item(s) restricted: remove, suspend account."
        ),
        "source_type": "SOURCE_TYPE_OTHER_NOTIFICATION",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": CASE_ID,
    }
    assert list(_validator().iter_errors(statement)) == []
    assert len(EEA_COUNTRY_CODES) == 30


def test_a_notice_is_article_16_unless_its_agency_is_a_trusted_flagger():
    decided = _decided(examples.ncii_case_body(), _ncii_response(), "safe-harbour-helpline")
    plain = statement_of_reasons(decided)
    trusted = statement_of_reasons(decided, trusted_flaggers=["safe-harbour-helpline"])
    assert (plain["source_type"], trusted["source_type"]) == (
        "SOURCE_ARTICLE_16",
        "SOURCE_TRUSTED_FLAGGER",
    )
    # The notifier is named only where strictly necessary (Art. 17(3)(b) DSA): never here.
    assert "source_identity" not in plain
    # The response's own explanation is the one given; hash blocking is "other", said why.
    assert plain["illegal_content_explanation"] == _ncii_response()["explanation"]
    assert plain["decision_visibility"] == [
        "DECISION_VISIBILITY_CONTENT_REMOVED",
        "DECISION_VISIBILITY_OTHER",
    ]
    assert plain["decision_visibility_other"] == HASH_BLOCK_TEXT
    assert plain["automated_detection"] == "Yes"
    assert (plain["category"], plain["category_specification"]) == (
        "STATEMENT_CATEGORY_CYBER_VIOLENCE",
        ["KEYWORD_NON_CONSENSUAL_IMAGE_SHARING"],
    )
    # No first_seen_at on a hashes-only item: the submission date bounds the posting.
    assert plain["content_date"] == "2026-03-03"
    assert plain["application_date"] == "2026-03-04"
    for statement in (plain, trusted):
        assert list(_validator().iter_errors(statement)) == []


def test_a_minor_turns_intimate_images_into_child_sexual_abuse_material():
    body = examples.ncii_case_body()
    body["minor_involved"] = "yes"
    statement = statement_of_reasons(_decided(body, _ncii_response()))
    assert (statement["category"], statement["category_specification"]) == (
        "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
        ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
    )
    assert list(_validator().iter_errors(statement)) == []


def test_sextortion_names_its_keyword():
    body = _referral()
    body["category"] = "sextortion"
    statement = statement_of_reasons(_decided(body))
    assert statement["category_specification"] == ["KEYWORD_OTHER"]
    assert statement["category_specification_other"] == "Sextortion"
    assert list(_validator().iter_errors(statement)) == []


def test_a_partial_answer_covers_the_restricted_items_where_they_are_restricted():
    response = {
        "outcome": "partially_actioned",
        "actions_taken": [
            {
                "item_id": "video-1",
                "action": "geo_restrict",
                "at": "2026-03-05T12:00:00Z",
                "territorial_scope": ["DE", "AT", "KR"],
            },
            {
                "item_id": "video-1",
                "action": "preserve",
                "at": "2026-03-05T11:00:00Z",
                "territorial_scope": None,
            },
        ],
        "reason_code": "not_illegal_in_jurisdiction",
        "explanation": "The channel is lawful outside Germany and Austria.",
        "automated_detection": False,
        "item_outcomes": [
            {"item_id": "video-1", "outcome": "actioned"},
            {
                "item_id": "channel-1",
                "outcome": "not_actioned",
                "reason_code": "not_illegal_in_jurisdiction",
            },
        ],
    }
    statement = statement_of_reasons(_decided(response=response))
    assert statement["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DISABLED"]
    assert "decision_account" not in statement
    assert statement["territorial_scope"] == ["AT", "DE"]
    assert statement["content_type"] == ["CONTENT_TYPE_SYNTHETIC_MEDIA", "CONTENT_TYPE_VIDEO"]
    assert statement["content_date"] == "2026-03-02"
    # Preservation restricts nothing: not in the dates, not in the facts.
    assert statement["application_date"] == "2026-03-05"
    assert statement["decision_facts"].endswith("1 of 2 reported item(s) restricted: geo restrict.")
    assert list(_validator().iter_errors(statement)) == []


def test_union_scope_is_the_member_states():
    response = examples.response_body()
    response["actions_taken"] = response["actions_taken"][1:]  # the EU-wide suspension
    statement = statement_of_reasons(_decided(response=response))
    assert statement["territorial_scope"] == sorted(EU_COUNTRY_CODES)
    assert len(statement["territorial_scope"]) == 27
    assert "decision_visibility" not in statement
    assert list(_validator().iter_errors(statement)) == []


@pytest.mark.parametrize(
    ("outcome", "reason_code"),
    [
        ("not_actioned", "not_illegal_in_jurisdiction"),
        ("unable_to_locate", "content_not_found"),
        ("already_unavailable", "already_removed"),
        ("rejected_invalid", "legal_basis_invalid"),
        ("referred_to_regulator", "referred_to_regulator"),
    ],
)
def test_no_restriction_no_statement(outcome, reason_code):
    response = {
        "outcome": outcome,
        "actions_taken": [],
        "reason_code": reason_code,
        "explanation": "See the reason code.",
        "automated_detection": False,
    }
    with pytest.raises(NotExportableError) as refused:
        statement_of_reasons(_decided(response=response))
    assert str(refused.value) == (
        f"outcome {outcome}: nothing was restricted, and a statement of reasons records a"
        " restriction (Art. 17 DSA)"
    )


def test_an_article_9_order_gives_no_statement():
    with pytest.raises(NotExportableError) as refused:
        statement_of_reasons(_decided(examples.deepfake_case_body()))
    assert str(refused.value) == (
        "an order under Art. 9 DSA: Art. 17(5) DSA leaves orders out of statements of reasons"
    )


def test_preservation_alone_is_no_restriction():
    response = _ncii_response()
    for action in response["actions_taken"]:
        action["action"] = "preserve"
    with pytest.raises(NotExportableError, match=r"^no restriction among the actions taken "):
        statement_of_reasons(_decided(examples.ncii_case_body(), response))


def test_a_case_under_korean_law_only_is_refused_with_its_reason():
    body = _referral()
    body["legal_basis"] = [
        {
            "jurisdiction": "KR",
            "instrument": "Act on Special Cases Concerning the Punishment of Sexual Crimes",
            "article": "Art. 14-2",
        }
    ]
    with pytest.raises(NotExportableError) as refused:
        statement_of_reasons(_decided(body))
    assert str(refused.value) == (
        "it rests on no EU or EEA law (KR): illegal content in the DSA's sense is illegal under"
        " Union or Member State law"
    )


def test_a_restriction_outside_the_eea_only_is_refused():
    response = examples.response_body()
    for action in response["actions_taken"]:
        action["territorial_scope"] = ["KR", "US"]
    with pytest.raises(NotExportableError) as refused:
        statement_of_reasons(_decided(response=response))
    assert str(refused.value) == "its restrictions apply outside the EEA only (KR, US)"


def test_long_texts_are_cut_to_the_databases_limits():
    response = examples.response_body()
    response["explanation"] = "x" * 4000
    statement = statement_of_reasons(_decided(response=response))
    assert len(statement["illegal_content_explanation"]) == 2000
    assert statement["illegal_content_explanation"].endswith("x…")
    assert list(_validator().iter_errors(statement)) == []


def _handoff(kind, body, received_at):
    record = None if body is None else {"body": body}
    return OpenedHandoff(kind, kind, {}, None, record, None, 0, received_at)


def test_the_latest_final_response_decides_and_interim_ones_do_not():
    case = {
        "case_id": CASE_ID,
        "issuer_org": "metro-cyber-unit",
        "submitted_at": "2026-03-03T06:30:00Z",
    }
    body = _referral()
    interim = {"outcome": "under_legal_review", "actions_taken": [], "automated_detection": False}
    pending = {**interim, "outcome": "not_actioned", "reason_code": "pending_legal_review"}
    first = [
        _handoff("case", body, "2026-03-03T06:30:00Z"),
        _handoff("receipt", None, "2026-03-03T06:31:00Z"),
        _handoff("response", interim, "2026-03-03T06:40:00Z"),
        _handoff("response", pending, "2026-03-03T06:45:00Z"),
    ]
    with pytest.raises(NotExportableError, match=r"^no final response yet"):
        decided_case(OpenedCase(case, first))
    supplement = examples.supplement_body()
    final = examples.response_body()
    final["actions_taken"].append(
        {
            "item_id": "video-2",
            "action": "remove",
            "at": "2026-03-03T07:01:00Z",
            "territorial_scope": None,
        }
    )
    decided = decided_case(
        OpenedCase(
            case,
            [
                *first,
                _handoff("supplement", supplement, "2026-03-03T06:50:00Z"),
                _handoff("response", final, "2026-03-03T07:05:00Z"),
            ],
        )
    )
    assert decided.response == final
    assert decided.answered_at == ANSWERED
    assert sorted(decided.items) == ["channel-1", "video-1", "video-2"]
    statement = statement_of_reasons(decided)
    assert statement["decision_facts"].endswith(
        "3 of 3 reported item(s) restricted: remove, suspend account."
    )


# --- the schema bites: what the database refuses, it refuses --------------------------------


def _valid():
    return statement_of_reasons(_decided())


def _messages(statement):
    return [error.message for error in _validator().iter_errors(statement)]


def test_a_missing_required_field_is_refused():
    statement = _valid()
    del statement["puid"]
    assert _messages(statement) == ["'puid' is a required property"]
    assert statement_errors(statement) == ["(statement): 'puid' is a required property"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("puid", "case 1", "'case 1' does not match '^[A-Za-z0-9_-]+$'"),
        ("content_date", "2026-02-30", "'2026-02-30' is not a 'date'"),
        ("content_date", "1999-12-31", "does not match"),
        ("application_date", "2019-12-31", "does not match"),
        ("application_date", "2026-3-3", "does not match"),
        ("category", "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT", "is not one of"),
        ("territorial_scope", ["DE", "KR"], "'KR' is not one of"),
        ("automated_detection", True, "True is not one of ['Yes', 'No']"),
        ("automated_decision", "AUTOMATED_DECISION_NO", "is not one of"),
        ("content_type", [], "[] should be non-empty"),
        ("decision_facts", "", "'' should be non-empty"),
        ("illegal_content_legal_ground", "x" * 501, "is too long"),
        ("decision_visibilty", ["DECISION_VISIBILITY_CONTENT_REMOVED"], "Unevaluated properties"),
    ],
)
def test_a_wrong_value_is_refused(field, value, message):
    statement = _valid()
    statement[field] = value
    messages = _messages(statement)
    assert messages, field
    assert any(message in each for each in messages), messages


def test_a_statement_without_any_restriction_is_refused():
    statement = _valid()
    del statement["decision_visibility"], statement["decision_account"]
    assert _messages(statement) == [f"{statement!r} is not valid under any of the given schemas"]
    statement["decision_visibility"] = []
    assert len(_messages(statement)) == 1


def test_conditional_fields_are_required_when_their_condition_holds():
    statement = _valid()
    del statement["illegal_content_explanation"]
    assert _messages(statement) == ["'illegal_content_explanation' is a required property"]
    statement = _valid()
    del statement["content_type_other"]
    assert _messages(statement) == ["'content_type_other' is a required property"]
    statement = _valid()
    statement["decision_visibility"] = ["DECISION_VISIBILITY_OTHER"]
    assert _messages(statement) == ["'decision_visibility_other' is a required property"]
    statement = _valid()
    statement["decision_monetary"] = "DECISION_MONETARY_OTHER"
    assert _messages(statement) == ["'decision_monetary_other' is a required property"]


def test_the_databases_own_example_payload_is_valid():
    """The payload of the database's API documentation (api-documentation-two.md), with
    its category, which API v2 retired, replaced by a v2 one."""
    payload = {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"],
        "decision_monetary": "DECISION_MONETARY_TERMINATION",
        "end_date_monetary_restriction": "2023-08-08",
        "decision_provision": "DECISION_PROVISION_TOTAL_SUSPENSION",
        "decision_account": "DECISION_ACCOUNT_SUSPENDED",
        "account_type": "ACCOUNT_TYPE_BUSINESS",
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "decision_ground_reference_url": "https://www.anurl.com",
        "content_type": [
            "CONTENT_TYPE_VIDEO",
            "CONTENT_TYPE_AUDIO",
            "CONTENT_TYPE_SYNTHETIC_MEDIA",
        ],
        "category": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        "illegal_content_legal_ground": "illegal content legal grounds",
        "illegal_content_explanation": "illegal content explanation",
        "incompatible_content_ground": "incompatible content grounds",
        "incompatible_content_explanation": "incompatible content explanation",
        "incompatible_content_illegal": "Yes",
        "territorial_scope": ["PT", "ES", "DE"],
        "content_language": "EN",
        "content_date": "2023-08-08",
        "application_date": "2023-08-08",
        "decision_facts": "facts about the decision",
        "source_type": "SOURCE_TRUSTED_FLAGGER",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
        "puid": "TK421",
    }
    assert _messages(payload) == []
    retired = copy.deepcopy(payload)
    retired["category"] = "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"
    assert len(_messages(retired)) == 1


def test_the_exporters_country_lists_are_the_schemas():
    accepted = schema()["properties"]["territorial_scope"]["items"]["enum"]
    assert sorted(accepted) == list(EEA_COUNTRY_CODES)
    assert set(EEA_COUNTRY_CODES) - set(EU_COUNTRY_CODES) == {"IS", "LI", "NO"}
