"""The handoff service, called directly: a session, a clock, a policy and a caller.

No HTTP: the service is checked on its own, in the log's unit of work, against the real
database and real envelopes. Each kind of handoff is accepted from its side, changes the
case as the workflow says and appends exactly one entry, in the same transaction.
"""

from datetime import timedelta

import pytest
from sqlalchemy import text

from exchange import runtime
from exchange.errors import (
    CaseMismatchError,
    InvalidTransitionError,
    SenderMismatchError,
    WrongAddresseeError,
    WrongEndpointError,
)
from exchange.log import transaction
from exchange.protocol import envelope as env
from exchange.protocol.envelope import Envelope, Limits
from exchange.protocol.envelope.errors import UnknownSignerKeyError
from exchange.services import directory, handoffs
from exchange.services.caller import Caller
from exchange.storage.models import Case, Handoff
from schemas.enums import OrgKind
from tests.helpers.world import World, standard_world, statement_of
from tests.schemas import examples

POLICY = handoffs.Policy(
    skew=timedelta(minutes=5),
    limits=Limits(),
    deadlines={
        "urgent": (timedelta(hours=1), timedelta(hours=24)),
        "high": (timedelta(hours=4), timedelta(hours=72)),
        "normal": (timedelta(hours=24), timedelta(days=7)),
    },
)


@pytest.fixture
def world(app, client, clock) -> World:
    return standard_world(app, client, clock)


def caller(world: World, official_id: str) -> Caller:
    with world.app.app_context(), runtime.read() as session:
        person = world.officials[official_id]
        found = directory.active_caller(session, official_id, person.identity.signing_kid)
    assert found is not None
    return found


def accept(world: World, official_id: str, sealed: Envelope, case_id: str | None):
    """What a route does: check in a read transaction, accept in the unit of work."""
    who = caller(world, official_id)
    with world.app.app_context():
        db, signer = runtime.get_database(), runtime.server_keys().log
        with runtime.read() as session:
            checked = handoffs.check(session, POLICY, who, sealed, case_id)
        with transaction.write(db, signer) as session:
            result = handoffs.accept(session, world.clock(), POLICY, who, checked)
            return result.handoff.kind, result.handoff.state_after, result.replayed


def case_row(world: World, case_id: str) -> Case:
    with world.app.app_context(), runtime.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case


def opened(world: World):
    officer = world.officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")
    before = world.log_size()
    assert accept(world, "officer-1", sealed, None) == ("case", "submitted", False)
    case_id = statement_of(sealed)["case_id"]
    assert world.log_size() == before + 1
    return sealed, case_id


def test_a_case_opens_with_its_deadlines_and_one_entry(world, clock):
    sealed, case_id = opened(world)
    case = case_row(world, case_id)
    assert (case.state, case.platform_org, case.assignee_id) == (
        "submitted",
        "clipshare",
        "cs-reviewer",
    )
    assert case.ack_due_at - case.submitted_at == timedelta(hours=1)  # urgent, from POLICY
    assert case.action_due_at - case.submitted_at == timedelta(hours=24)
    entry = world.log_entries()[-1]
    assert (entry["event"], entry["case_id"], entry["statement"]) == (
        "case",
        case_id,
        sealed.statement,
    )


def test_a_byte_identical_repost_is_answered_as_the_first(world):
    sealed, _ = opened(world)
    size = world.log_size()
    assert accept(world, "officer-1", sealed, None) == ("case", "submitted", True)
    assert world.log_size() == size


def test_each_kind_moves_the_case_as_the_workflow_says(world):
    sealed, case_id = opened(world)
    reviewer, officer, lead = (world.officials[o] for o in ("cs-reviewer", "officer-1", "cs-lead"))
    case_handoff = statement_of(sealed)["handoff_id"]
    receipt = world.receipt(reviewer, case_id, sealed, "metro-police")
    assert accept(world, "cs-reviewer", receipt, case_id) == ("receipt", "acknowledged", False)
    question = world.reply(
        reviewer, case_id, "question", case_handoff, "metro-police", body=examples.question_body()
    )
    assert accept(world, "cs-reviewer", question, case_id) == ("question", "needs_info", False)
    supplement = world.reply(
        officer,
        case_id,
        "supplement",
        statement_of(question)["handoff_id"],
        "clipshare",
        body=examples.supplement_body(),
    )
    assert accept(world, "officer-1", supplement, case_id) == (
        "supplement",
        "supplemented",
        False,
    )
    assignment = world.reply(
        lead, case_id, "assignment", case_handoff, "clipshare", meta={"assignee": "cs-lead"}
    )
    assert accept(world, "cs-lead", assignment, case_id) == ("assignment", "supplemented", False)
    assert case_row(world, case_id).assignee_id == "cs-lead"
    response = world.reply(
        lead, case_id, "response", case_handoff, "metro-police", body=examples.response_body()
    )
    assert accept(world, "cs-lead", response, case_id) == ("response", "actioned", False)
    closure = world.reply(
        officer,
        case_id,
        "closure",
        statement_of(response)["handoff_id"],
        "clipshare",
        body=examples.closure_body(),
    )
    assert accept(world, "officer-1", closure, case_id) == ("closure", "closed", False)
    case = case_row(world, case_id)
    assert (case.state, case.outcome) == ("closed", "actioned")
    assert case.acknowledged_at is not None
    assert case.closed_at is not None
    events = [e["event"] for e in world.log_entries() if e["case_id"] == case_id]
    assert events == [
        "case",
        "receipt",
        "question",
        "supplement",
        "assignment",
        "response",
        "closure",
    ]


def test_a_withdrawal_waits_for_the_platforms_acknowledgement(world):
    sealed, case_id = opened(world)
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case_handoff = statement_of(sealed)["handoff_id"]
    withdrawal = world.reply(
        officer, case_id, "withdrawal", case_handoff, "clipshare", body=examples.withdrawal_body()
    )
    assert accept(world, "officer-1", withdrawal, case_id) == ("withdrawal", "withdrawn", False)
    closure = world.reply(
        officer, case_id, "closure", case_handoff, "clipshare", body=examples.closure_body()
    )
    with pytest.raises(InvalidTransitionError, match="after the platform acknowledged it"):
        accept(world, "officer-1", closure, case_id)
    receipt = world.receipt(reviewer, case_id, withdrawal, "metro-police")
    assert accept(world, "cs-reviewer", receipt, case_id) == (
        "receipt",
        "withdrawal_acknowledged",
        False,
    )


def test_refusals_change_nothing(world):
    sealed, case_id = opened(world)
    size = world.log_size()
    reviewer = world.officials["cs-reviewer"]
    receipt = world.receipt(reviewer, case_id, sealed, "metro-police")
    # The signature is checked with the caller's own keys before anything else.
    with pytest.raises(UnknownSignerKeyError, match="not a key of the sender"):
        accept(world, "cs-lead", receipt, case_id)
    # Signed with the reviewer's own key, but naming the lead as its sender.
    fields = statement_of(receipt)
    fields["sender"] = {**fields["sender"], "official": "cs-lead"}
    del fields["typ"], fields["jwe_sha256"], fields["record_sha256"]
    forged = env.sign_statement(fields, reviewer.identity.signing_key)
    with pytest.raises(SenderMismatchError):
        accept(world, "cs-reviewer", forged, case_id)
    with pytest.raises(WrongEndpointError, match="POST /v1/cases/"):
        accept(world, "cs-reviewer", receipt, None)
    with pytest.raises(CaseMismatchError):
        accept(world, "cs-reviewer", receipt, "00000000-0000-4000-8000-000000000000")
    wrong_to = world.reply(
        reviewer,
        case_id,
        "question",
        statement_of(sealed)["handoff_id"],
        "helpline",
        body=examples.question_body(),
    )
    with pytest.raises(WrongAddresseeError):
        accept(world, "cs-reviewer", wrong_to, case_id)
    assert world.log_size() == size
    with world.app.app_context(), runtime.read() as session:
        assert session.get(Handoff, statement_of(receipt)["handoff_id"]) is None
    assert case_row(world, case_id).state == "submitted"


def test_callers_are_the_directory_s(world):
    assert caller(world, "cs-lead").org_kind == OrgKind.PLATFORM


def checked_then_accepted(world: World, official_id: str, sealed: Envelope, meanwhile) -> Case:
    """A new case checked, `meanwhile` run (a directory change another request commits),
    then accepted: the case as it was opened."""
    who = caller(world, official_id)
    with world.app.app_context():
        db, signer = runtime.get_database(), runtime.server_keys().log
        with runtime.read() as session:
            checked = handoffs.check(session, POLICY, who, sealed, None)
        assert checked.opening is not None
        assert checked.opening.assignee_id == "cs-reviewer"
    meanwhile()
    with world.app.app_context(), transaction.write(db, signer) as session:
        handoffs.accept(session, world.clock(), POLICY, who, checked)
    return case_row(world, statement_of(sealed)["case_id"])


def test_a_route_changed_after_the_check_is_read_again_under_the_lock(world):
    sealed = world.seal_case(world.officials["officer-1"], "clipshare")
    case = checked_then_accepted(
        world,
        "officer-1",
        sealed,
        lambda: world.route("clipshare", "sexual_deepfake", "cs-lead"),
    )
    assert case.assignee_id == "cs-lead"
    entry = world.log_entries()[-1]
    assert (entry["event"], entry["details"]["assignee"]) == ("case", "cs-lead")


def test_a_signing_key_revoked_after_the_check_refuses_the_case(world):
    officer = world.officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")
    size = world.log_size()
    with pytest.raises(UnknownSignerKeyError, match="no longer active"):
        checked_then_accepted(
            world,
            "officer-1",
            sealed,
            lambda: world.revoke_by_operator(officer.identity.signing_kid),
        )
    assert [entry["event"] for entry in world.log_entries(size)] == ["key_revoked"]
    with world.app.app_context(), runtime.read() as session:
        assert session.get(Case, statement_of(sealed)["case_id"]) is None


def test_a_platform_deactivated_after_the_check_is_no_longer_addressed(world):
    sealed = world.seal_case(world.officials["officer-1"], "clipshare")

    def deactivate_platform() -> None:
        with world.app.app_context(), runtime.write() as session:
            session.execute(text("UPDATE organisations SET active = false WHERE id = 'clipshare'"))

    size = world.log_size()
    with pytest.raises(WrongAddresseeError, match="exactly one active platform"):
        checked_then_accepted(world, "officer-1", sealed, deactivate_platform)
    assert world.log_size() == size
