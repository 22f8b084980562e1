"""Compliance figures per platform and period, computed from verified log entries alone.

Definitions (every time is an entry's `logged_at`, the server's signed clock):

* The cases of a report are those submitted (their `case` entry logged) in the period
  [from, to), to the selected platform(s). Everything that happened to them up to the
  report's `as_of` counts, even after the period ended: a case sent on the period's last
  day and acknowledged the next morning is acknowledged, on time or not. Entries logged
  after `as_of` are ignored, so a report can be recomputed later with the same figures.
* Acknowledgement time: the platform's first receipt of the case handoff, minus the
  submission. Action time: the platform's first final response, minus the submission.
  Interim responses (`received`, `under_legal_review`, `needs_information`, and
  `not_actioned` for `pending_legal_review`) answer nothing: the deadline runs on.
  Time spent waiting for the agency's answer to a question is not taken
  off: the deadlines run on, as the server's sweep has them.
* Deadlines are the `ack_due_at` and `action_due_at` the server wrote into the case's
  entry. Each deadline of each case is
  - met: answered at or before it;
  - missed: answered after it, or unanswered when it passed (also if the case was
    withdrawn or closed afterwards: the deadline had passed by then);
  - released: withdrawn or closed by the agency, unanswered, before it was due; the case
    does not count for that deadline;
  - pending: unanswered, not yet due at `as_of`.
  The share within deadline is met / (met + missed); null when nothing is decided.
* Time statistics cover the cases answered by `as_of`; still-open and withdrawn cases
  without an answer have no time and are not in them (they are in the deadline counts
  and, while open, in the charts at their current age).
* Outcome (disposition): the outcome of the platform's latest final response (a later
  `actioned` supersedes a `not_actioned`); else `withdrawn`
  or `closed_unanswered` (the agency stopped the case first); else `awaiting_response`.
  `declined` counts responses other than actioned and partially_actioned.
* Open overdue (as of `as_of`): a case of the platform submitted before the period's end,
  whenever, neither withdrawn nor closed, with a deadline that has passed without its
  answer. Each missed deadline says whether a `deadline_breached` entry records it (the
  sweep runs on a schedule, so a fresh one may not have one yet).
  `breach_entries_contradicted` counts breach entries that the timestamps do not bear out
  (logged before the due time, or for a deadline met or released): 0 for an honest log.
* Withdrawals: cases of the report withdrawn by `as_of`; acknowledged by the platform's
  receipt of the withdrawal, timed from the withdrawal.
* Questions: a question is answered by the other side's first supplement or response
  whose `in_reply_to` is the question's handoff; moot if the case was withdrawn or closed
  without that; else unanswered. Platforms answer agencies' questions; agencies answer
  platforms' (how long an agency takes to answer is reported per agency).
* Percentiles: nearest-rank (see `exchange.reports.stats`).
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from typing import Any

from exchange.reports.evidence import EvidenceFigures, evidence_figures
from exchange.reports.history import (
    ACK,
    ACTION,
    AGENCY,
    PLATFORM,
    CaseHistory,
    History,
    fold,
)
from exchange.reports.period import Period, week_of
from exchange.reports.stats import DurationStats
from schemas.common import format_utc
from schemas.enums import FINAL_OUTCOMES, Kind, Outcome, Priority

REPORT_FORMAT = "hotline-compliance-report/v1"
PERCENTILE_METHOD = "nearest-rank"
MET, MISSED, RELEASED, PENDING = "met", "missed", "released", "pending"
ACTED_ON = frozenset({Outcome.ACTIONED.value, Outcome.PARTIALLY_ACTIONED.value})
DISPOSITIONS = (
    *(outcome.value for outcome in Outcome if outcome in FINAL_OUTCOMES),
    "withdrawn",
    "closed_unanswered",
    "awaiting_response",
)
PRIORITIES = tuple(priority.value for priority in Priority)
_ANSWERS = frozenset({Kind.SUPPLEMENT.value, Kind.RESPONSE.value})


class UnknownPlatformError(ValueError):
    """The report was asked for an organisation that is not a platform in the log."""


def seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


# --- the figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LogCheckpoint:
    """The verified checkpoint a report was computed from: re-verify the log against it."""

    origin: str
    size: int
    root: str  # standard base64, as in the note
    note: str  # the C2SP signed note, verbatim
    verifier_keys: tuple[str, ...]


@dataclass(frozen=True)
class Sample:
    """One case's time to a deadline's answer, for the charts (its age, while unanswered)."""

    case_id: str
    priority: str
    seconds: float
    allowed_seconds: float
    verdict: str  # met, missed or pending (released cases are not drawn)
    answered: bool


@dataclass(frozen=True)
class DeadlineFigures:
    time: DurationStats
    met: int
    missed: int
    released: int
    pending: int
    share_met: float | None
    breach_entries: int
    breach_entries_contradicted: int
    samples: tuple[Sample, ...]


@dataclass(frozen=True)
class WeekVolume:
    week_start: date
    cases: int


@dataclass(frozen=True)
class WithdrawalFigures:
    count: int
    acknowledged: int
    unacknowledged: int
    ack_time: DurationStats


@dataclass(frozen=True)
class OpenQuestion:
    case_id: str
    question_id: str
    asked_by: str
    asked_at: datetime
    waiting_seconds: float


@dataclass(frozen=True)
class QuestionFigures:
    asked: int
    answered: int
    unanswered: int
    moot: int
    answer_time: DurationStats
    open: tuple[OpenQuestion, ...]


@dataclass(frozen=True)
class MissedDeadline:
    deadline: str
    due_at: datetime
    overdue_seconds: float
    breach_logged: bool


@dataclass(frozen=True)
class OverdueCase:
    case_id: str
    platform: str
    agency: str
    category: str
    priority: str
    request_type: str
    submitted_at: datetime
    state: str
    deadlines: tuple[MissedDeadline, ...]


@dataclass(frozen=True)
class OverdueFigures:
    count: int
    cases: tuple[OverdueCase, ...]


@dataclass(frozen=True)
class Figures:
    """What a set of cases shows: one platform's, or all selected platforms' together."""

    cases_received: int
    by_category: dict[str, int]
    by_priority: dict[str, int]
    weekly_volume: tuple[WeekVolume, ...]
    acknowledgement: DeadlineFigures
    action: DeadlineFigures
    outcomes: dict[str, int]
    declined: int
    reason_codes: dict[str, int]
    withdrawals: WithdrawalFigures
    questions_from_agencies: QuestionFigures
    overdue: OverdueFigures
    evidence: EvidenceFigures


@dataclass(frozen=True)
class PlatformReport:
    platform: str
    name: str
    figures: Figures


@dataclass(frozen=True)
class AgencyReport:
    agency: str
    name: str
    cases_sent: int
    withdrawals: int
    questions_from_platforms: QuestionFigures


@dataclass(frozen=True)
class ComplianceReport:
    period: Period
    as_of: datetime
    platform: str | None
    checkpoint: LogCheckpoint
    totals: Figures
    platforms: tuple[PlatformReport, ...]
    agencies: tuple[AgencyReport, ...]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON: RFC 3339 UTC times, durations in seconds, shares in 0..1.

        A platform's figures sit beside its id and name (`{"platform", "name", ...}`).
        """
        return {
            "format": REPORT_FORMAT,
            "period": self.period.to_json(),
            "as_of": format_utc(self.as_of),
            "platform": self.platform,
            "percentile_method": PERCENTILE_METHOD,
            "checkpoint": jsonable(self.checkpoint),
            "totals": jsonable(self.totals),
            "platforms": [
                {"platform": p.platform, "name": p.name, **jsonable(p.figures)}
                for p in self.platforms
            ],
            "agencies": [jsonable(agency) for agency in self.agencies],
        }


def jsonable(value: Any) -> Any:
    """Dataclasses as objects, times as RFC 3339, dates as YYYY-MM-DD, tuples as lists."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


# --- the computation ---------------------------------------------------------------------


def compute(
    entries: Iterable[Mapping[str, Any]],
    *,
    checkpoint: LogCheckpoint,
    period: Period,
    now: datetime,
    platform: str | None = None,
) -> ComplianceReport:
    """The report of `period` as of `now`, from entries that verified under `checkpoint`.

    Pure: the entries must come from `exchange.reports.verified` (or the same checks).
    """
    return report(
        fold(entries, now), checkpoint=checkpoint, period=period, now=now, platform=platform
    )


def report(
    history: History,
    *,
    checkpoint: LogCheckpoint,
    period: Period,
    now: datetime,
    platform: str | None = None,
) -> ComplianceReport:
    """The report from the history as of `now`: every organisation, and at least the cases
    submitted in `period` and those that may be overdue (`exchange.reports.incremental`
    hands in only those), in log order."""
    platforms = history.of_kind(PLATFORM)
    if platform is not None:
        if platform not in platforms:
            raise UnknownPlatformError(f"{platform} is not a platform in the log")
        platforms = [platform]
    selected = set(platforms)
    cases = [c for c in history.cases.values() if c.platform in selected]
    cohort = [c for c in cases if c.submitted_at in period]
    # Overdue cases are listed whenever they were submitted, up to the period's end.
    earlier = [c for c in cases if c.submitted_at < period.end]

    def figures(owner: set[str]) -> Figures:
        return _figures(
            [c for c in cohort if c.platform in owner],
            [c for c in earlier if c.platform in owner],
            period,
            now,
        )

    return ComplianceReport(
        period=period,
        as_of=now,
        platform=platform,
        checkpoint=checkpoint,
        totals=figures(selected),
        platforms=tuple(PlatformReport(p, history.name(p), figures({p})) for p in platforms),
        agencies=tuple(_agency(history, a, cohort, now) for a in history.of_kind(AGENCY)),
    )


def _figures(
    cohort: Sequence[CaseHistory], earlier: Sequence[CaseHistory], period: Period, now: datetime
) -> Figures:
    weekly = Counter(week_of(c.submitted_at) for c in cohort)
    priorities = Counter(c.priority for c in cohort)
    outcomes = Counter(_disposition(c) for c in cohort)
    reasons = Counter(
        response.reason_code
        for c in cohort
        if (response := c.latest_response) is not None and response.reason_code
    )
    return Figures(
        cases_received=len(cohort),
        by_category=dict(sorted(Counter(c.category for c in cohort).items())),
        by_priority={p: priorities[p] for p in PRIORITIES},
        weekly_volume=tuple(WeekVolume(week, weekly[week]) for week in period.weeks()),
        acknowledgement=_deadline(cohort, ACK, now),
        action=_deadline(cohort, ACTION, now),
        outcomes={d: outcomes[d] for d in DISPOSITIONS},
        declined=sum(outcomes[o.value] for o in FINAL_OUTCOMES if o.value not in ACTED_ON),
        reason_codes=dict(sorted(reasons.items())),
        withdrawals=_withdrawals(cohort),
        questions_from_agencies=_questions(cohort, asked_by=AGENCY, now=now),
        overdue=_overdue(earlier, now),
        evidence=evidence_figures(cohort, now, verdict),
    )


def _disposition(case: CaseHistory) -> str:
    response = case.latest_response
    if response is not None:
        return str(response.outcome)
    stopped = case.stopped
    if stopped is not None:
        return "withdrawn" if stopped.kind == Kind.WITHDRAWAL else "closed_unanswered"
    return "awaiting_response"


def verdict(case: CaseHistory, deadline: str, now: datetime) -> str:
    """met, missed, released or pending: see the module's definitions."""
    due = case.due_at(deadline)
    answer = case.answer(deadline)
    if answer is not None:
        return MET if answer.at <= due else MISSED
    stopped = case.stopped
    if stopped is not None:
        return RELEASED if stopped.at <= due else MISSED
    return MISSED if due <= now else PENDING


def _deadline(cohort: Sequence[CaseHistory], deadline: str, now: datetime) -> DeadlineFigures:
    counts: Counter[str] = Counter()
    times: list[float] = []
    samples: list[Sample] = []
    breaches = contradicted = 0
    for case in cohort:
        judged = verdict(case, deadline, now)
        counts[judged] += 1
        answer = case.answer(deadline)
        allowed = seconds(case.due_at(deadline), case.submitted_at)
        if answer is not None:
            times.append(seconds(answer.at, case.submitted_at))
        if judged != RELEASED:
            end = answer.at if answer is not None else now
            samples.append(
                Sample(
                    case.case_id,
                    case.priority,
                    seconds(end, case.submitted_at),
                    allowed,
                    judged,
                    answer is not None,
                )
            )
        for breach in case.breaches:
            if breach.deadline != deadline:
                continue
            breaches += 1
            if judged != MISSED or breach.at < case.due_at(deadline):
                contradicted += 1
    decided = counts[MET] + counts[MISSED]
    return DeadlineFigures(
        time=DurationStats.of(times),
        met=counts[MET],
        missed=counts[MISSED],
        released=counts[RELEASED],
        pending=counts[PENDING],
        share_met=counts[MET] / decided if decided else None,
        breach_entries=breaches,
        breach_entries_contradicted=contradicted,
        samples=tuple(samples),
    )


def _withdrawals(cohort: Sequence[CaseHistory]) -> WithdrawalFigures:
    count = 0
    times: list[float] = []
    for case in cohort:
        withdrawal = case.first(Kind.WITHDRAWAL)
        if withdrawal is None:
            continue
        count += 1
        receipt = next(
            (
                h
                for h in case.handoffs
                if h.kind == Kind.RECEIPT and h.acknowledged == withdrawal.handoff_id
            ),
            None,
        )
        if receipt is not None:
            times.append(seconds(receipt.at, withdrawal.at))
    return WithdrawalFigures(count, len(times), count - len(times), DurationStats.of(times))


def _questions(cases: Sequence[CaseHistory], *, asked_by: str, now: datetime) -> QuestionFigures:
    answering = PLATFORM if asked_by == AGENCY else AGENCY
    asked = moot = 0
    times: list[float] = []
    waiting: list[OpenQuestion] = []
    for case in cases:
        for question in case.handoffs:
            if question.kind != Kind.QUESTION or question.side != asked_by:
                continue
            asked += 1
            answer = case.replies_to(question.handoff_id, _ANSWERS, answering)
            if answer is not None:
                times.append(seconds(answer.at, question.at))
            elif case.stopped is not None:
                moot += 1
            else:
                waiting.append(
                    OpenQuestion(
                        case.case_id,
                        question.handoff_id,
                        question.org,
                        question.at,
                        seconds(now, question.at),
                    )
                )
    return QuestionFigures(
        asked, len(times), len(waiting), moot, DurationStats.of(times), tuple(waiting)
    )


def _overdue(cases: Sequence[CaseHistory], now: datetime) -> OverdueFigures:
    overdue: list[OverdueCase] = []
    for case in cases:
        if case.stopped is not None:
            continue
        logged = {breach.deadline for breach in case.breaches}
        missed = tuple(
            MissedDeadline(d, case.due_at(d), seconds(now, case.due_at(d)), d in logged)
            for d in (ACK, ACTION)
            if case.answer(d) is None and case.due_at(d) <= now
        )
        if missed:
            overdue.append(
                OverdueCase(
                    case.case_id,
                    case.platform,
                    case.agency,
                    case.category,
                    case.priority,
                    case.request_type,
                    case.submitted_at,
                    case.state,
                    missed,
                )
            )
    overdue.sort(key=lambda c: (c.deadlines[0].due_at, c.case_id))
    return OverdueFigures(len(overdue), tuple(overdue))


def _agency(
    history: History, agency: str, cohort: Sequence[CaseHistory], now: datetime
) -> AgencyReport:
    sent = [c for c in cohort if c.agency == agency]
    return AgencyReport(
        agency=agency,
        name=history.name(agency),
        cases_sent=len(sent),
        withdrawals=sum(1 for c in sent if c.first(Kind.WITHDRAWAL) is not None),
        questions_from_platforms=_questions(sent, asked_by=PLATFORM, now=now),
    )
