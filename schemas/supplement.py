"""A supplement: the agency adds text, items or attachments to an open case."""

from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.case_body import AttachmentList, ItemList
from schemas.common import StrictSchema, Text


class SupplementSchema(StrictSchema):
    text = Text(max_length=10_000)
    items = ItemList(min_length=0)
    attachments = AttachmentList()

    @validates_schema
    def _check_not_empty(self, data: dict[str, Any], **kwargs: object) -> None:
        if not (data.get("text") or data.get("items") or data.get("attachments")):
            raise ValidationError("A supplement needs text, items or attachments.")
