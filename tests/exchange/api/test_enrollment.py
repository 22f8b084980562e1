"""Enrollment with one-time codes, key rotation and revocation: each on record, each proven."""

from datetime import timedelta
from typing import Any

import pytest

from exchange import runtime
from exchange.client import authoring
from exchange.errors import KeyRegistrationError, NotFoundError
from exchange.protocol import key_management
from exchange.protocol.key_management import code_sha256
from exchange.services import enrollment
from keys import Identity
from schemas.common import format_utc
from schemas.keys import ENROLLMENT_TYP, ROTATION_TYP
from tests.exchange.api.support import assert_problem, created, submit
from tests.exchange.api.test_auth import assertion, token_request
from tests.helpers.world import Official, World


def enroll_request(
    world: World,
    code: str,
    identity: Identity,
    org_id: str,
    official_id: str,
    changes: dict[str, Any] | None = None,
    signer: Any = None,
) -> dict[str, Any]:
    """An enrollment body, its statement signed by the new key unless `signer` is given."""
    payload = {
        "typ": ENROLLMENT_TYP,
        "org": org_id,
        "official": official_id,
        "code_sha256": code_sha256(code),
        "jwks": identity.public_jwks(),
        "issued_at": format_utc(world.clock()),
        **(changes or {}),
    }
    return {"code": code, "statement": key_management.sign(payload, signer or identity.signing_key)}


def enroll(world: World, body: dict[str, Any]) -> Any:
    return world.client.post("/v1/enroll", json=body)


def test_enrollment_registers_the_keys_and_puts_them_on_record(world, client, clock):
    code = world.invite("clipshare", "cs-night", "platform_official", title="Night shift")
    identity = Identity.generate()
    statement = authoring.enrollment(identity, "clipshare", "cs-night", code_sha256(code), clock())
    before = world.log_size()
    response = client.post("/v1/enroll", json={"code": code, "statement": statement})
    body = created(response)
    assert body["official"] == "cs-night"
    assert body["org"] == "clipshare"
    assert body["role"] == "platform_official"
    assert [k["kid"] for k in body["keys"]] == [identity.signing_kid, identity.encryption_kid]
    assert body["token_endpoint"] == "http://hotline.test/v1/token"
    assert body["log_origin"] == "hotline-exchange.local/log"
    assert body["log_verifier_key"].startswith("hotline-exchange.local/log+")
    assert body["log"]["index"] == before
    [entry] = world.log_entries(before)
    assert entry["event"] == "official_enrolled"
    assert entry["actor"] == {
        "org": "clipshare",
        "official": "cs-night",
        "kid": identity.signing_kid,
    }
    assert entry["statement"] == statement
    assert entry["details"] == {
        "keys": identity.public_jwks()["keys"],
        "retired": [],
        "role": "platform_official",
    }
    # The new official is in the directory and can log in.
    person = Official(world, "clipshare", "cs-night", "platform_official", identity)
    listed = person.get("/v1/orgs/clipshare/officials").get_json()["officials"]
    assert {"id": "cs-night", "enrolled": True, "title": "Night shift"}.items() <= next(
        o for o in listed if o["id"] == "cs-night"
    ).items()


def test_a_code_enrolls_once(world, client):
    code = world.invite("metro-police", "officer-3", "agency_officer")
    first = Identity.generate()
    created(enroll(world, enroll_request(world, code, first, "metro-police", "officer-3")))
    before = world.log_size()
    second = Identity.generate()
    response = enroll(world, enroll_request(world, code, second, "metro-police", "officer-3"))
    assert_problem(response, 403, "enrollment-code-invalid")
    assert world.log_size() == before


def test_a_code_expires(world, client, clock):
    code = world.invite("metro-police", "officer-3", "agency_officer")
    clock.advance(hours=72)
    body = enroll_request(world, code, Identity.generate(), "metro-police", "officer-3")
    assert_problem(enroll(world, body), 403, "enrollment-code-invalid")


def test_an_unknown_code_is_refused_like_a_used_one(world):
    body = enroll_request(world, "AAAAA-BBBBB-CCCCC", Identity.generate(), "metro-police", "x")
    assert_problem(enroll(world, body), 403, "enrollment-code-invalid")


def test_codes_are_typed_by_people(world):
    code = world.invite("metro-police", "officer-3", "agency_officer")
    sloppy = code.lower().replace("-", " ")
    created(
        enroll(
            world, enroll_request(world, sloppy, Identity.generate(), "metro-police", "officer-3")
        )
    )


def test_a_new_invitation_voids_the_old_code(world):
    old = world.invite("metro-police", "officer-3", "agency_officer")
    new = world.invite("metro-police", "officer-3", "agency_officer")
    body = enroll_request(world, old, Identity.generate(), "metro-police", "officer-3")
    assert_problem(enroll(world, body), 403, "enrollment-code-invalid")
    created(
        enroll(world, enroll_request(world, new, Identity.generate(), "metro-police", "officer-3"))
    )


def test_a_deactivated_invitee_cannot_enroll(world):
    code = world.invite("metro-police", "officer-3", "agency_officer")
    world.deactivate("officer-3")
    body = enroll_request(world, code, Identity.generate(), "metro-police", "officer-3")
    assert_problem(enroll(world, body), 403, "enrollment-code-invalid")


@pytest.mark.parametrize(
    "change",
    [
        "another official",
        "another organisation",
        "another code",
        "signed by another key",
        "signed by the encryption key's claimed kid",
        "keys already registered",
        "jwks not an object",
        "jwks with a stray member",
        "jwks key with a wrong kid",
        "encryption key first",
        "statement of another type",
    ],
)
def test_an_enrollment_statement_must_be_right_and_proven(world, change):
    code = world.invite("metro-police", "officer-3", "agency_officer")
    identity = Identity.generate()
    jwks = identity.public_jwks()
    changes: dict[str, Any] = {}
    signer = None
    if change == "another official":
        changes["official"] = "officer-1"
    elif change == "another organisation":
        changes["org"] = "helpline"
    elif change == "another code":
        changes["code_sha256"] = code_sha256("ZZZZZ-ZZZZZ")
    elif change == "signed by another key":
        signer = Identity.generate().signing_key
    elif change == "signed by the encryption key's claimed kid":
        changes["jwks"] = {"keys": [jwks["keys"][1], jwks["keys"][0]]}
    elif change == "keys already registered":
        identity = world.officials["officer-1"].identity
        changes["jwks"] = identity.public_jwks()
    elif change == "jwks not an object":
        changes["jwks"] = [jwks]
    elif change == "jwks with a stray member":
        changes["jwks"] = {"keys": [{**jwks["keys"][0], "d": "AAAA"}, jwks["keys"][1]]}
    elif change == "jwks key with a wrong kid":
        other = Identity.generate().public_jwks()["keys"][0]["kid"]
        changes["jwks"] = {"keys": [{**jwks["keys"][0], "kid": other}, jwks["keys"][1]]}
    elif change == "encryption key first":
        changes["jwks"] = {"keys": [jwks["keys"][1], jwks["keys"][0]]}
    elif change == "statement of another type":
        changes["typ"] = ROTATION_TYP
    body = enroll_request(world, code, identity, "metro-police", "officer-3", changes, signer)
    before = world.log_size()
    assert_problem(enroll(world, body), 422, "invalid-keys")
    assert world.log_size() == before
    # The code is still good for a proper enrollment.
    created(
        enroll(world, enroll_request(world, code, Identity.generate(), "metro-police", "officer-3"))
    )


def test_an_enrollment_statement_from_another_time_is_refused(world, clock):
    code = world.invite("metro-police", "officer-3", "agency_officer")
    identity = Identity.generate()
    stale = format_utc(clock() - timedelta(hours=1))
    body = enroll_request(world, code, identity, "metro-police", "officer-3", {"issued_at": stale})
    problem = assert_problem(enroll(world, body), 422, "clock-skew")
    assert problem["server_time"]


def test_an_enrollment_body_is_checked_first(world):
    problem = assert_problem(
        world.client.post("/v1/enroll", json={"code": "x", "statement": "not a jws"}),
        422,
        "validation-failed",
    )
    assert set(problem["errors"]) == {"statement"}


# --- rotation ----------------------------------------------------------------------------------


def rotate(world: World, person: Official, new: Identity, **kwargs: Any) -> Any:
    statement, proof = authoring.rotation(
        kwargs.pop("signer", person.identity.signing_key),
        new,
        kwargs.pop("org", person.org),
        kwargs.pop("official", person.id),
        world.clock(),
    )
    body = {"statement": statement, "proof": kwargs.pop("proof", proof)}
    return person.post("/v1/keys/rotate", body)


def test_rotation_replaces_the_keys_and_keeps_the_old_statements(world, client, clock):
    officer = world.officials["officer-1"]
    case, statement = submit(world, officer)
    old = officer.identity
    new = Identity.generate()
    before = world.log_size()
    body = created(rotate(world, officer, new))
    assert [k["kid"] for k in body["keys"]] == [new.signing_kid, new.encryption_kid]
    [entry] = world.log_entries(before)
    assert entry["event"] == "key_rotated"
    assert entry["actor"] == {
        "org": "metro-police",
        "official": "officer-1",
        "kid": old.signing_kid,
    }
    assert entry["details"]["retired"] == sorted([old.signing_kid, old.encryption_kid])
    assert entry["details"]["keys"] == new.public_jwks()["keys"]

    # The token of the old key is refused; the old key cannot log in again.
    assert_problem(officer.get("/v1/cases"), 401, "invalid-token")
    assert_problem(
        token_request(client, assertion(officer, clock())), 401, "invalid-client-assertion"
    )
    # The new key logs in, and the case the old key signed is still there, verbatim.
    officer.identity, officer.token = new, None
    detail = officer.get(f"/v1/cases/{statement['case_id']}").get_json()
    assert detail["timeline"][0]["statement"] == case.statement
    assert detail["timeline"][0]["sender"]["kid"] == old.signing_kid
    # The directory lists the new keys only as current.
    keys = officer.get("/v1/orgs/metro-police/keys").get_json()["keys"]
    mine = {k["kid"] for k in keys if k["official"] == "officer-1"}
    assert mine == {new.signing_kid, new.encryption_kid}


def test_a_case_sealed_to_a_stale_directory_names_the_missing_keys(world):
    reviewer = world.officials["cs-reviewer"]
    stale = reviewer.identity
    new = Identity.generate()
    created(rotate(world, reviewer, new))
    officer = world.officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")  # still encrypted to the old key
    before = world.log_size()
    problem = assert_problem(officer.send(sealed), 422, "missing-recipient-keys")
    assert problem["missing_kids"] == [new.encryption_kid]
    assert world.log_size() == before
    reviewer.identity = new
    created(officer.send(world.seal_case(officer, "clipshare")))
    assert stale.encryption_kid not in {
        k["kid"] for k in officer.get("/v1/orgs/clipshare/keys").get_json()["keys"]
    }


@pytest.mark.parametrize(
    "change",
    ["proof by another key", "statement by a stranger's key", "keys already registered"],
)
def test_a_rotation_must_be_authorised_and_proven(world, change):
    officer = world.officials["officer-1"]
    new = Identity.generate()
    kwargs: dict[str, Any] = {}
    if change == "proof by another key":
        _, kwargs["proof"] = authoring.rotation(
            officer.identity.signing_key,
            Identity.generate(),
            officer.org,
            officer.id,
            world.clock(),
        )
    elif change == "statement by a stranger's key":
        kwargs["signer"] = Identity.generate().signing_key
    elif change == "keys already registered":
        new = world.officials["officer-2"].identity
    before = world.log_size()
    assert_problem(rotate(world, officer, new, **kwargs), 422, "invalid-keys")
    assert world.log_size() == before
    assert officer.get("/v1/cases").status_code == 200


def test_a_rotation_with_a_wrong_kid_in_its_keys_is_refused(world, clock):
    officer = world.officials["officer-1"]
    new = Identity.generate()
    jwks = new.public_jwks()
    wrong = Identity.generate().public_jwks()["keys"][0]["kid"]
    payload = {
        "typ": ROTATION_TYP,
        "org": officer.org,
        "official": officer.id,
        "jwks": {"keys": [{**jwks["keys"][0], "kid": wrong}, jwks["keys"][1]]},
        "issued_at": format_utc(clock()),
    }
    body = {
        "statement": key_management.sign(payload, officer.identity.signing_key),
        "proof": key_management.sign(payload, new.signing_key),
    }
    assert_problem(officer.post("/v1/keys/rotate", body), 422, "invalid-keys")


def test_a_rotation_names_its_own_signer(world):
    officer = world.officials["officer-1"]
    response = rotate(world, officer, Identity.generate(), official="officer-2")
    assert_problem(response, 403, "forbidden")


# --- revocation --------------------------------------------------------------------------------


def test_an_official_revokes_a_lost_key_with_a_signed_statement(world, client, clock):
    officer = world.officials["officer-1"]
    kid = officer.identity.signing_kid
    statement = authoring.revocation(
        officer.identity.signing_key, "metro-police", "officer-1", kid, "lost", clock()
    )
    before = world.log_size()
    body = created(officer.post(f"/v1/keys/{kid}/revoke", {"statement": statement}))
    assert [k["kid"] for k in body["keys"]] == [kid]
    [entry] = world.log_entries(before)
    assert entry["event"] == "key_revoked"
    assert entry["actor"] == {"org": "metro-police", "official": "officer-1", "kid": kid}
    assert entry["statement"] == statement
    assert entry["details"] == {
        "official": "officer-1",
        "org": "metro-police",
        "kid": kid,
        "reason": "lost",
    }
    assert_problem(officer.get("/v1/cases"), 401, "invalid-token")
    assert_problem(
        token_request(client, assertion(officer, clock())), 401, "invalid-client-assertion"
    )


def test_a_revocation_statement_must_name_the_key_of_the_url(world, clock):
    officer = world.officials["officer-1"]
    statement = authoring.revocation(
        officer.identity.signing_key,
        "metro-police",
        "officer-1",
        officer.identity.encryption_kid,
        "lost",
        clock(),
    )
    path = f"/v1/keys/{officer.identity.signing_kid}/revoke"
    assert_problem(officer.post(path, {"statement": statement}), 422, "invalid-keys")


def test_the_operator_revokes_a_key(world, clock):
    reviewer = world.officials["cs-reviewer"]
    kid = reviewer.identity.signing_kid
    reviewer.headers()  # a token issued before the revocation
    before = world.log_size()
    world.revoke_by_operator(kid, "compromised")
    [entry] = world.log_entries(before)
    assert entry["event"] == "key_revoked"
    assert entry["actor"] is None
    assert entry["statement"] is None
    assert entry["details"] == {
        "official": "cs-reviewer",
        "org": "clipshare",
        "kid": kid,
        "reason": "compromised",
    }
    assert_problem(reviewer.get("/v1/inbox"), 401, "invalid-token")
    # A revoked key is refused a second time, as is an unknown one.

    with world.app.app_context():
        with pytest.raises(KeyRegistrationError), runtime.write() as session:
            enrollment.revoke_by_operator(session, clock(), kid, "lost")
        with pytest.raises(NotFoundError), runtime.write() as session:
            enrollment.revoke_by_operator(session, clock(), "unknown-kid", "lost")
    assert world.log_size() == before + 1
