"""API2:2023 Broken Authentication: bad tokens and assertions can neither read nor write.

Already covered in tests/exchange/api/test_auth.py, and not repeated here: every refused
client assertion (expired, too long-lived, wrong aud/iss/sub, forged, another official's
key, HS256, alg none, extra headers, garbage), replay and per-official jti, deactivated or
revoked officials logging in, and every bad bearer token (expired, forged, alg none,
HS256 keyed with the server's public key, wrong audience/issuer, not yet valid, no sub, no
kid, unknown official, another official's kid, refresh token) on three GET routes; and in
test_lead_review.py a token without `exp`. This module sends the same bad tokens with a
perfectly valid envelope to the write routes, and adds rotated keys, assertion replay
after the jti is purged, claims the server must not trust, and malformed headers.
"""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.datastructures import MultiDict

from exchange.client import authoring
from keys import Identity
from tests.conftest import PUBLIC_URL
from tests.exchange.api.support import assert_problem, assignment, created, submit
from tests.helpers.token_keys import token_key, token_public_pem
from tests.helpers.world import TOKEN_URL, Official, statement_of
from tests.security.support import signed_in, unchanged

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def claims_of(person: Official, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims = {
        "iss": PUBLIC_URL,
        "aud": PUBLIC_URL,
        "sub": person.id,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=10)).timestamp()),
        "jti": str(uuid.uuid4()),
        "type": "access",
        "fresh": False,
        "org": person.org,
        "role": person.role,
        "kid": person.identity.signing_kid,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def server_signed(app: Any, person: Official, **changes: Any) -> str:
    """A token signed with the server's own key, with claims of the test's choosing."""
    return jwt.encode(claims_of(person, **changes), token_key(app), "EdDSA")


def bad_tokens(app: Any, person: Official) -> dict[str, str]:
    unsigned_header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    claims = b64(json.dumps(claims_of(person)).encode())
    hs_header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    mac = hmac.new(token_public_pem(app), f"{hs_header}.{claims}".encode(), hashlib.sha256)
    expired = server_signed(
        app, person, exp=int((datetime.now(UTC) - timedelta(seconds=1)).timestamp())
    )
    return {
        "expired": expired,
        "forged": jwt.encode(claims_of(person), Ed25519PrivateKey.generate(), "EdDSA"),
        "alg none": f"{unsigned_header}.{claims}.",
        "HS256 keyed with the public key": f"{hs_header}.{claims}.{b64(mac.digest())}",
        "wrong audience": server_signed(app, person, aud="https://elsewhere.example"),
        "wrong issuer": server_signed(app, person, iss="https://elsewhere.example"),
        "no expiry": server_signed(app, person, exp=None),
        "a client assertion, not an access token": authoring.client_assertion(
            person.identity, person.id, TOKEN_URL, datetime.now(UTC)
        ),
    }


def test_bad_tokens_cannot_submit_even_a_valid_case(app, world):
    officer = signed_in(world).officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")
    for name, token in bad_tokens(app, officer).items():
        with unchanged(world):
            response = world.client.post(
                "/v1/cases", json=sealed.to_json(), headers={"Authorization": f"Bearer {token}"}
            )
            assert_problem(response, 401, "invalid-token")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="hotline"', name
    # The control: the very same envelope with the officer's real token is accepted.
    created(officer.send(sealed))


def test_bad_tokens_cannot_continue_a_case(app, world):
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, statement = submit(world, officer)
    signed_in(world)
    ack = world.receipt(reviewer, statement["case_id"], case, "metro-police")
    path = f"/v1/cases/{statement['case_id']}/handoffs"
    for token in bad_tokens(app, reviewer).values():
        with unchanged(world):
            response = world.client.post(
                path, json=ack.to_json(), headers={"Authorization": f"Bearer {token}"}
            )
            assert_problem(response, 401, "invalid-token")
    created(reviewer.send(ack))


def test_a_deactivated_official_can_no_longer_write(world):
    officer = signed_in(world).officials["officer-2"]
    sealed = world.seal_case(officer, "clipshare")
    world.deactivate("officer-2")
    with unchanged(world):
        assert_problem(officer.send(sealed), 401, "invalid-token")
        assert_problem(officer.get("/v1/inbox"), 401, "invalid-token")


def test_a_token_of_a_rotated_key_is_refused(world, clock):
    """Rotation retires the key the session was authenticated with: the session ends."""
    officer = signed_in(world).officials["officer-1"]
    old_token = officer.headers()
    new = Identity.generate()
    statement, proof = authoring.rotation(
        officer.identity.signing_key, new, "metro-police", "officer-1", clock()
    )
    created(officer.post("/v1/keys/rotate", {"statement": statement, "proof": proof}))
    old_identity, officer.identity = officer.identity, new
    sealed = world.seal_case(officer, "clipshare")  # signed with the new key: valid
    with unchanged(world):
        response = world.client.post("/v1/cases", json=sealed.to_json(), headers=old_token)
        assert_problem(response, 401, "invalid-token")
        assert_problem(world.client.get("/v1/cases", headers=old_token), 401, "invalid-token")
    # The old key cannot buy a new session either.
    assertion = authoring.client_assertion(old_identity, officer.id, TOKEN_URL, clock())
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    with unchanged(world):
        assert_problem(world.client.post("/v1/token", data=form), 401, "invalid-client-assertion")
    officer.token = None
    created(officer.send(sealed))


def test_a_token_of_an_operator_revoked_key_cannot_write(world):
    officer = signed_in(world).officials["officer-1"]
    sealed = world.seal_case(officer, "clipshare")
    world.revoke_by_operator(officer.identity.signing_kid)
    with unchanged(world):
        assert_problem(officer.send(sealed), 401, "invalid-token")


def test_a_replayed_assertion_stays_refused_after_its_jti_is_purged(world, client, clock):
    """Used jtis are forgotten once their assertion expired: the replay must then fail on
    `exp`, never succeed because the jti was forgotten."""
    officer = world.officials["officer-1"]
    assertion = authoring.client_assertion(officer.identity, officer.id, TOKEN_URL, clock())
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    assert client.post("/v1/token", data=form).status_code == 200
    exp = jwt.decode(assertion, options={"verify_signature": False})["exp"]
    clock.moment = datetime.fromtimestamp(exp, UTC) + timedelta(seconds=1)
    # Another official's login purges the expired jti.
    world.officials["officer-2"].login()
    with unchanged(world):
        response = client.post("/v1/token", data=form)
        problem = assert_problem(response, 401, "invalid-client-assertion")
    assert "expired" in problem["detail"]


def test_claims_in_a_token_grant_nothing_the_directory_does_not(app, world):
    """Role, organisation and kid come from the database, never from the token: a token
    claiming to be a lead of another platform is still the platform official it names."""
    world.enroll("clipshare", "cs-second", "platform_official")
    officer, reviewer = world.officials["officer-1"], world.officials["cs-reviewer"]
    case, _ = submit(world, officer, category="ncii")  # in clipshare's queue
    signed_in(world)
    token = server_signed(app, reviewer, role="platform_lead", org="chatter")
    headers = {"Authorization": f"Bearer {token}"}
    sealed = assignment(world, reviewer, case, "cs-reviewer")
    path = f"/v1/cases/{statement_of(case)['case_id']}"
    with unchanged(world):
        # As the platform official they are, the queued case is not theirs to see.
        assert_problem(world.client.get(path, headers=headers), 404, "not-found")
        response = world.client.post(f"{path}/handoffs", json=sealed.to_json(), headers=headers)
        assert_problem(response, 404, "not-found")
        listed = world.client.get("/v1/cases", headers=headers).get_json()["cases"]
    assert listed == []


@pytest.mark.parametrize(
    "value",
    [
        "Bearer {token}, Bearer {other}",
        "Bearer {token} {other}",
        "Bearer\t{token}x",
        "Token {token}",
        "JWT {token}",
        "Bearer {token}" + " " * 3 + "junk",
        "Bearer " + "e" * 100_000,
        "Bearer " + "{token}" * 50,
        "Bearer {token}\u0000",
        "Bearer ..",
        "Bearer null",
        "Bearer undefined",
        "Bearer {{}}",
    ],
)
def test_garbage_authorization_headers_are_a_401(world, value):
    officer = signed_in(world).officials["officer-1"]
    token = officer.headers()["Authorization"].split()[1]
    other = world.officials["cs-lead"].headers()["Authorization"].split()[1]
    header = value.format(token=token, other=other)
    with unchanged(world):
        response = world.client.get("/v1/cases", headers={"Authorization": header})
        assert_problem(response, 401, "invalid-token")


def test_two_authorization_headers_are_not_two_chances(world):
    """Repeated headers are folded into one list (RFC 9110 §5.3), which then holds two
    bearer tokens: refused, whichever comes first, even when one is valid."""
    officer = signed_in(world).officials["officer-1"]
    lead = world.officials["cs-lead"]
    forged = jwt.encode(claims_of(lead), Ed25519PrivateKey.generate(), "EdDSA")
    mine = officer.headers()["Authorization"]
    for headers in (
        [("Authorization", f"Bearer {forged}"), ("Authorization", mine)],
        [("Authorization", mine), ("Authorization", f"Bearer {forged}")],
    ):
        with unchanged(world):
            response = world.client.get("/v1/cases", headers=headers)
            assert_problem(response, 401, "invalid-token")


def test_a_token_request_parameter_given_twice_is_refused(world, client, clock):
    """RFC 6749 §3.2: parameters MUST NOT be included more than once; which of two
    assertions would count is exactly what an attacker would like to choose."""
    officer, other = world.officials["officer-1"], world.officials["officer-2"]
    mine = authoring.client_assertion(officer.identity, officer.id, TOKEN_URL, clock())
    theirs = authoring.client_assertion(other.identity, other.id, TOKEN_URL, clock())
    form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", mine),
        ("client_assertion", theirs),
    ]
    with unchanged(world):
        response = client.post("/v1/token", data=MultiDict(form))
        problem = assert_problem(response, 422, "validation-failed")
    assert problem["errors"] == {"client_assertion": ["Given more than once."]}
    # Neither assertion was used up by the refusal.
    assert client.post("/v1/token", data=MultiDict(form[:3])).status_code == 200
