"""The report's histories kept up to date as entries are verified, read per period.

`compliance.compute` folds every entry for each report: O(log). `Histories` folds each
entry once, as it is verified (`add`), and keeps two indexes so that a report reads only
the cases it can show: the cases by submission time (the period's cohort, by bisection),
and the cases that may be overdue (neither stopped nor both deadlines answered, as of the
report's time). `report` then hands those, in log order, with the organisations, to
`compliance.report`, the same computation `compute` does: the figures are identical.

A report as of a time before some entries (`as_of` earlier than the latest `logged_at`)
sees each case as `fold` would: its handoffs, breaches and state up to that time only.
"""

import bisect
import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from exchange.protocol.events import HANDOFF_EVENTS, Event
from exchange.reports.compliance import ComplianceReport, LogCheckpoint, report
from exchange.reports.history import (
    CaseHistory,
    History,
    Org,
    apply,
    organisation,
)
from exchange.reports.period import Period
from schemas.common import parse_utc
from schemas.enums import Kind

_CASE_EVENTS = frozenset({*HANDOFF_EVENTS, Event.DELIVERED, Event.DEADLINE_BREACHED})


@dataclasses.dataclass
class _Case:
    history: CaseHistory  # as of every entry added
    index: int  # its `case` entry's: the report lists cases in log order
    states: list[tuple[datetime, str]]  # the state each of its entries left, in log order
    latest: datetime  # the latest `logged_at` of its entries
    done_at: datetime | None = None  # from then on it cannot be overdue

    def as_of(self, until: datetime) -> CaseHistory:
        """The case as `fold(entries, until)` has it."""
        if self.latest <= until:
            return self.history
        case = self.history
        return dataclasses.replace(
            case,
            handoffs=[h for h in case.handoffs if h.at <= until],
            breaches=[b for b in case.breaches if b.at <= until],
            state=[state for at, state in self.states if at <= until][-1],
        )


def _done_at(case: CaseHistory) -> datetime | None:
    """When the case stopped owing anything: stopped by the agency, or both deadlines
    answered (`compliance._overdue` lists neither)."""

    def earliest(times: Iterable[datetime]) -> datetime | None:
        return min(times, default=None)

    stopped = earliest(h.at for h in case.handoffs if h.kind in (Kind.WITHDRAWAL, Kind.CLOSURE))
    ack = earliest(
        h.at for h in case.handoffs if h.kind == Kind.RECEIPT and h.acknowledged == case.handoff_id
    )
    action = earliest(h.at for h in case.handoffs if h.final)
    answered = max(ack, action) if ack is not None and action is not None else None
    return earliest(t for t in (stopped, answered) if t is not None)


class Histories:
    """Every organisation and case history of the entries added so far, indexed."""

    def __init__(self) -> None:
        self.size = 0  # entries added
        self._all = History()
        self._orgs: list[tuple[datetime, Org]] = []
        self._cases: dict[str, _Case] = {}
        self._submitted: list[tuple[datetime, int, str]] = []  # sorted
        self._open: dict[str, None] = {}  # never done
        self._done: list[tuple[datetime, int, str]] = []  # sorted by done_at

    def extend(self, entries: Iterable[Mapping[str, Any]]) -> None:
        for entry in entries:
            self.add(entry)

    def add(self, entry: Mapping[str, Any]) -> None:
        """Fold the next entry (verified, parsed JSON) in log order."""
        index, self.size = self.size, self.size + 1
        at = parse_utc(entry["logged_at"])
        event = entry["event"]
        if event == Event.ORGANISATION_CREATED:
            self._orgs.append((at, organisation(entry["details"])))
            return
        if event != Event.CASE and event not in _CASE_EVENTS:
            return
        known = self._cases.get(entry["case_id"]) if event != Event.CASE else None
        if event != Event.CASE and known is None:
            return  # as `fold` does: nothing to attach it to
        apply(self._all, entry, at)
        if event == Event.CASE:
            history = self._all.cases[entry["case_id"]]
            self._cases[history.case_id] = _Case(history, index, [(at, history.state)], at)
            bisect.insort(self._submitted, (at, index, history.case_id))
            self._open[history.case_id] = None
            return
        assert known is not None
        known.states.append((at, known.history.state))
        known.latest = max(known.latest, at)
        if event in HANDOFF_EVENTS:
            self._redone(known)

    def _redone(self, case: _Case) -> None:
        done_at = _done_at(case.history)
        if done_at == case.done_at:
            return
        case_id = case.history.case_id
        if case.done_at is None:
            del self._open[case_id]
        else:
            del self._done[bisect.bisect_left(self._done, (case.done_at, case.index, case_id))]
        case.done_at = done_at
        if done_at is None:
            self._open[case_id] = None
        else:
            bisect.insort(self._done, (done_at, case.index, case_id))

    def history(self, period: Period, until: datetime) -> History:
        """The organisations, and the cases a report of `period` as of `until` reads."""
        wanted: set[str] = set()
        # The period's cohort, as far as it was submitted by `until`.
        low = bisect.bisect_left(self._submitted, period.start, key=_time)
        high = bisect.bisect_left(self._submitted, period.end, key=_time)
        wanted.update(case_id for at, _, case_id in self._submitted[low:high] if at <= until)
        # Cases that may be overdue: not done as of `until`, submitted before the end.
        later = self._done[bisect.bisect_right(self._done, until, key=_time) :]
        for case_id in [*self._open, *(case_id for _, _, case_id in later)]:
            submitted = self._cases[case_id].history.submitted_at
            if submitted < period.end and submitted <= until:
                wanted.add(case_id)
        cases = sorted((self._cases[case_id] for case_id in wanted), key=lambda c: c.index)
        orgs: dict[str, Org] = {}
        for at, org in self._orgs:
            if at <= until:
                orgs[org.id] = org
        return History(orgs, {c.history.case_id: c.as_of(until) for c in cases})

    def report(
        self,
        *,
        checkpoint: LogCheckpoint,
        period: Period,
        now: datetime,
        platform: str | None = None,
    ) -> ComplianceReport:
        """What `compliance.compute(every entry added, ...)` returns, reading fewer cases."""
        return report(
            self.history(period, now),
            checkpoint=checkpoint,
            period=period,
            now=now,
            platform=platform,
        )


def _time(indexed: tuple[datetime, int, str]) -> datetime:
    return indexed[0]
