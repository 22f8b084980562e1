"""A question: either side asks the other for clarification, optionally about some items."""

from schemas.case_body import MAX_ITEMS
from schemas.common import BoundedList, ItemId, StrictSchema, Text, UtcTimestamp

MAX_QUESTIONS = 20


class QuestionSchema(StrictSchema):
    questions = BoundedList(
        Text(max_length=2000), min_length=1, max_length=MAX_QUESTIONS, required=True
    )
    item_ids = BoundedList(ItemId(), max_length=MAX_ITEMS, unique=True)
    respond_by = UtcTimestamp()
