"""Interim and final answers in the pure state machine."""

import pytest

from exchange.protocol.workflow import Side, State, TransitionError, supersedes, transition
from schemas.response import is_final


def respond(state: State, outcome: str, reason_code: str | None = None) -> State:
    return transition(state, "response", Side.PLATFORM, outcome=outcome, reason_code=reason_code)


@pytest.mark.parametrize("state", [State.ACKNOWLEDGED, State.NEEDS_INFO, State.SUPPLEMENTED])
@pytest.mark.parametrize(
    ("outcome", "reason_code"),
    [
        ("received", None),
        ("under_legal_review", None),
        ("needs_information", "insufficient_information"),
        ("not_actioned", "pending_legal_review"),
    ],
)
def test_an_interim_answer_changes_no_state(state, outcome, reason_code):
    assert not is_final(outcome, reason_code)
    assert respond(state, outcome, reason_code) == state


def test_an_interim_answer_after_a_partial_action_keeps_it():
    assert respond(State.PARTIALLY_ACTIONED, "under_legal_review") == State.PARTIALLY_ACTIONED


@pytest.mark.parametrize("state", [State.SUBMITTED, State.DELIVERED])
def test_even_an_interim_answer_needs_the_receipt_first(state):
    with pytest.raises(TransitionError, match=f"needs an acknowledged case, not one {state}"):
        respond(state, "received")


@pytest.mark.parametrize(
    ("outcome", "reason_code"),
    [
        ("actioned", None),
        ("partially_actioned", "pending_legal_review"),
        ("not_actioned", "not_illegal_in_jurisdiction"),
        ("unable_to_locate", "content_not_found"),
    ],
)
def test_a_final_answer_sets_its_outcome(outcome, reason_code):
    assert is_final(outcome, reason_code)
    assert respond(State.ACKNOWLEDGED, outcome, reason_code) == State(outcome)


@pytest.mark.parametrize("outcome", ["actioned", "partially_actioned"])
def test_a_refusal_is_superseded_by_acting(outcome):
    after = respond(State.NOT_ACTIONED, outcome)
    assert after == State(outcome)
    assert supersedes(State.NOT_ACTIONED, after)


@pytest.mark.parametrize(
    ("state", "outcome", "message"),
    [
        (State.NOT_ACTIONED, "unable_to_locate", "a final not_actioned is superseded only by"),
        (State.NOT_ACTIONED, "received", "a final not_actioned is superseded only by"),
        (State.ACTIONED, "not_actioned", "a response needs an acknowledged case, not one act"),
        (State.UNABLE_TO_LOCATE, "actioned", "a response needs an acknowledged case, not one un"),
        (State.WITHDRAWN, "received", "a withdrawn case cannot be answered"),
    ],
)
def test_a_final_answer_is_not_rewritten(state, outcome, message):
    with pytest.raises(TransitionError, match=message):
        respond(state, outcome, "other")


def test_only_taking_back_a_refusal_supersedes():
    assert not supersedes(State.ACKNOWLEDGED, State.ACTIONED)
    assert not supersedes(State.PARTIALLY_ACTIONED, State.ACTIONED)
