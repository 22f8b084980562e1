"""Decisions taken after the first review of the API: what the log shows to whom, inbox
items of reassigned cases, re-posts after a key rotation, tokens without an expiry."""

import jwt

from exchange.client import authoring
from keys import Identity
from tests.exchange.api.support import assert_problem, created, submit
from tests.helpers.token_keys import token_key


def test_officials_read_only_the_log_entries_of_their_own_cases(world):
    officer, other_agency = world.officials["officer-1"], world.officials["caseworker-1"]
    _, statement = submit(world, officer)
    entries = other_agency.get(f"/v1/log/entries?start=0&end={world.log_size()}").get_json()
    by_index = {e["index"]: e for e in entries["entries"]}
    case_entries = [e for e in world.log_entries() if e["case_id"] == statement["case_id"]]
    assert case_entries
    for entry in case_entries:
        assert by_index[entry["index"]]["entry"] is None  # withheld
        assert by_index[entry["index"]]["leaf_hash"]  # still checkable
    directory_entries = [e for e in world.log_entries() if e["case_id"] is None]
    assert all(by_index[e["index"]]["entry"] is not None for e in directory_entries)
    mine = officer.get(f"/v1/log/entries?start=0&end={world.log_size()}").get_json()
    readable = {e["index"] for e in mine["entries"] if e["entry"] is not None}
    assert {e["index"] for e in case_entries} <= readable
    audit = world.officials["auditor-1"].get(f"/v1/log/entries?start=0&end={world.log_size()}")
    assert all(e["entry"] is not None for e in audit.get_json()["entries"])


def test_a_reassigned_case_leaves_the_previous_assignees_inbox(world):
    officer, lead = world.officials["officer-1"], world.officials["cs-lead"]
    reviewer = world.officials["cs-reviewer"]
    world.enroll("clipshare", "cs-second", "platform_official")
    _, statement = submit(world, officer)
    seen = reviewer.get("/v1/inbox").get_json()["items"]
    assert statement["case_id"] in {item["case"]["case_id"] for item in seen}
    assignment = world.reply(
        lead,
        statement["case_id"],
        "assignment",
        statement["handoff_id"],
        "clipshare",
        meta={"assignee": "cs-second"},
    )
    created(lead.send(assignment))
    after = reviewer.get("/v1/inbox").get_json()
    assert statement["case_id"] not in {item["case"]["case_id"] for item in after["items"]}
    assert after["last_seq"] >= max(item["seq"] for item in seen)


def test_a_repost_after_a_key_rotation_gets_the_first_answer(world, clock):
    officer = world.officials["officer-1"]
    sealed, response = world.submit(officer, "clipshare")
    first = created(response)
    new = Identity.generate()
    statement, proof = authoring.rotation(
        officer.identity.signing_key, new, "metro-police", "officer-1", clock()
    )
    created(officer.post("/v1/keys/rotate", {"statement": statement, "proof": proof}))
    retired, officer.identity, officer.token = officer.identity, new, None
    again = officer.post("/v1/cases", sealed.to_json())
    assert again.status_code == 201
    assert again.get_json() == first
    # Anything new signed by the retired key is refused.
    officer.identity = retired
    stale = world.seal_case(officer, "clipshare")
    officer.identity = new
    assert_problem(officer.post("/v1/cases", stale.to_json()), 422, "envelope-unknown-signer-key")


def test_a_token_without_an_expiry_is_refused(world, app, clock):
    officer = world.officials["officer-1"]
    officer.headers()
    key = token_key(app)
    claims = {
        "sub": "officer-1",
        "org": "metro-police",
        "role": "agency_officer",
        "kid": officer.identity.signing_kid,
        "type": "access",
        "fresh": False,
        "jti": "no-exp",
        "iat": int(clock().timestamp()),
        "nbf": int(clock().timestamp()),
        "iss": app.config["PUBLIC_URL"],
        "aud": app.config["PUBLIC_URL"],
    }
    forever = jwt.encode(claims, key, algorithm="EdDSA")
    response = world.client.get("/v1/orgs", headers={"Authorization": f"Bearer {forever}"})
    assert_problem(response, 401, "invalid-token")
