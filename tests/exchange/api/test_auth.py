"""OAuth 2.0 client credentials with private_key_jwt, and the bearer tokens it issues.

Every refusal is a 401 problem: `invalid-client-assertion` (or `assertion-replayed`) at the
token endpoint, `invalid-token` everywhere else, never a 422.
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
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWSCore
from jwt import api_jws as jws

from exchange import create_app, runtime
from exchange.client import authoring
from tests.conftest import PUBLIC_URL, app_config
from tests.exchange.api.support import assert_problem
from tests.helpers.token_keys import token_key, token_public_pem
from tests.helpers.world import TOKEN_URL, Official, World

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token_request(client: Any, assertion: str, **changes: str) -> Any:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **changes,
    }
    return client.post("/v1/token", data=form)


def assertion(
    person: Official,
    now: datetime,
    *,
    key: Ed25519PrivateKey | None = None,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A client assertion of `person`, with any claim or header member changed."""
    body = {
        "iss": person.id,
        "sub": person.id,
        "aud": TOKEN_URL,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=120)).timestamp()),
        "jti": str(uuid.uuid4()),
    }
    body.update(claims)
    body = {name: value for name, value in body.items() if value is not None}
    protected = {"alg": "Ed25519", "kid": person.identity.signing_kid, "typ": "JWT"}
    protected.update(header or {})
    signer = key or person.identity.signing_key
    signed = JWSCore(
        "Ed25519",
        JWK.from_pyca(signer),
        json.dumps(protected),
        json.dumps(body).encode(),
        ["Ed25519"],
    ).sign()
    return f"{signed['protected']}.{signed['payload'].decode('ascii')}.{signed['signature']}"


def bearer(client: Any, token: str, path: str = "/v1/orgs") -> Any:
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def server_token(app: Any, person: Official, **claims: Any) -> str:
    """A token signed with the server's own key but with claims of the test's choosing."""
    now = datetime.now(UTC)
    payload = {
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
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, token_key(app), algorithm="EdDSA")


# --- the token endpoint --------------------------------------------------------------------


def test_a_signed_assertion_buys_a_short_lived_bearer_token(world, client, clock):
    officer = world.officials["officer-1"]
    response = token_request(
        client, authoring.client_assertion(officer.identity, officer.id, TOKEN_URL, clock())
    )
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert response.headers["Cache-Control"] == "no-store"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == "officer-1"
    assert claims["kid"] == officer.identity.signing_kid
    assert claims["aud"] == PUBLIC_URL
    assert claims["exp"] - claims["iat"] == 600
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "EdDSA"
    assert bearer(client, body["access_token"]).status_code == 200


def test_the_token_lifetime_is_configurable(tmp_path, database_url, clock):
    app = create_app(app_config(tmp_path, database_url, clock, TOKEN_TTL_SECONDS=60))
    world = World(app, app.test_client(), clock)
    world.org("metro-police", "agency")
    officer = world.enroll("metro-police", "officer-1", "agency_officer")
    response = token_request(world.client, assertion(officer, clock()))
    assert response.get_json()["expires_in"] == 60
    claims = jwt.decode(response.get_json()["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60
    with app.app_context():
        runtime.get_database().engine.dispose()


def test_a_replayed_assertion_is_refused(world, client, clock):
    officer = world.officials["officer-1"]
    signed = assertion(officer, clock())
    assert token_request(client, signed).status_code == 200
    before = world.log_size()
    assert_problem(token_request(client, signed), 401, "assertion-replayed")
    # Still refused later, while it has not expired.
    clock.advance(seconds=100)
    assert_problem(token_request(client, signed), 401, "assertion-replayed")
    assert world.log_size() == before


def test_a_jti_is_single_use_per_official_only(world, client, clock):
    jti = "shared-jti"
    officer, colleague = world.officials["officer-1"], world.officials["officer-2"]
    assert token_request(client, assertion(officer, clock(), jti=jti)).status_code == 200
    assert token_request(client, assertion(colleague, clock(), jti=jti)).status_code == 200


def _assertion_cases(person: Official, other: Official, now: datetime) -> dict[str, str]:
    stranger = Ed25519PrivateKey.generate()
    far = int((now + timedelta(minutes=30)).timestamp())
    return {
        "exp too far ahead": assertion(person, now, exp=far),
        "expired": assertion(person, now, exp=int((now - timedelta(seconds=1)).timestamp())),
        "exp missing": assertion(person, now, exp=None),
        "exp not an integer": assertion(person, now, exp=str(far)),
        "exp beyond the calendar": assertion(person, now, exp=10**20),
        "iat in the future": assertion(
            person, now, iat=int((now + timedelta(hours=1)).timestamp())
        ),
        "iat beyond the calendar": assertion(person, now, iat=-(10**20)),
        "nbf in the future": assertion(
            person, now, nbf=int((now + timedelta(hours=1)).timestamp())
        ),
        "wrong aud": assertion(person, now, aud="https://elsewhere.example/v1/token"),
        "aud of the API, not the token endpoint": assertion(person, now, aud=PUBLIC_URL),
        "wrong iss": assertion(person, now, iss=other.id),
        "wrong sub": assertion(person, now, sub=other.id),
        "claims of another official": assertion(person, now, iss=other.id, sub=other.id),
        "jti missing": assertion(person, now, jti=None),
        "jti too long": assertion(person, now, jti="j" * 256),
        "bad signature": assertion(person, now, key=stranger),
        "signed by another official's key": assertion(person, now, key=other.identity.signing_key),
        "unknown kid": assertion(person, now, key=stranger, header={"kid": b64(b"k" * 32)}),
        "the encryption key's kid": assertion(
            person, now, header={"kid": person.identity.encryption_kid}
        ),
        "HS256": _hs256(person, now),
        "alg none": _unsigned(person, now),
        "extra header member": assertion(person, now, header={"jku": "https://evil.example/"}),
        "typ not JWT": assertion(person, now, header={"typ": "at+jwt"}),
        "not a JWS": "not-a-jws",
        "four segments": assertion(person, now) + ".AAAA",
        "claims not an object": _with_payload(person, b"[1,2,3]"),
        "claims not JSON": _with_payload(person, b"\xff\xfe"),
    }


def _hs256(person: Official, now: datetime) -> str:
    claims = {"iss": person.id, "sub": person.id, "aud": TOKEN_URL, "jti": "x"}
    claims["exp"] = int((now + timedelta(seconds=60)).timestamp())
    return jwt.encode(
        claims,
        "a-shared-secret-long-enough-for-hmac",
        algorithm="HS256",
        headers={"kid": person.identity.signing_kid},
    )


def _unsigned(person: Official, now: datetime) -> str:
    header = {"alg": "none", "kid": person.identity.signing_kid, "typ": "JWT"}
    claims = {"iss": person.id, "sub": person.id, "aud": TOKEN_URL, "jti": "x"}
    claims["exp"] = int((now + timedelta(seconds=60)).timestamp())
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def _with_payload(person: Official, payload: bytes) -> str:
    header = json.dumps({"alg": "Ed25519", "kid": person.identity.signing_kid, "typ": "JWT"})
    signed = JWSCore(
        "Ed25519", JWK.from_pyca(person.identity.signing_key), header, payload, ["Ed25519"]
    ).sign()
    return f"{signed['protected']}.{signed['payload'].decode('ascii')}.{signed['signature']}"


def test_every_unacceptable_assertion_is_a_401(world, client, clock):
    officer, other = world.officials["officer-1"], world.officials["cs-reviewer"]
    for name, signed in _assertion_cases(officer, other, clock()).items():
        response = token_request(client, signed)
        problem = assert_problem(response, 401, "invalid-client-assertion")
        assert problem["detail"], name
    # None of them used up the official's ability to log in.
    assert token_request(client, assertion(officer, clock())).status_code == 200


def test_the_token_request_form_is_checked(world, client, clock):
    officer = world.officials["officer-1"]
    good = assertion(officer, clock())
    problem = assert_problem(
        token_request(client, good, grant_type="password"), 422, "validation-failed"
    )
    assert set(problem["errors"]) == {"grant_type"}
    problem = assert_problem(
        token_request(client, good, client_assertion_type="urn:other"), 422, "validation-failed"
    )
    assert set(problem["errors"]) == {"client_assertion_type"}
    problem = assert_problem(
        client.post("/v1/token", data={"grant_type": "client_credentials"}),
        422,
        "validation-failed",
    )
    assert set(problem["errors"]) == {"client_assertion_type", "client_assertion"}
    problem = assert_problem(
        token_request(client, good, password="hunter2"), 422, "validation-failed"
    )
    assert set(problem["errors"]) == {"password"}
    # Sent as JSON, it is the wrong media type: OAuth token requests are form-encoded.
    form = {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE}
    response = client.post("/v1/token", json={**form, "client_assertion": good})
    assert_problem(response, 415, "unsupported-media-type")
    # None of that consumed the assertion.
    assert token_request(client, good).status_code == 200


def test_a_deactivated_official_cannot_log_in(world, client, clock):
    world.deactivate("officer-2")
    colleague = world.officials["officer-2"]
    assert_problem(
        token_request(client, assertion(colleague, clock())), 401, "invalid-client-assertion"
    )


def test_a_revoked_key_cannot_log_in(world, client, clock):
    officer = world.officials["officer-1"]
    world.revoke_by_operator(officer.identity.signing_kid)
    assert_problem(
        token_request(client, assertion(officer, clock())), 401, "invalid-client-assertion"
    )


# --- bearer tokens -----------------------------------------------------------------------------


def test_no_token_or_a_malformed_header_is_a_401(world, client):
    officer = world.officials["officer-1"]
    token = officer.headers()["Authorization"].split()[1]
    for value in (
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Basic {token}",
        f"bearer{token}",
        "Bearer not.a.token",
        "Bearer a.b",
        "Bearer ....",
        f"Bearer {token} extra",
        f"Bearer {token[:-4]}",
        "Bearer " + "A" * 5000,
    ):
        headers = {} if value is None else {"Authorization": value}
        response = client.get("/v1/cases", headers=headers)
        problem = assert_problem(response, 401, "invalid-token")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="hotline"', value
        assert problem["detail"]


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "forged",
        "alg none",
        "HS256 with the public key",
        "wrong audience",
        "wrong issuer",
        "not yet valid",
        "no subject",
        "no kid",
        "unknown official",
        "kid of another official",
        "refresh token",
    ],
)
def test_a_bad_token_is_a_401_never_a_422(app, world, client, case):
    officer = world.officials["officer-1"]
    now = datetime.now(UTC)
    with app.app_context():
        if case == "expired":
            token = server_token(app, officer, exp=int((now - timedelta(seconds=30)).timestamp()))
        elif case == "forged":
            token = jwt.encode(
                jwt.decode(server_token(app, officer), options={"verify_signature": False}),
                Ed25519PrivateKey.generate(),
                algorithm="EdDSA",
            )
        elif case == "alg none":
            claims = jwt.decode(server_token(app, officer), options={"verify_signature": False})
            header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            token = f"{header}.{b64(json.dumps(claims).encode())}."
        elif case == "HS256 with the public key":
            claims = jwt.decode(server_token(app, officer), options={"verify_signature": False})
            header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
            signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
            mac = hmac.new(token_public_pem(app), signing_input.encode(), hashlib.sha256)
            token = f"{signing_input}.{b64(mac.digest())}"
        elif case == "wrong audience":
            token = server_token(app, officer, aud="https://elsewhere.example")
        elif case == "wrong issuer":
            token = server_token(app, officer, iss="https://elsewhere.example")
        elif case == "not yet valid":
            token = server_token(app, officer, nbf=int((now + timedelta(hours=1)).timestamp()))
        elif case == "no subject":
            token = server_token(app, officer, sub=None)
        elif case == "no kid":
            token = server_token(app, officer, kid=None)
        elif case == "unknown official":
            token = server_token(app, officer, sub="nobody")
        elif case == "kid of another official":
            other = world.officials["officer-2"].identity.signing_kid
            token = server_token(app, officer, kid=other)
        elif case == "refresh token":
            token = server_token(app, officer, type="refresh")
    before = world.log_size()
    for path in ("/v1/orgs", "/v1/cases", "/v1/inbox"):
        response = bearer(client, token, path)
        assert_problem(response, 401, "invalid-token")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="hotline"'
    assert world.log_size() == before


def test_a_deactivated_official_is_refused_on_the_very_next_request(world):
    colleague = world.officials["officer-2"]
    assert colleague.get("/v1/cases").status_code == 200  # a token issued before
    world.deactivate("officer-2")
    problem = assert_problem(colleague.get("/v1/cases"), 401, "invalid-token")
    assert "not active" in problem["detail"]
    # Their designated colleagues carry on.
    assert world.officials["officer-1"].get("/v1/cases").status_code == 200


def test_a_token_of_a_revoked_key_is_refused(world):
    officer = world.officials["officer-1"]
    assert officer.get("/v1/cases").status_code == 200
    world.revoke_by_operator(officer.identity.signing_kid)
    assert_problem(officer.get("/v1/cases"), 401, "invalid-token")


def test_revoking_the_encryption_key_keeps_the_session(world):
    """Sessions hang on the signing key that authenticated them, not the encryption key."""
    officer = world.officials["officer-1"]
    officer.headers()
    world.revoke_by_operator(officer.identity.encryption_kid)
    assert officer.get("/v1/cases").status_code == 200


def test_a_request_decodes_its_token_once_for_the_limiter_and_the_route(world, monkeypatch):
    """The rate limiter keys the request by the token's official and the route needs its
    caller: one parse of the token and one signature check serve both."""
    assert world.app.config["RATE_LIMIT_ENABLED"] is True
    officer = world.officials["officer-1"]
    officer.headers()  # signed in beforehand
    seen: list[str] = []  # PyJWT's steps, in order: each parse of a token, each check

    def counted(step: str, original: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            seen.append(step)
            return original(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(jws.PyJWS, "_load", counted("parse", jws.PyJWS._load))
    monkeypatch.setattr(
        jws.PyJWS, "_verify_signature", counted("verify", jws.PyJWS._verify_signature)
    )
    assert officer.get("/v1/cases").status_code == 200
    assert seen == ["parse", "verify"]
    # A malformed token is read once too, and refused with the route's answer.
    seen.clear()
    response = world.client.get("/v1/cases", headers={"Authorization": "Bearer x.y.z"})
    assert_problem(response, 401, "invalid-token")
    assert seen == ["parse"]
