"""The figures a regulator can fine on: interim answers that never became final, removals
claimed against removals the agency verified, questions answered in time, breaches on
record by kind, and the action deadline per legal basis and per deadline policy.

Definitions (all from verified log entries, as of the report's `as_of`; see
docs/reports.md):

* interim_only: cases whose platform sent at least one response but no final one
  (interim outcomes, or `not_actioned` for `pending_legal_review`).
* refusals_superseded: cases where a final `not_actioned` was followed by a final
  `actioned` or `partially_actioned`.
* removals_claimed: per case, the items the latest final response reports actioned: its
  `item_outcomes` marked `actioned`, or, without item outcomes, every item of an
  `actioned` case (`item_count`); a `partially_actioned` response without item outcomes
  claims no identifiable item.
* removals_verified: per case, the items whose latest verification by the agency found
  them no longer reachable.
* claims_contradicted: verification results that found an item still reachable (each
  reopened the case).
* questions (asked by agencies, with a logged answer deadline): answered_in_time at or
  before `answer_due_at`, answered_late after it, overdue if unanswered past it while
  the case is open (moot ones are not counted).
* breach_entries: `deadline_breached` entries of the cases, by deadline kind.
* by_legal_basis / by_policy: cases and the verdicts of their action deadline; a case
  citing several legal bases counts under each.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from exchange.reports.history import ACTION, AGENCY, PLATFORM, CaseHistory, Handoff
from schemas.enums import ItemOutcome, Kind, Outcome
from schemas.statement import ResponseMeta, SupplementMeta

_ANSWERS = frozenset({Kind.SUPPLEMENT.value, Kind.RESPONSE.value})
_BREACH_KINDS = ("ack", "action", "withdrawal_ack", "reopened", "answer")
# met, missed, released or pending, for a case, a deadline and the report's as_of.
VerdictOf = Callable[[CaseHistory, str, datetime], str]


@dataclass(frozen=True)
class DeadlineVerdicts:
    cases: int
    action_met: int
    action_missed: int
    action_pending: int
    action_released: int


@dataclass(frozen=True)
class EvidenceFigures:
    interim_only: int
    refusals_superseded: int
    removals_claimed: int
    removals_verified: int
    claims_contradicted: int
    questions_answered_in_time: int
    questions_answered_late: int
    questions_overdue: int
    breach_entries: dict[str, int]
    by_legal_basis: dict[str, DeadlineVerdicts]
    by_policy: dict[str, DeadlineVerdicts]


def evidence_figures(
    cohort: Sequence[CaseHistory], now: datetime, verdict_of: VerdictOf
) -> EvidenceFigures:
    """The figures of `cohort`; `verdict_of` is the compliance report's deadline verdict."""
    questions: Counter[str] = Counter()
    for case in cohort:
        questions.update(_question_verdicts(case, now))
    breaches = Counter(b.deadline for case in cohort for b in case.breaches)
    return EvidenceFigures(
        interim_only=sum(1 for c in cohort if _responses(c) and not _finals(c)),
        refusals_superseded=sum(1 for c in cohort if _superseded(c)),
        removals_claimed=sum(_claimed(c) for c in cohort),
        removals_verified=sum(_verified(c) for c in cohort),
        claims_contradicted=sum(_contradicted(c) for c in cohort),
        questions_answered_in_time=questions["in_time"],
        questions_answered_late=questions["late"],
        questions_overdue=questions["overdue"],
        breach_entries={kind: breaches[kind] for kind in _BREACH_KINDS},
        by_legal_basis=_grouped(cohort, now, verdict_of, _bases),
        by_policy=_grouped(cohort, now, verdict_of, lambda c: [c.policy] if c.policy else []),
    )


def _responses(case: CaseHistory) -> list[Handoff]:
    return [h for h in case.handoffs if isinstance(h.meta, ResponseMeta)]


def _finals(case: CaseHistory) -> list[Handoff]:
    return [h for h in _responses(case) if h.final]


def _superseded(case: CaseHistory) -> bool:
    refused = False
    for response in _finals(case):
        if response.outcome == Outcome.NOT_ACTIONED:
            refused = True
        elif refused and response.outcome in (Outcome.ACTIONED, Outcome.PARTIALLY_ACTIONED):
            return True
    return False


def _claimed(case: CaseHistory) -> int:
    finals = _finals(case)
    if not finals or not isinstance(finals[-1].meta, ResponseMeta):
        return 0
    meta = finals[-1].meta
    if meta.item_outcomes:
        return sum(1 for item in meta.item_outcomes if item.outcome == ItemOutcome.ACTIONED)
    return case.item_count if meta.outcome == Outcome.ACTIONED else 0


def _verifications(case: CaseHistory) -> list[SupplementMeta]:
    return [
        h.meta
        for h in case.handoffs
        if h.side == AGENCY and isinstance(h.meta, SupplementMeta) and h.meta.verification
    ]


def _verified(case: CaseHistory) -> int:
    latest: dict[str, bool] = {}
    for meta in _verifications(case):
        for result in meta.verification:
            latest[result.item_id] = result.reachable
    return sum(1 for reachable in latest.values() if not reachable)


def _contradicted(case: CaseHistory) -> int:
    return sum(
        1 for meta in _verifications(case) for result in meta.verification if result.reachable
    )


def _question_verdicts(case: CaseHistory, now: datetime) -> list[str]:
    verdicts = []
    for question in case.handoffs:
        if question.kind != Kind.QUESTION or question.side != AGENCY or question.due_at is None:
            continue
        answer = case.replies_to(question.handoff_id, _ANSWERS, PLATFORM)
        if answer is not None:
            verdicts.append("in_time" if answer.at <= question.due_at else "late")
        elif case.stopped is None and question.due_at <= now:
            verdicts.append("overdue")
    return verdicts


def _bases(case: CaseHistory) -> list[str]:
    return sorted({" / ".join(basis) for basis in case.legal_basis})


def _grouped(
    cohort: Sequence[CaseHistory],
    now: datetime,
    verdict_of: VerdictOf,
    keys: Callable[[CaseHistory], list[str]],
) -> dict[str, DeadlineVerdicts]:
    groups: dict[str, Counter[str]] = {}
    for case in cohort:
        judged = verdict_of(case, ACTION, now)
        for key in keys(case):
            counts = groups.setdefault(key, Counter())
            counts["cases"] += 1
            counts[judged] += 1
    return {
        key: DeadlineVerdicts(
            counts["cases"], counts["met"], counts["missed"], counts["pending"], counts["released"]
        )
        for key, counts in sorted(groups.items())
    }
