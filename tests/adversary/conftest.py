"""A real server behind a real proxy that lies, and a real operator with the admin CLI.

One server per module. The world: an agency (police) and two platforms (clipshare,
othershop). At clipshare, `reviewer` rotated their keys (so a retired key exists) and the
operator revoked `second`'s encryption key (so a revoked key exists); the checkpoint from
before that revocation is kept, for replaying it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from exchange.cli import main
from exchange.client import authoring
from exchange.client.client import Client
from exchange.client.profile import Profile
from exchange.client.transport import Transport
from exchange.ops.devserver import LiveServer
from exchange.protocol.key_management import code_sha256
from keys import Identity, load_key_dir
from tests.helpers import databases
from tests.helpers.proxy import LyingProxy
from tests.schemas import examples

pytestmark = pytest.mark.slow
PASSPHRASE = "adversary test passphrase"


@dataclass
class Enrolled:
    org: str
    official: str
    identity: Identity


@dataclass
class Stage:
    server: LiveServer
    proxy: LyingProxy
    root: Path
    origin: str
    verifier_key: str
    people: dict[str, Enrolled] = field(default_factory=dict)
    leads: dict[str, str] = field(default_factory=dict)  # org -> its bootstrapped lead
    notes: dict[str, Any] = field(default_factory=dict)
    opened: list[Client] = field(default_factory=list)

    def enroll(self, org: str, official: str, role: str) -> Enrolled:
        code = self.server.invite(org, official, role)
        identity = Identity.generate()
        transport = Transport(self.server.url)
        statement = authoring.enrollment(
            identity, org, official, code_sha256(code), transport.clock()
        )
        transport.post_json("/v1/enroll", {"code": code, "statement": statement}, auth=False)
        transport.close()
        self.people[official] = Enrolled(org, official, identity)
        self.admitted(org, official, role)
        return self.people[official]

    def admitted(self, org: str, official: str, role: str) -> None:
        """The organisation's first official is its bootstrapped lead (`LiveServer.invite`);
        every later one is approved by that lead with a signed statement, as in real life."""
        if org not in self.leads:
            self.leads[org] = official
        else:
            self.approve(org, official, role)

    def approve(self, org: str, official: str, role: str) -> None:
        lead = self.people[self.leads[org]]
        transport = Transport(
            self.server.url, lead.official, lead.identity, audience=f"{self.server.url}/v1/token"
        )
        statement = authoring.membership(
            lead.identity.signing_key,
            org,
            "approve",
            transport.clock(),
            official=official,
            role=role,
            categories=[],
            lead=False,
        )
        transport.post_json(f"/v1/orgs/{org}/membership", {"statement": statement})
        transport.close()

    def client(self, official: str, state: Path, *, through_proxy: bool = True) -> Client:
        """The official's SDK as a fresh run of the CLI would be: state from `state`."""
        person = self.people[official]
        profile = Profile(
            official,
            self.proxy.url if through_proxy else self.server.url,
            "unused",
            person.org,
            official,
            self.origin,
            (self.verifier_key,),
            audience=f"{self.server.url}/v1/token",
        )
        client = Client(profile, person.identity, state_dir=state)
        self.opened.append(client)
        return client

    def hotline(self, *args: str) -> Result:
        """The `hotline` command, as the CLI-enrolled official (profile `clerk`)."""
        env = {"HOTLINE_CONFIG": str(self.root / "config"), "HOTLINE_PASSPHRASE": PASSPHRASE}
        return CliRunner().invoke(main, list(args), env=env)

    def close_clients(self) -> None:
        while self.opened:
            self.opened.pop().close()

    def kid(self, official: str, use: str) -> str:
        jwks = self.people[official].identity.public_jwks()["keys"]
        return str(next(k["kid"] for k in jwks if k["use"] == use))

    def jwk(self, official: str, use: str) -> dict[str, Any]:
        jwks = self.people[official].identity.public_jwks()["keys"]
        return dict(next(k for k in jwks if k["use"] == use))


def case_body() -> dict[str, Any]:
    body = examples.deepfake_case_body()
    body["issuer_case_ref"] = f"ADV-{uuid.uuid4().hex[:10]}"
    return body


def recipient_kids(posted: Any) -> set[str]:
    """The kids a posted envelope's JWE is encrypted to, as the server received it."""
    return {r["header"]["kid"] for r in posted.json()["jwe"]["recipients"]}


def _enroll_with_the_cli(stage: Stage, org: str, official: str, role: str) -> None:
    """An official who uses the `hotline` command, with a profile that goes through the proxy."""
    code = stage.server.invite(org, official, role)
    keys = stage.root / "keys" / official
    result = stage.hotline(
        "enroll", "--server", stage.proxy.url, "--code", code, "--key-dir", str(keys), "--yes"
    )
    assert result.exit_code == 0, result.output
    stage.people[official] = Enrolled(org, official, load_key_dir(keys, PASSPHRASE.encode()))
    stage.admitted(org, official, role)


def _transport(stage: Stage, official: str) -> Transport:
    person = stage.people[official]
    return Transport(
        stage.server.url, official, person.identity, audience=f"{stage.server.url}/v1/token"
    )


def _rotate(stage: Stage, official: str) -> None:
    person = stage.people[official]
    new = Identity.generate()
    transport = _transport(stage, official)
    statement, proof = authoring.rotation(
        person.identity.signing_key, new, person.org, official, transport.clock()
    )
    transport.post_json("/v1/keys/rotate", {"statement": statement, "proof": proof})
    transport.close()
    stage.notes[f"{official}-old"] = person.identity
    person.identity = new


@contextmanager
def _staged(root: Path, database_url: str | None) -> Iterator[Stage]:
    """A live server behind the proxy, with police, clipshare, othershop and their heads."""
    with LiveServer(root / "instance", database_url=database_url) as server:
        proxy = LyingProxy(server.url).start()
        try:
            for org, kind in (
                ("police", "agency"),
                ("clipshare", "platform"),
                ("othershop", "platform"),
            ):
                server.admin("org", "create", org, "--kind", kind, "--name", org.title())
            transport = Transport(server.url)
            log_key = transport.request("GET", "/v1/log/key", auth=False)
            transport.close()
            stage = Stage(server, proxy, root, log_key["origin"], log_key["verifier_key"])
            stage.enroll("police", "officer", "agency_officer")
            stage.enroll("clipshare", "lead", "platform_lead")
            stage.enroll("othershop", "shopper", "platform_lead")
            yield stage
            stage.close_clients()
        finally:
            proxy.stop()


@pytest.fixture(scope="module")
def live_database_url(request) -> Iterator[str | None]:
    """The live server's database: its own SQLite file, or a fresh PostgreSQL database."""
    if databases.BACKEND == "sqlite":
        yield None
        return
    server = request.getfixturevalue("postgres")
    name = server.acquire()
    try:
        yield server.url_for(name)
    finally:
        server.release(name)


@pytest.fixture(scope="module")
def bare_stage(tmp_path_factory, live_database_url) -> Iterator[Stage]:
    """Only the heads of each organisation: for attacks that change the log for good."""
    with _staged(tmp_path_factory.mktemp("adversary"), live_database_url) as stage:
        yield stage


@pytest.fixture(scope="module")
def stage(tmp_path_factory, live_database_url) -> Iterator[Stage]:
    """Plus a rotated key, a revoked key, a deactivated official, a CLI user, and the
    checkpoint from before the revocation."""
    with _staged(tmp_path_factory.mktemp("adversary"), live_database_url) as stage:
        server = stage.server
        stage.enroll("clipshare", "reviewer", "platform_official")
        stage.enroll("clipshare", "second", "platform_official")
        stage.enroll("clipshare", "former", "platform_official")
        transport = _transport(stage, "officer")
        stage.notes["former-keys"] = [
            k for k in transport.get("/v1/orgs/clipshare/keys")["keys"] if k["official"] == "former"
        ]
        transport.close()
        server.admin("official", "deactivate", "former")
        _enroll_with_the_cli(stage, "police", "clerk", "agency_officer")
        _rotate(stage, "reviewer")
        transport = _transport(stage, "officer")
        stage.notes["before-revocation"] = transport.request(
            "GET", "/v1/log/checkpoint", auth=False
        )
        stage.notes["keys-before-revocation"] = transport.get(
            "/v1/orgs/clipshare/keys", status="all"
        )
        transport.close()
        server.admin("key", "revoke", stage.kid("second", "enc"), "--reason", "compromised")
        yield stage


@pytest.fixture
def lies(stage: Stage) -> Iterator[LyingProxy]:
    """The proxy with no rule set and nothing recorded yet."""
    stage.proxy.rules.clear()
    stage.proxy.forwarded.clear()
    yield stage.proxy
    stage.proxy.rules.clear()
    stage.close_clients()


__all__ = ["Stage", "case_body", "recipient_kids"]
