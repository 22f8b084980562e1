"""A response: what the platform did about the case, and if not everything, why not.

Shaped after the DSA Transparency Database statement of reasons: an outcome, the measures
taken per item with their territorial scope, a reason code, and whether detection was
automated.
"""

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from schemas.case_body import MAX_ITEMS
from schemas.common import (
    Bool,
    BoundedList,
    Choice,
    ItemId,
    StrictSchema,
    TerritorialScope,
    Text,
    UtcTimestamp,
)
from schemas.enums import INTERIM_OUTCOMES, Action, ItemOutcome, Outcome, ReasonCode

MAX_ACTIONS_TAKEN = MAX_ITEMS
# Outcomes that report measures taken; every other outcome reports none.
ACTING_OUTCOMES: frozenset[str] = frozenset({Outcome.ACTIONED, Outcome.PARTIALLY_ACTIONED})


def is_final(outcome: str, reason_code: str | None) -> bool:
    """Whether a response is a final answer, the only kind that meets the action deadline.

    `not_actioned` for `pending_legal_review` says "not yet", whatever its outcome claims:
    it is interim, like `under_legal_review`. (`partially_actioned` for that reason is
    final: something was done, and the rest may follow in a later response.)
    """
    if outcome in INTERIM_OUTCOMES:
        return False
    return not (outcome == Outcome.NOT_ACTIONED and reason_code == ReasonCode.PENDING_LEGAL_REVIEW)


class ItemOutcomeSchema(StrictSchema):
    """One item's fate: which locator was removed, which was not, and why not."""

    item_id = ItemId(required=True)
    outcome = Choice(ItemOutcome, required=True)
    reason_code = Choice(ReasonCode, allow_none=True)

    @validates_schema
    def _check_reason(self, data: dict[str, Any], **kwargs: object) -> None:
        if data["outcome"] != ItemOutcome.ACTIONED and data.get("reason_code") is None:
            raise ValidationError("Required unless outcome is actioned.", field_name="reason_code")
        if data["outcome"] == ItemOutcome.ACTIONED and data.get("reason_code") is not None:
            raise ValidationError("Only for items not actioned.", field_name="reason_code")


def check_item_outcomes(outcome: str, items: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a response's per-item outcomes given its overall outcome."""
    if outcome in INTERIM_OUTCOMES:
        return ["Only in a final response."] if items else []
    ids = [item["item_id"] for item in items]
    if len(set(ids)) != len(ids):
        return ["Each item at most once."]
    acted = sum(item["outcome"] == ItemOutcome.ACTIONED for item in items)
    if not items:
        return []
    if outcome == Outcome.ACTIONED and acted != len(items):
        return ["Every item must be actioned when the outcome is actioned."]
    if outcome == Outcome.PARTIALLY_ACTIONED and not 0 < acted < len(items):
        return ["Some items, not all, must be actioned when the outcome is partially_actioned."]
    if outcome not in ACTING_OUTCOMES and acted:
        return ["No item can be actioned unless the outcome is actioned or partially_actioned."]
    return []


class ActionTakenSchema(StrictSchema):
    item_id = ItemId(required=True)
    action = Choice(Action, required=True)
    at = UtcTimestamp(required=True)
    # null means worldwide: an explicit value, so that "everywhere" is never implied by
    # an omission.
    territorial_scope = TerritorialScope(required=True, allow_none=True)


class PreservationSchema(StrictSchema):
    preserved = Bool(required=True)
    until = UtcTimestamp()

    @validates_schema
    def _check_until(self, data: dict[str, Any], **kwargs: object) -> None:
        if data["preserved"] and "until" not in data:
            raise ValidationError("Required when preserved is true.", field_name="until")
        if not data["preserved"] and "until" in data:
            raise ValidationError("Only allowed when preserved is true.", field_name="until")


class ResponseSchema(StrictSchema):
    outcome = Choice(Outcome, required=True)
    actions_taken = BoundedList(
        fields.Nested(ActionTakenSchema), max_length=MAX_ACTIONS_TAKEN, required=True
    )
    reason_code = Choice(ReasonCode, allow_none=True)
    explanation = Text(max_length=5000)
    automated_detection = Bool(required=True)
    preservation = fields.Nested(PreservationSchema)
    notes = Text(max_length=5000)
    item_outcomes = BoundedList(
        fields.Nested(ItemOutcomeSchema), min_length=1, max_length=MAX_ITEMS
    )

    @validates_schema
    def _check_outcome(self, data: dict[str, Any], **kwargs: object) -> None:
        outcome = data["outcome"]
        errors: dict[str, list[str]] = {}
        item_errors = check_item_outcomes(outcome, data.get("item_outcomes", []))
        if item_errors:
            errors["item_outcomes"] = item_errors
        if outcome in ACTING_OUTCOMES and not data["actions_taken"]:
            errors["actions_taken"] = [
                "Must not be empty when outcome is actioned or partially_actioned."
            ]
        if outcome not in ACTING_OUTCOMES and data["actions_taken"]:
            errors["actions_taken"] = [
                "Must be empty unless outcome is actioned or partially_actioned."
            ]
        # Anything short of full compliance must say why: the agency decides on that basis
        # whether to follow up, escalate to the regulator or seek redress.
        if outcome != Outcome.ACTIONED and outcome not in INTERIM_OUTCOMES:
            if data.get("reason_code") is None:
                errors["reason_code"] = ["Required unless outcome is actioned."]
            if "explanation" not in data:
                errors["explanation"] = ["Required unless outcome is actioned."]
        if errors:
            raise ValidationError(errors)
