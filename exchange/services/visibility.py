"""Who may see which case. A case the caller may not see does not exist for them (404).

The rule is written once, as data (`_RULES`): which column of the case must name the
caller's organisation, and whether the case must also be assigned to them. Both the SQL
condition for listings and the check of a loaded case are derived from it, so the two can
never disagree.
"""

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, false, true
from sqlalchemy.orm import Session

from exchange.errors import NotFoundError
from exchange.protocol.workflow import Side
from exchange.services.caller import Caller
from exchange.storage.models import Case
from schemas.enums import Role


@dataclass(frozen=True)
class _Rule:
    # The case column that must equal the caller's organisation; None: every case.
    org_column: Literal["issuer_org", "platform_org"] | None
    assigned_only: bool = False


_RULES: dict[str, _Rule] = {
    Role.AUDITOR: _Rule(None),
    Role.AGENCY_OFFICER: _Rule("issuer_org"),
    Role.PLATFORM_LEAD: _Rule("platform_org"),
    Role.PLATFORM_OFFICIAL: _Rule("platform_org", assigned_only=True),
}


def case_filter(caller: Caller) -> ColumnElement[bool]:
    """The SQL condition for the cases `caller` may see."""
    return _filter(caller.role, caller.org_id, caller.official_id)


def role_case_filter(role: str) -> ColumnElement[bool]:
    """`case_filter` for every caller of `role`, for a statement built once: the caller's
    organisation and official are bound at execution, as `caller_org` and `caller_official`."""
    return _filter(role, bindparam("caller_org"), bindparam("caller_official"))


def _filter(
    role: str, org: str | BindParameter[str], official: str | BindParameter[str]
) -> ColumnElement[bool]:
    rule = _RULES.get(role)
    if rule is None:
        return false()
    if rule.org_column is None:
        return true()
    column: ColumnElement[str] = getattr(Case, rule.org_column)
    condition = column == org
    if rule.assigned_only:
        return and_(condition, Case.assignee_id == official)
    return condition


def can_see(caller: Caller, case: Case) -> bool:
    """The same rule as `case_filter`, for a case already loaded."""
    rule = _RULES.get(caller.role)
    if rule is None:
        return False
    if rule.org_column is None:
        return True
    if getattr(case, rule.org_column) != caller.org_id:
        return False
    return not rule.assigned_only or case.assignee_id == caller.official_id


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
