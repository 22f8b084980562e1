"""PostgreSQL goes away under the production server, then comes back.

The database stops taking connections and its sessions are ended (what a failover, a
restart or a network cut does to the application): every request that needs it is a 503
`database-unavailable` with `Retry-After`, readiness says not-ready, the process stays up,
nothing is half-written; and when the database returns, the same workers serve again
without a restart (the pool checks connections before use), the same request bytes are
accepted once, and an SDK client caught in the outage gets through by retrying.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from exchange.client import authoring
from exchange.client.client import Client
from exchange.protocol import envelope as env
from schemas.common import format_utc
from tests.helpers.consistency import assert_consistent
from tests.helpers.gunicorn import GunicornServer
from tests.helpers.traffic import GENEROUS_RATE_LIMITS, Operator, case_body, cast

PROBLEM = "application/problem+json"


def sealed_case_bytes(officer: Client, to: str) -> bytes:
    """A case sealed by the officer's own keys, as the SDK seals one, ready to post."""
    record = {
        "handoff_id": str(uuid.uuid4()),
        "case_id": str(uuid.uuid4()),
        "kind": "case",
        "issued_at": format_utc(officer.clock()),
        "sender": {
            "org": officer.profile.org,
            "official": officer.profile.official,
            "kid": officer.identity.signing_kid,
        },
        "to": [to],
        "in_reply_to": None,
        "body": case_body(officer.profile.official, 0),
    }
    recipients = officer.encryption_keys(to, officer.profile.org)
    sealed = env.seal(record, officer.identity.signing_key, recipients)
    return json.dumps(sealed.to_json()).encode()


class Outage:
    """Switches one database's connections off and on from the maintenance connection."""

    def __init__(self, postgres, database_url: str) -> None:
        self.postgres = postgres
        self.name = make_url(database_url).database

    def begin(self) -> None:
        with self.postgres.engine.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.name},
            )

    def end(self) -> None:
        with self.postgres.engine.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    @contextmanager
    def during(self) -> Iterator[None]:
        self.begin()
        try:
            yield
        finally:
            self.end()


def assert_unavailable(response: httpx.Response, slug: str, retry_after: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"urn:hotline:problem:{slug}"
    assert body["status"] == 503
    assert response.headers["Retry-After"] == retry_after
    assert "psycopg" not in response.text
    assert "connection" not in body.get("detail", "").lower() or slug == "not-ready"


@pytest.fixture
def server_on_postgresql(postgresql_url, tmp_path) -> Iterator[GunicornServer]:
    """The production server on PostgreSQL, whichever backend this run tests."""
    server = GunicornServer(tmp_path / "instance", postgresql_url, 2, GENEROUS_RATE_LIMITS)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.mark.slow
def test_an_unreachable_database_is_a_503_and_the_service_recovers_by_itself(
    server_on_postgresql, postgresql_url, postgres, tmp_path
):
    server = server_on_postgresql
    operator = Operator(server)
    agencies, platforms, auditor = cast(operator, tmp_path / "clients")
    officer = agencies[0]
    clients = [*agencies, *platforms, auditor]
    outage = Outage(postgres, postgresql_url)
    try:
        first = officer.submit(case_body("before", 0), "clipshare")
        data = sealed_case_bytes(officer, "clipshare")
        auth = {"Authorization": f"Bearer {officer.transport.access_token()}"}
        post = {**auth, "Content-Type": "application/json"}
        http = httpx.Client(base_url=server.url, timeout=30)

        with outage.during():
            # Several of each, so that every worker meets the outage.
            for _ in range(4):
                assert_unavailable(
                    http.post("/v1/cases", content=data, headers=post), "database-unavailable", "5"
                )
                assert_unavailable(http.get("/v1/cases", headers=auth), "database-unavailable", "5")
                assert_unavailable(http.get("/readyz"), "not-ready", "5")
                assert http.get("/healthz").status_code == 200
            # Logging in needs the database too.
            login = {
                "grant_type": "client_credentials",
                "client_assertion_type": authoring.CLIENT_ASSERTION_TYPE,
                "client_assertion": authoring.client_assertion(
                    officer.identity,
                    officer.profile.official,
                    officer.profile.token_endpoint,
                    officer.clock(),
                ),
            }
            assert_unavailable(http.post("/v1/token", data=login), "database-unavailable", "5")

        # Back: the same workers, not restarted, take the same bytes; readiness is back.
        workers = server.worker_pids()
        accepted = http.post("/v1/cases", content=data, headers=post)
        assert accepted.status_code == 201, accepted.text
        assert http.post("/v1/cases", content=data, headers=post).json() == accepted.json()
        for _ in range(4):
            assert http.get("/readyz").status_code == 200
            assert http.get("/v1/cases", headers=auth).status_code == 200
        assert server.worker_pids() == workers

        # An SDK client caught by an outage waits Retry-After and tries again: the
        # database comes back just after its first attempt is refused.
        refusals = []

        def come_back_after_a_refusal(response: httpx.Response) -> None:
            if response.status_code == 503 and not refusals:
                refusals.append(response.headers["Retry-After"])
                outage.end()

        officer.transport._http.event_hooks["response"].append(come_back_after_a_refusal)
        outage.begin()
        try:
            third = officer.submit(case_body("during", 0), "clipshare")
        finally:
            outage.end()
        assert refusals == ["5"]

        http.close()
        counts = assert_consistent(operator.database_url, operator.verifier_key())
        cases = {first.case_id, accepted.json()["case_id"], third.case_id}
        assert set(counts.cases) == cases
        assert len(counts.handoffs) == 3
        assert server.stop() == 0
    finally:
        outage.end()
        for client in clients:
            client.close()
        operator.close()
