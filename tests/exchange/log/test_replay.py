"""The log's meaning, replayed: keys valid at each index, and every case's state machine.

These entries are appended with `exchange.log.append.append` inside a write transaction, so the
server's own key signs a checkpoint over them: an operator who can sign, or a compromised
server, writing what the API would refuse. The checkpoints verify; the auditor must still
refuse the entry, and name it.
"""

from __future__ import annotations

import json

import pytest

from exchange import log, runtime
from exchange.auditor import (
    CaseReplayError,
    KeyEventError,
    ReplayedTransitionError,
    SignerKeyError,
    verify_log,
)
from exchange.client import authoring
from exchange.log import Actor
from exchange.protocol import envelope as env
from exchange.protocol import key_management
from exchange.protocol.events import Event
from keys import Identity, b64url_decode
from tests.exchange.log.helpers import bundle_from_database
from tests.helpers.world import Official, World, statement_of
from tests.schemas import examples


def audit_log(exchange, path):
    bundle = bundle_from_database(f"sqlite:///{path}")
    return verify_log(
        bundle.entries,
        bundle.checkpoint,
        [exchange.verifier_key],
        bundle.origin,
        witnesses=bundle.checkpoints,
    )


def forge(world: World, sealed, signer: Official, kid: str, details: dict) -> int:
    """Append a handoff entry as the server would, without any of the server's checks."""
    payload = statement_of(sealed)
    with world.app.app_context(), runtime.write() as session:
        appended = log.append(
            session,
            Event(payload["kind"]),
            world.clock(),
            actor=Actor(signer.org, signer.id, kid),
            case_id=payload["case_id"],
            handoff_id=payload["handoff_id"],
            statement=sealed.statement,
            jwe_sha256=payload["jwe_sha256"],
            details=details,
        )
    return appended.index


def logged(exchange, path, event):
    bundle = bundle_from_database(f"sqlite:///{path}")
    return [json.loads(e) for e in bundle.entries if json.loads(e)["event"] == event]


@pytest.fixture
def live(exchange, tmp_path):
    """The exchange over a copy of its database: a world that can keep working."""
    path = exchange.copy(tmp_path / "exchange.storage.database")
    world = exchange.reopen(path)
    yield world, path
    with world.app.app_context():
        runtime.get_database().engine.dispose()


def case_payload(exchange, path, number=0):
    return json.loads(statements_of(logged(exchange, path, "case")[number]["statement"]))


def statements_of(token: str) -> bytes:
    from keys import b64url_decode

    return b64url_decode(token.split(".")[1])


# --- the state machine ----------------------------------------------------------------------


def test_a_response_to_a_closed_case_is_an_invalid_transition(exchange, live):
    world, path = live
    case = case_payload(exchange, path)
    reviewer = world.officials["cs-reviewer"]
    response = world.reply(
        reviewer,
        case["case_id"],
        "response",
        case["handoff_id"],
        "metro-police",
        body=examples.response_body(),
    )
    index = forge(
        world,
        response,
        reviewer,
        reviewer.identity.signing_kid,
        {"to": ["metro-police"], "state": "actioned"},
    )
    with pytest.raises(ReplayedTransitionError) as caught:
        audit_log(exchange, path)
    assert caught.value.index == index
    assert "the case is closed" in caught.value.reason


def test_a_response_before_the_receipt_is_an_invalid_transition(exchange, live):
    world, path = live
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    sealed, response = world.submit(officer, "clipshare")
    assert response.status_code == 201, response.get_json()
    case = statement_of(sealed)
    answer = world.reply(
        reviewer,
        case["case_id"],
        "response",
        case["handoff_id"],
        "metro-police",
        body=examples.response_body(),
    )
    index = forge(
        world,
        answer,
        reviewer,
        reviewer.identity.signing_kid,
        {"to": ["metro-police"], "state": "actioned"},
    )
    with pytest.raises(ReplayedTransitionError) as caught:
        audit_log(exchange, path)
    assert caught.value.index == index
    assert "needs an acknowledged case" in caught.value.reason


def test_a_logged_state_that_is_not_the_replayed_one_is_named(exchange, live):
    world, path = live
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    sealed, response = world.submit(officer, "clipshare")
    assert response.status_code == 201
    case = statement_of(sealed)
    receipt = world.receipt(reviewer, case["case_id"], sealed, "metro-police")
    index = forge(
        world,
        receipt,
        reviewer,
        reviewer.identity.signing_kid,
        {"to": ["metro-police"], "state": "actioned"},
    )
    with pytest.raises(CaseReplayError) as caught:
        audit_log(exchange, path)
    assert caught.value.index == index
    assert "records state 'actioned', the replay gives acknowledged" in caught.value.reason


def test_a_handoff_from_outside_the_case_is_named(exchange, live):
    world, path = live
    officer, other = world.officials["officer-1"], world.officials["ch-reviewer"]
    sealed, response = world.submit(officer, "clipshare")
    assert response.status_code == 201
    case = statement_of(sealed)
    receipt = world.receipt(other, case["case_id"], sealed, "metro-police")
    index = forge(
        world,
        receipt,
        other,
        other.identity.signing_kid,
        {"to": ["metro-police"], "state": "acknowledged"},
    )
    with pytest.raises(CaseReplayError) as caught:
        audit_log(exchange, path)
    assert caught.value.index == index
    assert "chatter (platform_official) is not a party of this case" in caught.value.reason


# --- keys valid at each index --------------------------------------------------------------


def rotate(world: World, person: Official) -> tuple[Identity, int]:
    """Rotate the person's keys through the API; return their old identity and the index."""
    new = Identity.generate()
    statement, proof = authoring.rotation(
        person.identity.signing_key, new, person.org, person.id, world.clock()
    )
    response = person.post("/v1/keys/rotate", {"statement": statement, "proof": proof})
    assert response.status_code == 201, response.get_json()
    old, person.identity, person.token = person.identity, new, None
    return old, response.get_json()["log"]["index"]


def test_a_statement_by_a_key_retired_before_it_is_named(exchange, live):
    world, path = live
    officer = world.officials["officer-1"]
    old, rotated_at = rotate(world, officer)
    # Everything the old key signed before the rotation still verifies.
    assert audit_log(exchange, path).entries == rotated_at + 1
    record = world.case_record(officer, "clipshare")
    record["sender"]["kid"] = old.signing_kid
    sealed = env.seal(record, old.signing_key, world.keys_of("clipshare", "metro-police"))
    index = forge(
        world,
        sealed,
        officer,
        old.signing_kid,
        {"to": ["clipshare"], "state": "submitted"},
    )
    with pytest.raises(SignerKeyError) as caught:
        audit_log(exchange, path)
    assert caught.value.index == index
    assert (
        f"key {old.signing_kid} of officer-1 was retired at entry {rotated_at}"
        in caught.value.reason
    )


def test_a_statement_by_a_key_after_its_revocation_is_named(exchange, live):
    world, path = live
    officer = world.officials["officer-2"]
    # Before the revocation, officer-2's key signs a case that the auditor accepts.
    _, response = world.submit(officer, "clipshare")
    assert response.status_code == 201, response.get_json()
    kid = officer.identity.signing_kid
    revocation = authoring.revocation(
        officer.identity.signing_key, officer.org, officer.id, kid, "compromised", world.clock()
    )
    response = officer.post(f"/v1/keys/{kid}/revoke", {"statement": revocation})
    assert response.status_code == 201, response.get_json()
    revoked_at = response.get_json()["log"]["index"]
    assert audit_log(exchange, path).entries == revoked_at + 1
    record = world.case_record(officer, "clipshare")
    late = env.seal(
        record, officer.identity.signing_key, world.keys_of("clipshare", "metro-police")
    )
    index = forge(world, late, officer, kid, {"to": ["clipshare"], "state": "submitted"})
    with pytest.raises(SignerKeyError) as caught:
        audit_log(exchange, path)
    assert caught.value.index == index
    assert f"was revoked at entry {revoked_at}" in caught.value.reason


def test_a_statement_after_the_official_was_deactivated_is_named(exchange, live):
    world, path = live
    officer = world.officials["officer-2"]
    world.deactivate("officer-2")
    deactivated_at = audit_log(exchange, path).entries - 1
    record = world.case_record(officer, "clipshare")
    late = env.seal(
        record, officer.identity.signing_key, world.keys_of("clipshare", "metro-police")
    )
    index = forge(
        world,
        late,
        officer,
        officer.identity.signing_kid,
        {"to": ["clipshare"], "state": "submitted"},
    )
    with pytest.raises(SignerKeyError) as caught:
        audit_log(exchange, path)
    assert caught.value.index == index
    assert f"officer-2 was deactivated at entry {deactivated_at}" in caught.value.reason


def test_a_rotation_whose_proof_is_not_by_the_new_key_is_named(exchange, live):
    world, path = live
    officer = world.officials["officer-1"]
    new, impostor = Identity.generate(), Identity.generate()
    statement, _ = authoring.rotation(
        officer.identity.signing_key, new, officer.org, officer.id, world.clock()
    )
    payload = json.loads(b64url_decode(statement.split(".")[1]))
    bad_proof = key_management.sign(payload, impostor.signing_key)
    with world.app.app_context(), runtime.write() as session:
        appended = log.append(
            session,
            Event.KEY_ROTATED,
            world.clock(),
            actor=Actor(officer.org, officer.id, officer.identity.signing_kid),
            statement=statement,
            details={
                "keys": payload["jwks"]["keys"],
                "retired": sorted([officer.identity.signing_kid, officer.identity.encryption_kid]),
                "proof": bad_proof,
            },
        )
    with pytest.raises(KeyEventError) as caught:
        audit_log(exchange, path)
    assert caught.value.index == appended.index
    assert "the proof of the new key does not verify" in caught.value.reason
