"""An assignment: a platform lead hands a case to one of the platform's officials.

Assignments are signed only (no record): this schema is the statement's whole meta.
"""

from schemas.common import OfficialId, StrictSchema


class AssignmentSchema(StrictSchema):
    assignee = OfficialId(required=True)
