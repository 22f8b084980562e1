"""Retries are safe: the same envelope gets the same answer; other content under a taken
identifier is a 409 that names the case (when the caller may see it)."""

import json

from exchange.protocol import envelope as env
from schemas.common import format_utc
from tests.exchange.api.support import (
    assert_problem,
    assignment,
    created,
    receipt,
    submit,
)
from tests.helpers.world import World, statement_of


def post_bytes(person, path: str, data: bytes):
    return person.client.post(
        path, data=data, headers={**person.headers(), "Content-Type": "application/json"}
    )


def reseal_with(world: World, sender, record_changes: dict, **body_changes) -> env.Envelope:
    record = world.case_record(sender, "clipshare", **body_changes)
    record.update(record_changes)
    return env.seal(record, sender.identity.signing_key, world.keys_of("clipshare", sender.org))


def test_a_reposted_case_gets_the_original_answer_byte_for_byte(world, clock):
    officer = world.officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")
    data = json.dumps(sealed.to_json()).encode()
    first = post_bytes(officer, "/v1/cases", data)
    assert first.status_code == 201
    # Time passes (beyond the allowed skew) and the log grows; the retry still matches.
    clock.advance(hours=2)
    world.officials["cs-reviewer"].get("/v1/inbox")
    before = world.log_size()
    again = post_bytes(officer, "/v1/cases", data)
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.data == first.data
    assert world.log_size() == before
    # The same envelope spelled with other whitespace is the same envelope.
    spaced = json.dumps(sealed.to_json(), indent=2).encode()
    assert post_bytes(officer, "/v1/cases", spaced).get_json() == first.get_json()
    assert world.log_size() == before


def test_a_reposted_receipt_gets_the_original_answer(world):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, _ = submit(world, officer)
    ack = receipt(world, reviewer, case, "metro-police")
    first = created(reviewer.send(ack))
    before = world.log_size()
    assert created(reviewer.send(ack)) == first
    assert world.log_size() == before
    # The original answer, even though a second receipt would now be refused.
    assert first["state"] == "acknowledged"


def test_the_same_handoff_id_with_other_content_conflicts(world, clock):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, statement = submit(world, officer)
    before = world.log_size()
    # A new case under the same handoff_id.
    other = reseal_with(world, officer, {"handoff_id": statement["handoff_id"]})
    problem = assert_problem(officer.send(other), 409, "handoff-conflict")
    assert problem["case_id"] == statement["case_id"]
    # A receipt under the handoff_id of the case.
    ack = receipt(world, reviewer, case, "metro-police")
    fields = statement_of(ack)
    created(reviewer.send(ack))
    clock.advance(seconds=1)
    changed = world.reply(
        reviewer,
        fields["case_id"],
        "receipt",
        fields["in_reply_to"],
        "metro-police",
        meta={**fields["meta"], "received_at": format_utc(clock())},
        handoff_id=fields["handoff_id"],
    )
    before = world.log_size()
    problem = assert_problem(reviewer.send(changed), 409, "handoff-conflict")
    assert problem["case_id"] == statement["case_id"]
    assert world.log_size() == before


def test_the_same_case_id_is_a_conflict(world):
    officer = world.officials["officer-1"]
    _, statement = submit(world, officer)
    before = world.log_size()
    again = reseal_with(world, officer, {"case_id": statement["case_id"]})
    problem = assert_problem(officer.send(again), 409, "case-exists")
    assert problem["case_id"] == statement["case_id"]
    assert world.log_size() == before


def test_the_same_issuer_case_ref_is_a_conflict_naming_the_existing_case(world):
    officer, colleague = world.officials["officer-1"], world.officials["officer-2"]
    _, statement = submit(world, officer, issuer_case_ref="MCU/2026/000417")
    before = world.log_size()
    # A colleague files the same reference again, as a new case.
    again = reseal_with(world, colleague, {}, issuer_case_ref="MCU/2026/000417")
    problem = assert_problem(colleague.send(again), 409, "case-exists")
    assert problem["case_id"] == statement["case_id"]
    assert "MCU/2026/000417" in problem["detail"]
    assert world.log_size() == before
    # References are the agency's own: another agency may use the same one.
    helpline = world.officials["caseworker-1"]
    created(helpline.send(reseal_with(world, helpline, {}, issuer_case_ref="MCU/2026/000417")))


def test_a_handoff_id_of_a_case_the_caller_may_not_see_names_no_case(world):
    _, statement = submit(world, world.officials["officer-1"])
    stranger = world.officials["caseworker-1"]
    before = world.log_size()
    copied = reseal_with(world, stranger, {"handoff_id": statement["handoff_id"]})
    problem = assert_problem(stranger.send(copied), 409, "handoff-conflict")
    assert "case_id" not in problem
    assert statement["case_id"] not in json.dumps(problem)
    assert world.log_size() == before


def test_a_replay_after_losing_sight_of_the_case_is_a_404(world):
    officer, reviewer, lead = (
        world.officials["officer-1"],
        world.officials["cs-reviewer"],
        world.officials["cs-lead"],
    )
    case, _ = submit(world, officer)
    ack = receipt(world, reviewer, case, "metro-police")
    created(reviewer.send(ack))
    created(lead.send(assignment(world, lead, case, "cs-lead")))
    assert_problem(reviewer.send(ack), 404, "not-found")


def test_a_colleague_cannot_replay_someone_elses_envelope(world):
    officer, colleague = world.officials["officer-1"], world.officials["officer-2"]
    case, _ = submit(world, officer)
    before = world.log_size()
    # Signed by officer-1's key, which is not one of officer-2's.
    assert_problem(colleague.send(case), 422, "envelope-unknown-signer-key")
    assert world.log_size() == before
