"""Every handoff the state machine refuses is a 409 invalid-transition that changes nothing."""

from dataclasses import dataclass, field
from typing import Any

import pytest

from exchange.protocol import envelope as env
from schemas.common import format_utc
from tests.exchange.api.support import (
    assert_problem,
    assignment,
    created,
    receipt,
    response_body,
    sealed_reply,
)
from tests.helpers.world import World, statement_of
from tests.schemas import examples

BODIES = {
    "question": examples.question_body,
    "supplement": examples.supplement_body,
    "response": response_body,
    "withdrawal": examples.withdrawal_body,
    "closure": examples.closure_body,
}
AGENCY, PLATFORM = "metro-police", "clipshare"


@dataclass
class Flow:
    """One case and the handoffs sent on it so far, newest last."""

    world: World
    case: env.Envelope
    sent: list[env.Envelope] = field(default_factory=list)

    @property
    def case_id(self) -> str:
        return statement_of(self.case)["case_id"]

    def send(self, sender_id: str, sealed: env.Envelope) -> None:
        created(self.world.officials[sender_id].send(sealed))
        self.sent.append(sealed)

    def handoff(self, sender_id: str, kind: str, answering: env.Envelope | None = None) -> Any:
        """A well-formed handoff of `kind` by `sender_id`, answering the case by default."""
        sender = self.world.officials[sender_id]
        answering = answering or self.case
        to = AGENCY if sender.org == PLATFORM else PLATFORM
        if kind == "receipt":
            return receipt(self.world, sender, answering, to)
        if kind == "assignment":
            return assignment(self.world, sender, answering, "cs-reviewer")
        return sealed_reply(self.world, sender, answering, kind, BODIES[kind](), to)

    def state(self) -> str:
        auditor = self.world.officials["auditor-1"]
        return auditor.get(f"/v1/cases/{self.case_id}").get_json()["state"]


def submitted(world: World) -> Flow:
    case = world.seal_case(world.officials["officer-1"], PLATFORM)
    flow = Flow(world, case)
    created(world.officials["officer-1"].send(case))
    return flow


def acknowledged(world: World) -> Flow:
    flow = submitted(world)
    flow.send("cs-reviewer", flow.handoff("cs-reviewer", "receipt"))
    return flow


def withdrawn(world: World) -> Flow:
    flow = submitted(world)
    flow.send("officer-1", flow.handoff("officer-1", "withdrawal"))
    return flow


def actioned(world: World) -> Flow:
    flow = acknowledged(world)
    flow.send("cs-reviewer", flow.handoff("cs-reviewer", "response"))
    return flow


def closed(world: World) -> Flow:
    flow = actioned(world)
    flow.send("officer-1", flow.handoff("officer-1", "closure", flow.sent[-1]))
    return flow


def refused(flow: Flow, sender_id: str, sealed: env.Envelope, state: str) -> dict[str, Any]:
    """The handoff is a 409 invalid-transition; the state and the log are unchanged."""
    world = flow.world
    before = world.log_size()
    problem = assert_problem(world.officials[sender_id].send(sealed), 409, "invalid-transition")
    assert problem["state"] == state
    assert problem["detail"]
    assert world.log_size() == before
    assert flow.state() == state
    return problem


def test_a_response_needs_an_acknowledged_case(world):
    flow = submitted(world)
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", "response"), "submitted")
    world.officials["cs-reviewer"].get("/v1/inbox")
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", "response"), "delivered")


def test_a_case_is_acknowledged_once(world):
    flow = acknowledged(world)
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", "receipt"), "acknowledged")
    # Not by the lead either: the case's receipt is the platform's, whoever sends it.
    refused(flow, "cs-lead", flow.handoff("cs-lead", "receipt"), "acknowledged")


def test_the_agency_does_not_acknowledge_its_own_case(world):
    flow = submitted(world)
    refused(flow, "officer-1", flow.handoff("officer-1", "receipt"), "submitted")


def test_only_a_case_or_a_withdrawal_is_acknowledged(world):
    flow = acknowledged(world)
    question = flow.handoff("cs-reviewer", "question")
    flow.send("cs-reviewer", question)
    supplement = flow.handoff("officer-1", "supplement", question)
    flow.send("officer-1", supplement)
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", "receipt", supplement), "supplemented")


def test_a_withdrawn_case_is_neither_answered_nor_supplemented(world):
    flow = withdrawn(world)
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", "response"), "withdrawn")
    refused(flow, "officer-1", flow.handoff("officer-1", "supplement"), "withdrawn")
    refused(flow, "officer-1", flow.handoff("officer-1", "withdrawal"), "withdrawn")
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", "question"), "withdrawn")
    # Its case was never acknowledged, and now cannot be: only the withdrawal can.
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", "receipt"), "withdrawn")


def test_an_acknowledged_withdrawal_is_not_acknowledged_again(world):
    flow = withdrawn(world)
    withdrawal = flow.sent[-1]
    flow.send("cs-reviewer", flow.handoff("cs-reviewer", "receipt", withdrawal))
    refused(
        flow,
        "cs-reviewer",
        flow.handoff("cs-reviewer", "receipt", withdrawal),
        "withdrawal_acknowledged",
    )


def test_a_withdrawn_case_closes_only_after_the_platform_acknowledged_it(world):
    flow = withdrawn(world)
    withdrawal = flow.sent[-1]
    refused(flow, "officer-1", flow.handoff("officer-1", "closure", withdrawal), "withdrawn")
    flow.send("cs-reviewer", flow.handoff("cs-reviewer", "receipt", withdrawal))
    flow.send("officer-1", flow.handoff("officer-1", "closure", flow.sent[-1]))


@pytest.mark.parametrize("kind", ["withdrawal", "closure"])
def test_the_platform_neither_withdraws_nor_closes(world, kind):
    flow = acknowledged(world)
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", kind), "acknowledged")


def test_the_agency_does_not_respond_to_its_own_case(world):
    flow = acknowledged(world)
    refused(flow, "officer-1", flow.handoff("officer-1", "response"), "acknowledged")


def test_questions_and_supplements_wait_for_the_acknowledgement(world):
    flow = submitted(world)
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", "question"), "submitted")
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", "supplement"), "submitted")
    refused(flow, "officer-1", flow.handoff("officer-1", "question"), "submitted")


def test_a_case_with_an_outcome_is_not_answered_twice_with_another(world):
    flow = actioned(world)
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", "response"), "actioned")
    refused(flow, "cs-reviewer", flow.handoff("cs-reviewer", "question"), "actioned")


@pytest.mark.parametrize(
    ("sender_id", "kind"),
    [
        ("officer-1", "question"),
        ("officer-1", "supplement"),
        ("officer-1", "withdrawal"),
        ("officer-1", "closure"),
        ("officer-1", "response"),
        ("officer-1", "receipt"),
        ("cs-reviewer", "receipt"),
        ("cs-reviewer", "question"),
        ("cs-reviewer", "supplement"),
        ("cs-reviewer", "response"),
        ("cs-reviewer", "withdrawal"),
        ("cs-reviewer", "closure"),
        ("cs-lead", "assignment"),
        ("cs-lead", "response"),
    ],
)
def test_nothing_happens_to_a_closed_case(world, sender_id, kind):
    flow = closed(world)
    refused(flow, sender_id, flow.handoff(sender_id, kind, flow.sent[-1]), "closed")


def test_a_platform_official_is_forbidden_to_assign(world):
    flow = submitted(world)
    before = world.log_size()
    sealed = flow.handoff("cs-reviewer", "assignment")
    assert_problem(world.officials["cs-reviewer"].send(sealed), 403, "forbidden")
    assert world.log_size() == before
    assert flow.state() == "submitted"


def test_a_closed_case_can_still_be_read(world):
    flow = closed(world)
    detail = world.officials["officer-1"].get(f"/v1/cases/{flow.case_id}").get_json()
    assert detail["state"] == "closed"
    assert detail["closed_at"] == format_utc(world.clock())
