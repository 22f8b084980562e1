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
from schemas.enums import Action, Outcome, ReasonCode

MAX_ACTIONS_TAKEN = MAX_ITEMS
# Outcomes that report measures taken; every other outcome reports none.
ACTING_OUTCOMES: frozenset[str] = frozenset({Outcome.ACTIONED, Outcome.PARTIALLY_ACTIONED})


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

    @validates_schema
    def _check_outcome(self, data: dict[str, Any], **kwargs: object) -> None:
        outcome = data["outcome"]
        errors: dict[str, list[str]] = {}
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
        if outcome != Outcome.ACTIONED:
            if data.get("reason_code") is None:
                errors["reason_code"] = ["Required unless outcome is actioned."]
            if "explanation" not in data:
                errors["explanation"] = ["Required unless outcome is actioned."]
        if errors:
            raise ValidationError(errors)
