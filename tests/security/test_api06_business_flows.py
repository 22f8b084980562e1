"""API6:2023 Unrestricted Access to Sensitive Business Flows: the workflow cannot be gamed.

Already covered in tests/exchange/api/test_transitions.py, and not repeated here: the
agency does not acknowledge its own case (::test_the_agency_does_not_acknowledge_its_own_case),
a withdrawn case is neither answered nor supplemented (::test_a_withdrawn_case_is_neither_
answered_nor_supplemented), the platform neither withdraws nor closes
(::test_the_platform_neither_withdraws_nor_closes), a closed case accepts nothing
(::test_nothing_happens_to_a_closed_case); and a receipt binding another record
(test_problems.py::test_a_receipt_binds_the_record_the_sender_signed). This module adds
the ways around those rules an insider would try: a colleague acknowledging for the
agency, a lead answering a withdrawn case, a withdrawal acknowledged with the case's
digest, a platform acknowledging its own question, a response after the withdrawal was
acknowledged, and an answer posted twice under new ids.
"""

from tests.exchange.api.support import (
    assert_problem,
    created,
    receipt,
    response_body,
    sealed_reply,
    submit,
)
from tests.helpers.world import statement_of
from tests.schemas import examples
from tests.security.support import signed_in, unchanged


def test_a_colleague_cannot_acknowledge_for_the_agency(world):
    officer = world.officials["officer-1"]
    case, _ = submit(world, officer)
    colleague = signed_in(world).officials["officer-2"]
    with unchanged(world):
        problem = assert_problem(
            colleague.send(receipt(world, colleague, case, "clipshare")), 409, "invalid-transition"
        )
    assert problem["state"] == "submitted"


def test_the_lead_cannot_answer_a_withdrawn_case_either(world):
    officer, lead = world.officials["officer-1"], world.officials["cs-lead"]
    case, _ = submit(world, officer)
    created(lead.send(receipt(world, lead, case, "metro-police")))
    withdrawal = sealed_reply(
        world, officer, case, "withdrawal", examples.withdrawal_body(), "clipshare"
    )
    created(officer.send(withdrawal))
    signed_in(world)
    for answering in (case, withdrawal):
        answer = sealed_reply(world, lead, answering, "response", response_body(), "metro-police")
        with unchanged(world):
            assert_problem(lead.send(answer), 409, "invalid-transition")


def test_a_withdrawal_is_acknowledged_with_its_own_digest(world):
    """Acknowledging the withdrawal with the digest of the case (or any other record) is
    refused: a receipt binds exactly the record it acknowledges."""
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, case_statement = submit(world, officer)
    withdrawal = sealed_reply(
        world, officer, case, "withdrawal", examples.withdrawal_body(), "clipshare"
    )
    created(officer.send(withdrawal))
    fields = statement_of(withdrawal)
    ack = world.reply(
        reviewer,
        fields["case_id"],
        "receipt",
        fields["handoff_id"],
        "metro-police",
        meta={
            "handoff_id": fields["handoff_id"],
            "record_sha256": case_statement["record_sha256"],
            "received_at": fields["issued_at"],
        },
    )
    signed_in(world)
    with unchanged(world):
        problem = assert_problem(reviewer.send(ack), 422, "receipt-digest-mismatch")
    assert problem["expected"] == fields["record_sha256"]
    created(reviewer.send(receipt(world, reviewer, withdrawal, "metro-police")))


def test_a_platform_does_not_acknowledge_its_own_question(world):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, _ = submit(world, officer)
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    question = sealed_reply(
        world, reviewer, case, "question", examples.question_body(), "metro-police"
    )
    created(reviewer.send(question))
    signed_in(world)
    with unchanged(world):
        # Addressed to the agency as a receipt must be; acknowledging its own handoff.
        problem = assert_problem(
            reviewer.send(receipt(world, reviewer, question, "metro-police")),
            409,
            "invalid-transition",
        )
    assert problem["state"] == "needs_info"


def test_nothing_is_answered_after_the_withdrawal_is_acknowledged(world):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, _ = submit(world, officer)
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    withdrawal = sealed_reply(
        world, officer, case, "withdrawal", examples.withdrawal_body(), "clipshare"
    )
    created(officer.send(withdrawal))
    created(reviewer.send(receipt(world, reviewer, withdrawal, "metro-police")))
    signed_in(world)
    for kind, body in (
        ("response", response_body()),
        ("question", examples.question_body()),
    ):
        answer = sealed_reply(world, reviewer, withdrawal, kind, body, "metro-police")
        with unchanged(world):
            problem = assert_problem(reviewer.send(answer), 409, "invalid-transition")
        assert problem["state"] == "withdrawal_acknowledged"


def test_an_outcome_is_not_rewritten_under_a_new_handoff_id(world):
    """A platform that answered `not_actioned` may take it back only by acting, on record
    (the entry says what it supersedes); it cannot turn a refusal into another refusal,
    nor an action back into a refusal."""
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, _ = submit(world, officer)
    created(reviewer.send(receipt(world, reviewer, case, "metro-police")))
    first = sealed_reply(
        world, reviewer, case, "response", response_body("not_actioned"), "metro-police"
    )
    created(reviewer.send(first))
    signed_in(world)
    other_refusal = sealed_reply(
        world, reviewer, case, "response", response_body("unable_to_locate"), "metro-police"
    )
    with unchanged(world):
        problem = assert_problem(reviewer.send(other_refusal), 409, "invalid-transition")
    assert problem["state"] == "not_actioned"
    second = sealed_reply(world, reviewer, case, "response", response_body(), "metro-police")
    before = world.log_size()
    created(reviewer.send(second))
    [entry] = [e for e in world.log_entries(before) if e["event"] == "response"]
    assert entry["details"] == {
        "to": ["metro-police"],
        "state": "actioned",
        "supersedes": "not_actioned",
    }
    back = sealed_reply(
        world, reviewer, case, "response", response_body("not_actioned"), "metro-police"
    )
    with unchanged(world):
        problem = assert_problem(reviewer.send(back), 409, "invalid-transition")
    assert problem["state"] == "actioned"
