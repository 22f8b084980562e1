"""A live exchange for the audit CLI: a real server process, set up by the operator's
`flask --app wsgi admin` commands, officials enrolled over HTTP, one case and its receipt."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from exchange.client import authoring
from exchange.ops.devserver import LiveServer
from exchange.protocol import envelope as env
from exchange.protocol.key_management import code_sha256
from keys import Identity, create_key_dir
from schemas.common import format_utc
from tests.schemas import examples

PASSPHRASE = "audit cli passphrase"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class Person:
    def __init__(self, server: LiveServer, org: str, official: str, identity: Identity) -> None:
        self.server, self.org, self.official, self.identity = server, org, official, identity
        self._token: str | None = None

    def headers(self) -> dict[str, str]:
        if self._token is None:
            assertion = authoring.client_assertion(
                self.identity, self.official, f"{self.server.url}/v1/token", datetime.now(UTC)
            )
            response = httpx.post(
                f"{self.server.url}/v1/token",
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": assertion,
                },
            )
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def post(self, path: str, body: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.server.url}{path}", json=body, headers=self.headers())
        assert response.status_code == 201, response.text
        return response.json()

    def inbox(self) -> None:
        response = httpx.get(f"{self.server.url}/v1/inbox?after=0", headers=self.headers())
        assert response.status_code == 200, response.text

    def sender(self) -> dict[str, str]:
        return {"org": self.org, "official": self.official, "kid": self.identity.signing_kid}


def enroll(server: LiveServer, keys: Path, org: str, official: str, role: str, *options: str):
    code = server.invite(org, official, role, *options)
    identity = create_key_dir(keys / official, PASSPHRASE.encode())
    statement = authoring.enrollment(identity, org, official, code_sha256(code), datetime.now(UTC))
    response = httpx.post(f"{server.url}/v1/enroll", json={"code": code, "statement": statement})
    assert response.status_code == 201, response.text
    return Person(server, org, official, identity), response.json()["log_verifier_key"]


def populate(server: LiveServer, keys: Path) -> str:
    """Organisations, officials, a case, its delivery and receipt; return the log key."""
    for org, kind in (
        ("police", "agency"),
        ("clipshare", "platform"),
        ("chatter", "platform"),
        ("regulator", "auditor"),
    ):
        server.admin("org", "create", org, "--kind", kind, "--name", org.title())
    officer, log_key = enroll(server, keys, "police", "officer", "agency_officer")
    reviewer, _ = enroll(
        server,
        keys,
        "clipshare",
        "reviewer",
        "platform_official",
        "--categories",
        "sexual_deepfake",
    )
    enroll(server, keys, "chatter", "ch-lead", "platform_lead")
    enroll(server, keys, "regulator", "auditor", "auditor")
    # clipshare's first official is its bootstrapped lead: they sign the routing.
    reviewer.post(
        "/v1/orgs/clipshare/membership",
        {
            "statement": authoring.membership(
                reviewer.identity.signing_key,
                "clipshare",
                "route",
                datetime.now(UTC),
                category="sexual_deepfake",
                official="reviewer",
            )
        },
    )
    readers = [officer.identity.encryption_public_key, reviewer.identity.encryption_public_key]
    body = examples.deepfake_case_body()
    body["issuer_case_ref"] = f"REF-{uuid.uuid4().hex[:10]}"
    record = {
        "handoff_id": str(uuid.uuid4()),
        "case_id": str(uuid.uuid4()),
        "kind": "case",
        "issued_at": format_utc(datetime.now(UTC)),
        "sender": officer.sender(),
        "to": ["clipshare"],
        "in_reply_to": None,
        "body": body,
    }
    case = env.seal(record, officer.identity.signing_key, readers)
    officer.post("/v1/cases", case.to_json())
    reviewer.inbox()
    statement = env.verify_statement(
        case, {officer.identity.signing_kid: officer.identity.signing_public_key}
    ).payload
    receipt = env.sign_statement(
        {
            "handoff_id": str(uuid.uuid4()),
            "case_id": record["case_id"],
            "kind": "receipt",
            "issued_at": format_utc(datetime.now(UTC)),
            "sender": reviewer.sender(),
            "to": ["police"],
            "in_reply_to": record["handoff_id"],
            "meta": {
                "handoff_id": record["handoff_id"],
                "record_sha256": statement["record_sha256"],
                "received_at": format_utc(datetime.now(UTC)),
            },
        },
        reviewer.identity.signing_key,
    )
    reviewer.post(f"/v1/cases/{record['case_id']}/handoffs", receipt.to_json())
    officer.inbox()
    return log_key
