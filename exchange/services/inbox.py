"""Each official's inbox: the handoffs addressed to them, in a gap-free sequence."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from exchange.services.caller import Caller
from exchange.services.visibility import case_filter
from exchange.storage.models import Case, Handoff, InboxHead, InboxItem, Official
from schemas.enums import Role


def recipients(session: Session, case: Case, handoff: Handoff) -> list[str]:
    """Who is told of a handoff: the other side's case handlers, never the sender."""
    if handoff.sender_org == case.issuer_org:
        wanted = platform_handlers(session, case.platform_org, case.assignee_id)
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


def platform_handlers(session: Session, platform_org: str, assignee_id: str | None) -> set[str]:
    """The platform's leads, and the case's assignee if it has one: active ones only."""
    handles = Official.role == Role.PLATFORM_LEAD
    if assignee_id:
        handles = or_(handles, Official.id == assignee_id)
    return set(
        session.scalars(
            select(Official.id).where(
                Official.org_id == platform_org, Official.active.is_(True), handles
            )
        )
    )


def deliver(session: Session, now: datetime, handoff: Handoff, officials: Iterable[str]) -> None:
    """Append the handoff to each official's inbox at their next sequence number."""
    officials = list(officials)
    heads = {
        head.official_id: head
        for head in session.scalars(select(InboxHead).where(InboxHead.official_id.in_(officials)))
    }
    for official_id in officials:
        head = heads.get(official_id)
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
