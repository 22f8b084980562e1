"""The case state machine, pure: the server enforces it and the auditor replays it.

    submitted → delivered → acknowledged → (needs_info ⇄ supplemented) → outcome → closed

where outcome is one of the final response outcomes. After a reported action the agency
may record what it verified, item by item (a supplement with `verification`); an item
still reachable reopens the case (`reopened`) for a new final answer.

Interim responses (received, under legal review, needs information, or `not_actioned`
for `pending_legal_review`) change no state: the case still awaits its final answer,
and its deadlines run on. A final `not_actioned` may be superseded by a later `actioned`
or `partially_actioned`. The issuing agency may withdraw any open case; the platform
then acknowledges the withdrawal.
Questions from the agency and supplements from the platform carry information without
changing the state.
"""

from dataclasses import dataclass
from enum import StrEnum

from schemas.enums import FINAL_OUTCOMES, Kind, Outcome
from schemas.response import ACTING_OUTCOMES, is_final


class State(StrEnum):
    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    NEEDS_INFO = "needs_info"
    SUPPLEMENTED = "supplemented"
    ACTIONED = Outcome.ACTIONED.value
    PARTIALLY_ACTIONED = Outcome.PARTIALLY_ACTIONED.value
    NOT_ACTIONED = Outcome.NOT_ACTIONED.value
    UNABLE_TO_LOCATE = Outcome.UNABLE_TO_LOCATE.value
    ALREADY_UNAVAILABLE = Outcome.ALREADY_UNAVAILABLE.value
    REJECTED_INVALID = Outcome.REJECTED_INVALID.value
    REFERRED_TO_REGULATOR = Outcome.REFERRED_TO_REGULATOR.value
    # The agency found an item the platform reported acted on still reachable: the platform
    # owes a new final answer, by a new deadline.
    REOPENED = "reopened"
    WITHDRAWN = "withdrawn"
    WITHDRAWAL_ACKNOWLEDGED = "withdrawal_acknowledged"
    CLOSED = "closed"


class Side(StrEnum):
    AGENCY = "agency"
    PLATFORM = "platform"


OUTCOMES = frozenset(State(outcome.value) for outcome in FINAL_OUTCOMES)
UNACKNOWLEDGED = frozenset({State.SUBMITTED, State.DELIVERED})
IN_PROGRESS = frozenset({State.ACKNOWLEDGED, State.NEEDS_INFO, State.SUPPLEMENTED})
WITHDRAWING = frozenset({State.WITHDRAWN, State.WITHDRAWAL_ACKNOWLEDGED})
OPEN = frozenset(State) - {State.CLOSED}
# Where the platform still owes an answer, so that a deadline can be breached.
AWAITING_ACK = UNACKNOWLEDGED
AWAITING_ACTION = UNACKNOWLEDGED | IN_PROGRESS
RESPONDABLE = IN_PROGRESS | {State.PARTIALLY_ACTIONED, State.REOPENED}
# What an agency can verify: a reported action.
VERIFIABLE = frozenset({State.ACTIONED, State.PARTIALLY_ACTIONED})
# A refusal the platform may take back by acting after all (recorded as superseding it).
SUPERSEDABLE = frozenset({State.NOT_ACTIONED})


@dataclass(frozen=True, slots=True)
class _Handoff:
    """What a rule may need of the handoff besides its kind and side."""

    acknowledged_kind: str | None
    outcome: str | None
    reason_code: str | None
    verifies: bool
    reopens: bool


class TransitionError(ValueError):
    """The handoff is not allowed from this side in this state; the message says why."""


def after_delivery(state: State) -> State:
    """The first fetch of a case by the platform moves it from submitted to delivered."""
    return State.DELIVERED if state == State.SUBMITTED else state


def transition(
    state: State | None,
    kind: str,
    side: Side,
    *,
    acknowledged_kind: str | None = None,
    outcome: str | None = None,
    reason_code: str | None = None,
    verifies: bool = False,
    reopens: bool = False,
) -> State:
    """The state after a handoff of `kind` from `side`, or TransitionError.

    `acknowledged_kind` is the kind of the handoff a receipt acknowledges; `outcome` and
    `reason_code` are a response's; `verifies` says a supplement carries verification
    results, and `reopens` that one of them found an item still reachable.
    """
    if kind == Kind.CASE:
        if state is not None or side != Side.AGENCY:
            raise TransitionError("a case is opened once, by an agency")
        return State.SUBMITTED
    if state is None:
        raise TransitionError(f"a {kind} needs an existing case")
    if state == State.CLOSED:
        raise TransitionError("the case is closed")
    rule = _RULES.get((Kind(kind), side))
    if rule is None:
        raise TransitionError(f"the {side} side does not send a {kind}")
    return rule(state, _Handoff(acknowledged_kind, outcome, reason_code, verifies, reopens))


def _receipt(state: State, handoff: _Handoff) -> State:
    acknowledged = handoff.acknowledged_kind
    if acknowledged == Kind.CASE and state in UNACKNOWLEDGED:
        return State.ACKNOWLEDGED
    if acknowledged == Kind.WITHDRAWAL and state == State.WITHDRAWN:
        return State.WITHDRAWAL_ACKNOWLEDGED
    if acknowledged in (Kind.CASE, Kind.WITHDRAWAL):
        raise TransitionError(f"the {acknowledged} is already acknowledged or not pending")
    raise TransitionError("only the case and a withdrawal are acknowledged with a receipt")


def _platform_question(state: State, _handoff: _Handoff) -> State:
    if state in IN_PROGRESS:
        return State.NEEDS_INFO
    if state == State.REOPENED:
        return state
    raise TransitionError(f"the platform asks questions after acknowledging, not when {state}")


def _agency_question(state: State, _handoff: _Handoff) -> State:
    if state in IN_PROGRESS or state in OUTCOMES or state == State.REOPENED:
        return state
    raise TransitionError(f"the agency cannot ask a question when the case is {state}")


def _agency_supplement(state: State, handoff: _Handoff) -> State:
    if state in WITHDRAWING:
        raise TransitionError("a withdrawn case takes no supplements")
    if handoff.verifies:
        if state not in VERIFIABLE:
            raise TransitionError(f"a verification follows a reported action, not a case {state}")
        return State.REOPENED if handoff.reopens else state
    return State.SUPPLEMENTED if state == State.NEEDS_INFO else state


def _platform_supplement(state: State, handoff: _Handoff) -> State:
    if handoff.verifies:
        raise TransitionError("only the agency records verification results")
    if state in IN_PROGRESS or state in OUTCOMES or state == State.REOPENED:
        return state
    raise TransitionError(f"the platform cannot send information when the case is {state}")


def _response(state: State, handoff: _Handoff) -> State:
    outcome, reason_code = handoff.outcome, handoff.reason_code
    if state in WITHDRAWING:
        raise TransitionError("a withdrawn case cannot be answered")
    if outcome is None or outcome not in set(Outcome):
        raise TransitionError("a response needs its outcome")
    if state in RESPONDABLE:
        return State(outcome) if is_final(outcome, reason_code) else state
    if state in SUPERSEDABLE and outcome in ACTING_OUTCOMES:
        return State(outcome)
    if state in SUPERSEDABLE:
        raise TransitionError(f"a final {state} is superseded only by acting on the case")
    raise TransitionError(f"a response needs an acknowledged case, not one {state}")


def supersedes(state: State, new_state: State) -> bool:
    """Whether a response moving `state` to `new_state` takes back a final refusal."""
    return state in SUPERSEDABLE and new_state != state


def _withdrawal(state: State, _handoff: _Handoff) -> State:
    if state in WITHDRAWING:
        raise TransitionError("the case is already withdrawn")
    return State.WITHDRAWN


def _closure(state: State, _handoff: _Handoff) -> State:
    # The platform must acknowledge a withdrawal; closing first would let the agency
    # erase that obligation from the record.
    if state == State.WITHDRAWN:
        raise TransitionError("a withdrawn case closes after the platform acknowledged it")
    return State.CLOSED


def _assignment(state: State, _handoff: _Handoff) -> State:
    return state


_RULES = {
    (Kind.RECEIPT, Side.PLATFORM): _receipt,
    (Kind.QUESTION, Side.PLATFORM): _platform_question,
    (Kind.QUESTION, Side.AGENCY): _agency_question,
    (Kind.SUPPLEMENT, Side.AGENCY): _agency_supplement,
    (Kind.SUPPLEMENT, Side.PLATFORM): _platform_supplement,
    (Kind.RESPONSE, Side.PLATFORM): _response,
    (Kind.WITHDRAWAL, Side.AGENCY): _withdrawal,
    (Kind.CLOSURE, Side.AGENCY): _closure,
    (Kind.ASSIGNMENT, Side.PLATFORM): _assignment,
}
