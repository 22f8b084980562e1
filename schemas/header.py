"""The members that a record and its statement share: who sends what, to whom, in reply to what.

The statement repeats them in clear so that the server can route and log a handoff without
decrypting it; the recipient then checks that both copies agree.
"""

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from schemas.common import (
    BoundedList,
    Choice,
    OrgId,
    SenderSchema,
    StrictSchema,
    UtcTimestamp,
    Uuid,
)
from schemas.enums import Kind

MAX_TO_ORGS = 8


class HeaderSchema(StrictSchema):
    handoff_id = Uuid(required=True)
    case_id = Uuid(required=True)
    kind = Choice(Kind, required=True)
    issued_at = UtcTimestamp(required=True)
    sender = fields.Nested(SenderSchema, required=True)
    to = BoundedList(OrgId(), min_length=1, max_length=MAX_TO_ORGS, unique=True, required=True)
    # Always present, null only for the case itself: every later handoff names the one it
    # answers, which threads the conversation.
    in_reply_to = Uuid(required=True, allow_none=True)

    @validates_schema
    def _check_in_reply_to(self, data: dict[str, Any], **kwargs: object) -> None:
        in_reply_to = data["in_reply_to"]
        if data["kind"] == Kind.CASE:
            if in_reply_to is not None:
                raise ValidationError("Must be null for kind case.", field_name="in_reply_to")
        elif in_reply_to is None:
            raise ValidationError("Required unless kind is case.", field_name="in_reply_to")
        elif in_reply_to == data["handoff_id"]:
            raise ValidationError("Must differ from handoff_id.", field_name="in_reply_to")
