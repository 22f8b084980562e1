"""Every case's events, replayed through the server's own state machine
(`exchange.protocol.workflow`).

The agency side of a case is the organisation that sent it, the platform side the one it
is addressed to. A handoff from anyone else, a reply to an unknown handoff, a transition
the state machine refuses, or a logged state that differs from the replayed one is caught
at its index.
"""

from dataclasses import dataclass

from exchange.auditor.directory import Directory
from exchange.auditor.entries import Entry
from exchange.auditor.errors import CaseReplayError, ReplayedTransitionError
from exchange.protocol import workflow
from exchange.protocol.workflow import (
    AWAITING_ACK,
    AWAITING_ACTION,
    WITHDRAWING,
    Side,
    State,
    TransitionError,
)
from schemas.enums import Kind, OrgKind, Role
from schemas.statement import (
    AssignmentMeta,
    ReceiptMeta,
    ResponseMeta,
    Statement,
    SupplementMeta,
)

_SIDE_ROLES = {
    Side.AGENCY: frozenset({Role.AGENCY_OFFICER}),
    Side.PLATFORM: frozenset({Role.PLATFORM_OFFICIAL, Role.PLATFORM_LEAD}),
}
_ANSWER = "answer"
_REOPENED = "reopened"
_AWAITING = {
    "ack": AWAITING_ACK,
    "action": AWAITING_ACTION,
    "withdrawal_ack": frozenset({State.WITHDRAWN}),
    # A question is moot once the case is withdrawn or closed.
    _ANSWER: frozenset(State) - WITHDRAWING - {State.CLOSED},
    _REOPENED: frozenset({State.REOPENED}),
}


@dataclass(slots=True)
class CaseRecord:
    agency: str
    platform: str
    state: State


@dataclass(frozen=True, slots=True)
class HandoffRecord:
    case_id: str
    kind: str
    sender_org: str
    record_sha256: str | None


class CaseReplay:
    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self.cases: dict[str, CaseRecord] = {}
        self.handoffs: dict[str, HandoffRecord] = {}
        self._breaches: set[tuple[str, str]] = set()
        self._answered: set[str] = set()

    def handoff(self, entry: Entry, statement: Statement, role: str) -> None:
        """Replay a statement sent by the entry's actor (of `role`)."""
        assert entry.actor is not None  # handoff entries are checked to carry their actor
        index, org = entry.index, entry.actor.org
        kind, case_id, handoff_id = statement.kind, statement.case_id, statement.handoff_id
        if handoff_id in self.handoffs:
            raise CaseReplayError(f"handoff {handoff_id} is logged twice", index)
        if kind == Kind.CASE:
            if case_id in self.cases:
                raise CaseReplayError(f"case {case_id} is opened twice", index)
            case = self._open(entry, statement, role)
            new_state = case.state
        else:
            case = self._case(case_id, index)
            side = self._side(case, org, role, index)
            replied = self.handoffs.get(statement.in_reply_to or "")
            if replied is None or replied.case_id != case_id:
                raise CaseReplayError(
                    f"in_reply_to names no earlier handoff of case {case_id}", index
                )
            self._check_kind_rules(statement, replied, case, org, role, index)
            response = statement.meta if isinstance(statement.meta, ResponseMeta) else None
            meta = statement.meta
            verification = meta if isinstance(meta, SupplementMeta) else None
            expected_to = (
                [case.platform]
                if kind == Kind.ASSIGNMENT
                else [case.platform if side == Side.AGENCY else case.agency]
            )
            if list(statement.to) != expected_to:
                raise CaseReplayError(f"a {kind} of this case is addressed to {expected_to}", index)
            try:
                new_state = workflow.transition(
                    case.state,
                    kind,
                    side,
                    acknowledged_kind=replied.kind,
                    outcome=response.outcome if response else None,
                    reason_code=response.reason_code if response else None,
                    verifies=bool(verification and verification.verification),
                    reopens=bool(verification and verification.reopens),
                )
            except TransitionError as exc:
                raise ReplayedTransitionError(
                    f"a {kind} from the {side} side when the case is {case.state}: {exc}", index
                ) from exc
        self._check_logged_state(entry, new_state)
        superseded = (
            str(case.state)
            if kind == Kind.RESPONSE and workflow.supersedes(case.state, new_state)
            else None
        )
        if entry.details.get("supersedes") != superseded:
            raise CaseReplayError(
                f"the entry records supersedes={repr(entry.details.get('supersedes'))[:40]}, "
                f"the replay gives {superseded!r}",
                index,
            )
        case.state = new_state
        self.handoffs[handoff_id] = HandoffRecord(case_id, kind, org, statement.record_sha256)
        if kind in (Kind.SUPPLEMENT, Kind.RESPONSE):
            asked = self.handoffs.get(statement.in_reply_to or "")
            if asked is not None and asked.kind == Kind.QUESTION and asked.sender_org != org:
                self._answered.add(statement.in_reply_to or "")

    def delivered(self, entry: Entry) -> None:
        """A fetch on record: the platform's first fetch of the case moves it to delivered."""
        index = entry.index
        if entry.actor is None or entry.handoff_id is None or entry.case_id is None:
            raise CaseReplayError("a delivery names its reader, handoff and case", index)
        handoff = self.handoffs.get(entry.handoff_id)
        if handoff is None or handoff.case_id != entry.case_id:
            raise CaseReplayError(
                f"delivered handoff {entry.handoff_id} is not of this case", index
            )
        case = self.cases[entry.case_id]
        if (
            entry.actor.org not in (case.agency, case.platform)
            or entry.actor.org == handoff.sender_org
        ):
            raise CaseReplayError(
                f"{entry.actor.org} is not the other party of handoff {entry.handoff_id}", index
            )
        state = workflow.after_delivery(case.state) if handoff.kind == Kind.CASE else case.state
        self._check_logged_state(entry, state)
        case.state = state

    def deadline_breached(self, entry: Entry) -> None:
        index, details = entry.index, entry.details
        if entry.actor is not None or entry.case_id is None:
            raise CaseReplayError("a deadline breach is the server's, about one case", index)
        case = self._case(entry.case_id, index)
        deadline = details.get("deadline")
        if deadline not in _AWAITING:
            raise CaseReplayError(f"unknown deadline {str(deadline)[:20]!r}", index)
        key = str(deadline)
        if deadline == _ANSWER:
            key = f"{deadline}:{self._open_question(entry, index)}"
        if deadline == _REOPENED:
            key = f"{deadline}:{str(details.get('verification'))[:36]}"
        if (entry.case_id, key) in self._breaches:
            raise CaseReplayError(f"the {deadline} deadline of this case is breached twice", index)
        if case.state not in _AWAITING[deadline]:
            raise CaseReplayError(
                f"the {deadline} deadline cannot be breached when the case is {case.state}", index
            )
        if details.get("platform") != case.platform:
            raise CaseReplayError(f"the case's platform is {case.platform}", index)
        self._check_logged_state(entry, case.state)
        self._breaches.add((entry.case_id, key))

    def _open_question(self, entry: Entry, index: int) -> str:
        """The question an `answer` breach names: of this case, and still unanswered."""
        question = entry.details.get("question")
        record = self.handoffs.get(question) if isinstance(question, str) else None
        if record is None or record.kind != Kind.QUESTION or record.case_id != entry.case_id:
            raise CaseReplayError("an answer breach names a question of its case", index)
        if question in self._answered:
            raise CaseReplayError(f"question {question} was answered before", index)
        return str(question)

    def _open(self, entry: Entry, statement: Statement, role: str) -> CaseRecord:
        assert entry.actor is not None
        index, agency, to = entry.index, entry.actor.org, statement.to
        if (
            role not in _SIDE_ROLES[Side.AGENCY]
            or self._directory.orgs.get(agency) != OrgKind.AGENCY
        ):
            raise ReplayedTransitionError("a case is opened by an agency's officer", index)
        if len(to) != 1 or self._directory.orgs.get(to[0]) != OrgKind.PLATFORM:
            raise CaseReplayError("a case is addressed to exactly one platform", index)
        try:
            state = workflow.transition(None, Kind.CASE, Side.AGENCY)
        except TransitionError as exc:  # pragma: no cover - a case always opens
            raise ReplayedTransitionError(str(exc), index) from exc
        case = CaseRecord(agency, to[0], state)
        self.cases[statement.case_id] = case
        return case

    def _case(self, case_id: str, index: int) -> CaseRecord:
        case = self.cases.get(case_id)
        if case is None:
            raise CaseReplayError(f"case {case_id} was never opened", index)
        return case

    def _side(self, case: CaseRecord, org: str, role: str, index: int) -> Side:
        side = (
            Side.AGENCY if org == case.agency else Side.PLATFORM if org == case.platform else None
        )
        if side is None or role not in _SIDE_ROLES[side]:
            raise CaseReplayError(f"{org} ({role}) is not a party of this case", index)
        return side

    def _check_kind_rules(
        self,
        statement: Statement,
        replied: HandoffRecord,
        case: CaseRecord,
        org: str,
        role: str,
        index: int,
    ) -> None:
        meta = statement.meta
        if isinstance(meta, ReceiptMeta):
            if replied.sender_org == org:
                raise ReplayedTransitionError(
                    "a receipt acknowledges the other side's handoff", index
                )
            if meta.record_sha256 != replied.record_sha256:
                raise CaseReplayError("the receipt names another record than the one sent", index)
        if isinstance(meta, AssignmentMeta):
            assignee = self._directory.officials.get(meta.assignee)
            if role != Role.PLATFORM_LEAD:
                raise ReplayedTransitionError("only a platform lead assigns a case", index)
            if (
                assignee is None
                or not assignee.active
                or assignee.org != case.platform
                or assignee.role not in _SIDE_ROLES[Side.PLATFORM]
            ):
                raise CaseReplayError(
                    f"{meta.assignee} is not an official of {case.platform}", index
                )

    @staticmethod
    def _check_logged_state(entry: Entry, state: State) -> None:
        logged = entry.details.get("state")
        if logged != state:
            raise CaseReplayError(
                f"the entry records state {str(logged)[:40]!r}, the replay gives {state!s}",
                entry.index,
            )
