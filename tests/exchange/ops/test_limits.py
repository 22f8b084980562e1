"""Rate limits: per official on the API, per client address on /v1/token and /v1/enroll."""

import pytest

from exchange import create_app
from exchange.config import ConfigError
from tests.conftest import app_config
from tests.helpers.world import standard_world

RATE_LIMITED = "urn:hotline:problem:rate-limited"
TOKEN_FORM = {
    "grant_type": "client_credentials",
    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    "client_assertion": "not.a.jws",
}


def from_address(address):
    return {"environ_base": {"REMOTE_ADDR": address}}


def assert_rate_limited(response):
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == RATE_LIMITED
    assert body["status"] == 429
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    return body


def test_the_token_endpoint_is_limited_per_client_address(make_app):
    client = make_app(RATE_LIMIT_TOKEN="2 per hour").test_client()
    for _ in range(2):
        # Refused assertions count too: guessing is what the limit slows down.
        response = client.post("/v1/token", data=TOKEN_FORM, **from_address("192.0.2.1"))
        assert response.status_code == 401
        assert "Retry-After" not in response.headers
    assert_rate_limited(client.post("/v1/token", data=TOKEN_FORM, **from_address("192.0.2.1")))
    other = client.post("/v1/token", data=TOKEN_FORM, **from_address("192.0.2.2"))
    assert other.status_code == 401


def test_the_enroll_endpoint_is_limited_per_client_address(make_app):
    client = make_app(RATE_LIMIT_ENROLL="1 per hour").test_client()
    body = {"code": "x" * 43, "statement": "a.b.c"}
    first = client.post("/v1/enroll", json=body, **from_address("198.51.100.7"))
    assert first.status_code in (403, 422)
    assert_rate_limited(client.post("/v1/enroll", json=body, **from_address("198.51.100.7")))
    assert client.post("/v1/enroll", json=body, **from_address("198.51.100.8")).status_code in (
        403,
        422,
    )


def test_the_api_budget_is_per_official_and_shared_by_every_route(make_app, clock):
    app = make_app(RATE_LIMIT_API="3 per hour")
    world = standard_world(app, app.test_client(), clock)
    # Not the leads: setting up the world spent some of their budget on invitations.
    officer, colleague = world.officials["officer-2"], world.officials["caseworker-1"]
    assert officer.get("/v1/orgs").status_code == 200
    assert officer.get("/v1/inbox").status_code == 200
    assert officer.get("/v1/orgs").status_code == 200
    assert_rate_limited(officer.get("/v1/inbox"))
    assert_rate_limited(officer.get("/v1/orgs"))
    # Another official behind the same address has a budget of their own.
    assert colleague.get("/v1/orgs").status_code == 200


def test_a_forged_token_is_counted_by_address_not_by_the_official_it_names(make_app, clock):
    app = make_app(RATE_LIMIT_API="2 per hour")
    world = standard_world(app, app.test_client(), clock)
    victim = world.officials["officer-2"]
    header, payload, _signature = victim.headers()["Authorization"].split(".")
    forged = {"Authorization": f"{header}.{payload}.AAAA"}
    client = app.test_client()
    for _ in range(2):
        assert client.get("/v1/orgs", headers=forged).status_code == 401
    assert_rate_limited(client.get("/v1/orgs", headers=forged))
    assert victim.get("/v1/orgs").status_code == 200
    assert victim.get("/v1/orgs").status_code == 200
    assert_rate_limited(victim.get("/v1/orgs"))


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_health_readiness_and_metrics_are_not_limited(make_app, path):
    client = make_app(RATE_LIMIT_API="1 per hour").test_client()
    assert [client.get(path).status_code for _ in range(4)] == [200] * 4
    # The API itself is limited, the same client counted by its address.
    assert client.get("/v1/orgs").status_code == 401
    assert_rate_limited(client.get("/v1/orgs"))


def test_limits_can_be_switched_off(make_app):
    client = make_app(RATE_LIMIT_TOKEN="1 per hour", RATE_LIMIT_ENABLED=False).test_client()
    assert [client.post("/v1/token", data=TOKEN_FORM).status_code for _ in range(3)] == [401] * 3


def test_memory_counts_are_per_process(make_app):
    # Two apps stand for two processes: without Redis, each counts on its own.
    first = make_app(RATE_LIMIT_TOKEN="1 per hour").test_client()
    second = make_app(RATE_LIMIT_TOKEN="1 per hour").test_client()
    assert first.post("/v1/token", data=TOKEN_FORM).status_code == 401
    assert second.post("/v1/token", data=TOKEN_FORM).status_code == 401


def test_redis_counts_are_shared_by_every_process(make_app, redis_url, key_prefix):
    settings = {
        "RATE_LIMIT_TOKEN": "2 per hour",
        "REDIS_URL": redis_url,
        "RATE_LIMIT_KEY_PREFIX": key_prefix,
    }
    first = make_app(**settings).test_client()
    second = make_app(**settings).test_client()
    assert first.post("/v1/token", data=TOKEN_FORM).status_code == 401
    assert second.post("/v1/token", data=TOKEN_FORM).status_code == 401
    assert_rate_limited(first.post("/v1/token", data=TOKEN_FORM))
    assert_rate_limited(second.post("/v1/token", data=TOKEN_FORM))


def test_the_api_budget_in_redis_is_per_official(make_app, redis_url, key_prefix, clock):
    app = make_app(
        RATE_LIMIT_API="2 per hour", REDIS_URL=redis_url, RATE_LIMIT_KEY_PREFIX=key_prefix
    )
    world = standard_world(app, app.test_client(), clock)
    officer = world.officials["cs-reviewer"]  # leads spent budget inviting the others
    assert [officer.get("/v1/orgs").status_code for _ in range(2)] == [200, 200]
    assert_rate_limited(officer.get("/v1/orgs"))
    assert world.officials["ch-reviewer"].get("/v1/orgs").status_code == 200


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("RATE_LIMIT_API", "lots", "EXCHANGE_RATE_LIMIT_API"),
        ("RATE_LIMIT_STRATEGY", "leaky", "EXCHANGE_RATE_LIMIT_STRATEGY"),
        ("REDIS_URL", "http://127.0.0.1:6379", "EXCHANGE_REDIS_URL"),
        ("RATE_LIMIT_ENABLED", "yes", "EXCHANGE_RATE_LIMIT_ENABLED"),
        ("TRUSTED_PROXIES", -1, "EXCHANGE_TRUSTED_PROXIES"),
        ("SQLITE_MMAP_BYTES", -1, "EXCHANGE_SQLITE_MMAP_BYTES must be 0 or more, got -1"),
    ],
)
def test_bad_settings_stop_the_app(tmp_path, database_url, clock, setting, value, message):
    with pytest.raises(ConfigError, match=message):
        create_app(app_config(tmp_path, database_url, clock, **{setting: value}))


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(make_app):
    client = make_app(RATE_LIMIT_TOKEN="1 per hour", TRUSTED_PROXIES=1).test_client()
    proxy = from_address("10.0.0.5")
    first = client.post(
        "/v1/token", data=TOKEN_FORM, headers={"X-Forwarded-For": "203.0.113.9"}, **proxy
    )
    assert first.status_code == 401
    assert_rate_limited(
        client.post(
            "/v1/token", data=TOKEN_FORM, headers={"X-Forwarded-For": "203.0.113.9"}, **proxy
        )
    )
    # The same proxy forwarding another client: another budget.
    other = client.post(
        "/v1/token", data=TOKEN_FORM, headers={"X-Forwarded-For": "203.0.113.10"}, **proxy
    )
    assert other.status_code == 401


def test_without_redis_each_process_falls_back_to_counting_alone(make_app):
    # Redis named but not answering: requests are served and still limited, never a 500.
    client = make_app(
        RATE_LIMIT_TOKEN="2 per hour", REDIS_URL="redis://127.0.0.1:1/0"
    ).test_client()
    assert [client.post("/v1/token", data=TOKEN_FORM).status_code for _ in range(2)] == [401] * 2
    assert_rate_limited(client.post("/v1/token", data=TOKEN_FORM))


def test_the_public_tiles_are_limited_per_client_address(make_app):
    client = make_app(RATE_LIMIT_API="2 per hour").test_client()
    for _ in range(2):
        assert client.get("/checkpoint", **from_address("192.0.2.7")).status_code == 404
    assert_rate_limited(client.get("/tile/0/000", **from_address("192.0.2.7")))
    # Another address has its own budget.
    assert client.get("/checkpoint", **from_address("192.0.2.8")).status_code == 404
