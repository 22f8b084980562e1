"""Case visibility: the SQL filter and the check of a loaded case are one rule.

Every role against cases of every relation to the caller, on the real database: the
rows `case_filter` selects are exactly the cases `can_see` allows.
"""

from datetime import UTC, datetime
from itertools import product

import pytest
from sqlalchemy import select

from exchange import runtime
from exchange.errors import NotFoundError
from exchange.services.caller import Caller
from exchange.services.visibility import can_see, case_filter, visible_case
from exchange.storage.models import Case, Official, Organisation
from schemas.enums import OrgKind, Role

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
ORGS = {
    "agency-a": OrgKind.AGENCY,
    "agency-b": OrgKind.AGENCY,
    "platform-a": OrgKind.PLATFORM,
    "platform-b": OrgKind.PLATFORM,
    "audit": OrgKind.AUDITOR,
}
OFFICIALS = {
    "officer-a": ("agency-a", Role.AGENCY_OFFICER),
    "lead-a": ("platform-a", Role.PLATFORM_LEAD),
    "reviewer-a": ("platform-a", Role.PLATFORM_OFFICIAL),
    "reviewer-a2": ("platform-a", Role.PLATFORM_OFFICIAL),
    "auditor-1": ("audit", Role.AUDITOR),
}
CALLERS = [
    Caller(official, org, ORGS[org], role, "kid") for official, (org, role) in OFFICIALS.items()
]
# Every combination of issuer, platform and assignee.
CASES = [
    (f"case-{n}", issuer, platform, assignee)
    for n, (issuer, platform, assignee) in enumerate(
        product(["agency-a", "agency-b"], ["platform-a", "platform-b"], [None, "reviewer-a"])
    )
]


@pytest.fixture
def stored(app):
    with app.app_context(), runtime.write() as session:
        for org, kind in ORGS.items():
            session.add(Organisation(id=org, kind=kind, name=org, created_at=NOW))
        session.flush()
        for official, (org, role) in OFFICIALS.items():
            session.add(Official(id=official, org_id=org, role=role, created_at=NOW))
        session.flush()
        for case_id, issuer, platform, assignee in CASES:
            session.add(
                Case(
                    id=case_id,
                    issuer_org=issuer,
                    issuer_official="officer-a",
                    issuer_case_ref=case_id,
                    platform_org=platform,
                    category="sexual_deepfake",
                    priority="urgent",
                    minor_involved="no",
                    request_type="removal",
                    item_count=1,
                    state="submitted",
                    assignee_id=assignee if platform == "platform-a" else None,
                    submitted_at=NOW,
                    ack_due_at=NOW,
                    action_due_at=NOW,
                    updated_at=NOW,
                )
            )
    return app


@pytest.mark.parametrize("caller", CALLERS, ids=[c.official_id for c in CALLERS])
def test_the_filter_selects_exactly_what_can_see_allows(stored, caller):
    with stored.app_context(), runtime.read() as session:
        every = session.scalars(select(Case)).all()
        selected = set(session.scalars(select(Case.id).where(case_filter(caller))))
        allowed = {case.id for case in every if can_see(caller, case)}
        assert selected == allowed
        for case in every:
            if case.id in allowed:
                assert visible_case(session, caller, case.id).id == case.id
            else:
                with pytest.raises(NotFoundError, match=r"^no such case$"):
                    visible_case(session, caller, case.id)


def test_what_each_role_sees(stored):
    with stored.app_context(), runtime.read() as session:
        seen = {
            caller.official_id: sorted(
                session.scalars(select(Case.id).where(case_filter(caller)).order_by(Case.id))
            )
            for caller in CALLERS
        }
    # issuer agency-a: cases 0-3; platform-a: 0, 1, 4, 5; assigned to reviewer-a: 1, 5
    assert seen == {
        "officer-a": ["case-0", "case-1", "case-2", "case-3"],
        "lead-a": ["case-0", "case-1", "case-4", "case-5"],
        "reviewer-a": ["case-1", "case-5"],
        "reviewer-a2": [],
        "auditor-1": [f"case-{n}" for n in range(8)],
    }
