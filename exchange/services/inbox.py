"""Each official's inbox: the handoffs addressed to them, in a gap-free sequence."""

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Final

from sqlalchemy import Executable, Select, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from exchange.services.caller import Caller
from exchange.services.visibility import role_case_filter
from exchange.storage.models import Case, Handoff, InboxHead, InboxItem, Official, table
from schemas.enums import Role

_HEADS: Final = table(InboxHead)
_LAST_SEQ: Final = select(_HEADS.c.last_seq).where(_HEADS.c.official_id == bindparam("official"))
_NEW_HEADS: Final = insert(_HEADS)
_NEW_ITEMS: Final = insert(table(InboxItem))


@lru_cache(maxsize=64)
def _move_heads(count: int) -> Executable:
    """`UPDATE inbox_heads ... WHERE official_id IN (?, ...)` for `count` readers, built once
    per count: this runs for every handoff, under the log's write lock, and an expanding IN
    would render its SQL again at every execution."""
    return (
        update(_HEADS)
        .where(_HEADS.c.official_id.in_([bindparam(f"official_{n}") for n in range(count)]))
        .values(last_seq=_HEADS.c.last_seq + 1)
        .returning(_HEADS.c.official_id, _HEADS.c.last_seq)
    )


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
    """Append the handoff to each official's inbox at their next sequence number.

    Core statements, not the unit of work: this runs under the log's write lock, and
    moving every head on in one UPDATE ... RETURNING costs a fraction of loading,
    changing and flushing them. Nothing reads the heads as objects in a handoff's
    transaction, so no object in the session goes stale.
    """
    officials = sorted(set(officials))
    if not officials:
        return
    moved = session.execute(
        _move_heads(len(officials)), {f"official_{n}": o for n, o in enumerate(officials)}
    )
    seqs: dict[str, int] = {row.official_id: row.last_seq for row in moved}
    first = [official_id for official_id in officials if official_id not in seqs]
    if first:
        session.execute(_NEW_HEADS, [{"official_id": o, "last_seq": 1} for o in first])
        seqs.update(dict.fromkeys(first, 1))
    session.execute(
        _NEW_ITEMS,
        [
            {"official_id": o, "seq": seqs[o], "handoff_id": handoff.id, "created_at": now}
            for o in officials
        ],
    )


def page(
    session: Session, caller: Caller, after: int, limit: int
) -> list[tuple[int, Handoff, Case]]:
    """Inbox items after `after`, of cases the caller may still see: (seq, handoff, case).

    An item of a case since reassigned to someone else is skipped: its seq stays taken
    (the sequence is gap-free as assigned), but its content is no longer the caller's.
    The item is read as its seq alone, not as an object: a page of 50 then loads 100
    objects instead of 150, about a third less time for the read.
    """
    rows = session.execute(
        _page_query(caller.role),
        {
            "official": caller.official_id,
            "after": after,
            "limit": limit,
            "caller_org": caller.org_id,
            "caller_official": caller.official_id,
        },
    )
    return [(seq, handoff, case) for seq, handoff, case in rows]


@lru_cache(maxsize=16)
def _page_query(role: str) -> Select[int, Handoff, Case]:
    """The page's statement for callers of `role`, built once: building it (two joins and
    the visibility rule) took about 0.2 ms, a fifth of running it."""
    return (
        select(InboxItem.seq, Handoff, Case)
        .join(Handoff, Handoff.id == InboxItem.handoff_id)
        .join(Case, Case.id == Handoff.case_id)
        .where(InboxItem.official_id == bindparam("official"), InboxItem.seq > bindparam("after"))
        .where(role_case_filter(role))
        .order_by(InboxItem.seq)
        .limit(bindparam("limit"))
    )


def last_seq(session: Session, official_id: str) -> int:
    last: int | None = session.scalar(_LAST_SEQ, {"official": official_id})
    return last or 0
