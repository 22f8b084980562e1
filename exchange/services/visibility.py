"""Who may see which case. A case the caller may not see does not exist for them (404)."""

from sqlalchemy import ColumnElement, and_, false, true
from sqlalchemy.orm import Session

from exchange.errors import NotFoundError
from exchange.protocol.workflow import Side
from exchange.services.caller import Caller
from exchange.storage.models import Case
from schemas.enums import Role


def case_filter(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition for the cases `caller` may see."""
    if caller.role == Role.AUDITOR:
        return true()
    if caller.role == Role.AGENCY_OFFICER:
        return Case.issuer_org == caller.org_id
    if caller.role == Role.PLATFORM_LEAD:
        return Case.platform_org == caller.org_id
    if caller.role == Role.PLATFORM_OFFICIAL:
        return and_(Case.platform_org == caller.org_id, Case.assignee_id == caller.official_id)
    return false()


def can_see(caller: Caller, case: Case) -> bool:
    if caller.role == Role.AUDITOR:
        return True
    if caller.role == Role.AGENCY_OFFICER:
        return case.issuer_org == caller.org_id
    if caller.role == Role.PLATFORM_LEAD:
        return case.platform_org == caller.org_id
    if caller.role == Role.PLATFORM_OFFICIAL:
        return case.platform_org == caller.org_id and case.assignee_id == caller.official_id
    return False


def visible_case(session: Session, caller: Caller, case_id: str) -> Case:
    """The case, or the very same 404 whether it does not exist or is not the caller's.

    The detail names no id: the problem a stranger gets for someone else's case must be
    byte for byte the one for a case that never existed.
    """
    case = session.get(Case, case_id)
    if case is None or not can_see(caller, case):
        raise NotFoundError("no such case")
    return case


def side_of(caller: Caller, case: Case) -> Side | None:
    """Which side of the case the caller acts for, if any."""
    if caller.org_id == case.issuer_org and caller.role == Role.AGENCY_OFFICER:
        return Side.AGENCY
    if caller.org_id == case.platform_org and caller.role in (
        Role.PLATFORM_OFFICIAL,
        Role.PLATFORM_LEAD,
    ):
        return Side.PLATFORM
    return None
