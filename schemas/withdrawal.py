"""A withdrawal: the issuing agency takes its request back."""

from schemas.common import Choice, StrictSchema, Text
from schemas.enums import WithdrawalReason


class WithdrawalSchema(StrictSchema):
    reason = Choice(WithdrawalReason, required=True)
    explanation = Text(max_length=2000)
