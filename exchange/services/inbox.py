"""Each official's inbox: the handoffs addressed to them, in a gap-free sequence."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.models import Case, Handoff, InboxHead, InboxItem, Official
from exchange.services.caller import Caller
from exchange.services.visibility import case_filter
from schemas.enums import Role


def recipients(session: Session, case: Case, handoff: Handoff) -> list[str]:
    """Who is told of a handoff: the other side's case handlers, never the sender."""
    if handoff.sender_org == case.issuer_org:
        wanted = _platform_handlers(session, case)
    elif handoff.kind == "assignment":
        wanted = {case.assignee_id} if case.assignee_id else set()
    else:
        wanted = set(
            session.scalars(
                select(Official.id).where(
                    Official.org_id == case.issuer_org,
                    Official.role == Role.AGENCY_OFFICER,
                    Official.active.is_(True),
                )
            )
        )
    wanted.discard(handoff.sender_official)
    return sorted(official for official in wanted if official)


def _platform_handlers(session: Session, case: Case) -> set[str]:
    """The case's assignee, or while it has none its platform's leads (and always them)."""
    leads = set(
        session.scalars(
            select(Official.id).where(
                Official.org_id == case.platform_org,
                Official.role == Role.PLATFORM_LEAD,
                Official.active.is_(True),
            )
        )
    )
    if case.assignee_id:
        assignee = session.get(Official, case.assignee_id)
        if assignee is not None and assignee.active:
            leads.add(assignee.id)
    return leads


def deliver(session: Session, now: datetime, handoff: Handoff, officials: Iterable[str]) -> None:
    """Append the handoff to each official's inbox at their next sequence number."""
    for official_id in officials:
        head = session.get(InboxHead, official_id)
        if head is None:
            head = InboxHead(official_id=official_id, last_seq=0)
            session.add(head)
        head.last_seq += 1
        session.add(
            InboxItem(
                official_id=official_id, seq=head.last_seq, handoff_id=handoff.id, created_at=now
            )
        )


def page(
    session: Session, caller: Caller, after: int, limit: int
) -> list[tuple[InboxItem, Handoff, Case]]:
    """Inbox items after `after`, of cases the caller may still see.

    An item of a case since reassigned to someone else is skipped: its seq stays taken
    (the sequence is gap-free as assigned), but its content is no longer the caller's.
    """
    rows = session.execute(
        select(InboxItem, Handoff, Case)
        .join(Handoff, Handoff.id == InboxItem.handoff_id)
        .join(Case, Case.id == Handoff.case_id)
        .where(InboxItem.official_id == caller.official_id, InboxItem.seq > after)
        .where(case_filter(caller))
        .order_by(InboxItem.seq)
        .limit(limit)
    )
    return [(item, handoff, case) for item, handoff, case in rows]


def last_seq(session: Session, official_id: str) -> int:
    head = session.get(InboxHead, official_id)
    return head.last_seq if head else 0
