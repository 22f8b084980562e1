"""A closure: the case is finished, for the reason given."""

from schemas.common import Choice, StrictSchema, Text
from schemas.enums import ClosureReason


class ClosureSchema(StrictSchema):
    reason = Choice(ClosureReason, required=True)
    notes = Text(max_length=2000)
