"""A supplement: either side adds text, items or attachments to an open case; the agency
also records here what it verified of a reported action, item by item."""

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from schemas.case_body import MAX_ITEMS, AttachmentList, ItemList
from schemas.common import Bool, BoundedList, ItemId, StrictSchema, Text, UtcTimestamp


class VerificationResultSchema(StrictSchema):
    """The agency checked an item at `checked_at`: is it still reachable?"""

    item_id = ItemId(required=True)
    checked_at = UtcTimestamp(required=True)
    reachable = Bool(required=True)


class SupplementSchema(StrictSchema):
    text = Text(max_length=10_000)
    items = ItemList(min_length=0)
    attachments = AttachmentList()
    verification = BoundedList(
        fields.Nested(VerificationResultSchema),
        min_length=1,
        max_length=MAX_ITEMS,
        unique_key="item_id",
    )

    @validates_schema
    def _check_not_empty(self, data: dict[str, Any], **kwargs: object) -> None:
        if not (
            data.get("text")
            or data.get("items")
            or data.get("attachments")
            or data.get("verification")
        ):
            raise ValidationError("A supplement needs text, items, attachments or verification.")
