"""Who handles cases in each kind of organisation: whose keys a sealed record must reach.

Written once for both sides: the server refuses a record that misses one of these keys or
reaches anyone else's (`exchange.services.handoffs`), and the client computes the same set
from its replica of the log's directory (`exchange.auditor.directory.Directory.recipients`).
"""

from schemas.enums import OrgKind, Role

CASE_HANDLING_ROLES: dict[str, tuple[str, ...]] = {
    OrgKind.AGENCY: (Role.AGENCY_OFFICER,),
    OrgKind.PLATFORM: (Role.PLATFORM_OFFICIAL, Role.PLATFORM_LEAD),
    OrgKind.AUDITOR: (),
}
# Each role belongs to one kind of organisation only, so the role alone decides.
HANDLER_ROLES = frozenset(role for roles in CASE_HANDLING_ROLES.values() for role in roles)
