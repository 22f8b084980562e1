"""A populated exchange for API tests: organisations, enrolled officials, tokens, cases.

Everything goes through the real code: the operator's services for set-up, and HTTP with
real keys and real envelopes for everything an official does.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from exchange import runtime
from exchange.client import authoring
from exchange.protocol import envelope as env
from exchange.protocol.key_management import code_sha256
from exchange.services import enrollment, operator
from exchange.storage.models import LogEntry
from keys import Identity, b64url_decode
from schemas.common import format_utc
from tests.conftest import PUBLIC_URL, FakeClock
from tests.schemas import examples

TOKEN_URL = f"{PUBLIC_URL}/v1/token"


def statement_of(sealed: env.Envelope) -> dict[str, Any]:
    """The statement's payload, read without verifying (the server is what verifies)."""
    return json.loads(b64url_decode(sealed.statement.split(".")[1]))


@dataclass
class Official:
    world: World
    org: str
    id: str
    role: str
    identity: Identity = field(default_factory=Identity.generate)
    token: str | None = None
    active: bool = True

    @property
    def client(self) -> FlaskClient:
        return self.world.client

    def sender(self) -> dict[str, str]:
        return {"org": self.org, "official": self.id, "kid": self.identity.signing_kid}

    def headers(self) -> dict[str, str]:
        if self.token is None:
            self.login()
        return {"Authorization": f"Bearer {self.token}"}

    def login(self) -> None:
        response = self.client.post(
            "/v1/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": authoring.client_assertion(
                    self.identity, self.id, TOKEN_URL, self.world.clock()
                ),
            },
        )
        assert response.status_code == 200, response.get_json()
        self.token = response.get_json()["access_token"]

    def get(self, path: str, **kwargs: Any):
        return self.client.get(path, headers=self.headers(), **kwargs)

    def post(self, path: str, body: Any, **kwargs: Any):
        return self.client.post(path, json=body, headers=self.headers(), **kwargs)

    def send(self, sealed: env.Envelope):
        """POST an envelope where its kind belongs: a case to /v1/cases, the rest to its case."""
        payload = statement_of(sealed)
        if payload["kind"] == "case":
            return self.post("/v1/cases", sealed.to_json())
        return self.post(f"/v1/cases/{payload['case_id']}/handoffs", sealed.to_json())

    def open(self, document: dict[str, Any]) -> env.OpenedRecord:
        """Decrypt and verify an envelope as received (from the inbox or a timeline)."""
        return env.open(
            env.Envelope(document["statement"], document["jwe"]),
            self.identity.encryption_key,
            self.world.signing_keys(),
            self.org,
        )


class World:
    def __init__(self, app: Flask, client: FlaskClient, clock: FakeClock) -> None:
        self.app, self.client, self.clock = app, client, clock
        self.officials: dict[str, Official] = {}
        self.leads: dict[str, str] = {}  # org → its bootstrapped lead

    # --- set-up by the operator --------------------------------------------------------------

    def org(self, org_id: str, kind: str) -> None:
        with self.app.app_context(), runtime.write() as session:
            operator.create_organisation(session, self.clock(), org_id, kind, org_id.title())

    def operator_invite(
        self, org: str, official_id: str, role: str, *, bootstrap_lead: bool = False, **options: Any
    ) -> str:
        """The operator's invitation: pending until a lead approves (unless the bootstrap)."""
        with self.app.app_context(), runtime.write() as session:
            _, code = operator.invite_official(
                session,
                self.clock(),
                timedelta(hours=72),
                org_id=org,
                official_id=official_id,
                role=role,
                bootstrap_lead=bootstrap_lead,
                **options,
            )
        return code

    def invite(self, org: str, official_id: str, role: str, **options: Any) -> str:
        """As in production: the operator bootstraps an organisation's first official as its
        lead; the lead invites everyone after, with a signed membership statement."""
        if org not in self.leads:
            self.leads[org] = official_id
            return self.operator_invite(org, official_id, role, bootstrap_lead=True, **options)
        response = self.membership(
            org,
            "invite",
            official=official_id,
            role=role,
            categories=list(options.get("categories", [])),
            lead=False,
            title=options.get("title", ""),
        )
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["code"])

    def membership(self, org: str, action: str, signer: str | None = None, **fields: Any):
        """POST a membership statement signed by `signer` (the org's first lead by default)."""
        lead = self.officials[signer or self.leads[org]]
        statement = authoring.membership(
            lead.identity.signing_key, org, action, self.clock(), **fields
        )
        return lead.post(f"/v1/orgs/{org}/membership", {"statement": statement})

    def approve(self, org: str, official_id: str, role: str, **fields: Any) -> None:
        fields.setdefault("categories", [])
        fields.setdefault("lead", False)
        response = self.membership(org, "approve", official=official_id, role=role, **fields)
        assert response.status_code == 201, response.get_json()

    def enroll(self, org: str, official_id: str, role: str, **options: Any) -> Official:
        code = self.invite(org, official_id, role, **options)
        person = Official(self, org, official_id, role)
        response = self.client.post(
            "/v1/enroll",
            json={
                "code": code,
                "statement": authoring.enrollment(
                    person.identity, org, official_id, code_sha256(code), self.clock()
                ),
            },
        )
        assert response.status_code == 201, response.get_json()
        self.officials[official_id] = person
        return person

    def route(self, platform: str, category: str, official_id: str) -> None:
        """Routing is signed by a lead of the platform."""
        response = self.membership(platform, "route", category=category, official=official_id)
        assert response.status_code == 201, response.get_json()

    def deactivate(self, official_id: str) -> None:
        with self.app.app_context(), runtime.write() as session:
            operator.deactivate_official(session, self.clock(), official_id)
        if official_id in self.officials:
            self.officials[official_id].active = False

    def revoke_by_operator(self, kid: str, reason: str = "compromised") -> None:
        with self.app.app_context(), runtime.write() as session:
            enrollment.revoke_by_operator(session, self.clock(), kid, reason)

    # --- the log, read straight from the database ----------------------------------------------

    def log_size(self) -> int:
        with self.app.app_context(), runtime.read() as session:
            return int(session.scalar(select(func.count()).select_from(LogEntry)) or 0)

    def log_entries(self, start: int = 0) -> list[dict[str, Any]]:
        """The log's entries from `start` on, each parsed from its leaf (the signed bytes)."""
        with self.app.app_context(), runtime.read() as session:
            rows = session.scalars(
                select(LogEntry).where(LogEntry.index >= start).order_by(LogEntry.index)
            ).all()
            return [json.loads(row.leaf) for row in rows]

    def signing_keys(self) -> dict[str, Any]:
        """Every enrolled official's current signing key, by kid."""
        return {
            p.identity.signing_kid: p.identity.signing_public_key for p in self.officials.values()
        }

    # --- what officials send -----------------------------------------------------------------

    def keys_of(self, *orgs: str) -> list[Any]:
        """Every active encryption key of the named organisations' enrolled officials."""
        return [
            person.identity.encryption_public_key
            for person in self.officials.values()
            if person.org in orgs and person.role != "auditor" and person.active
        ]

    def case_record(self, sender: Official, to: str, **body_changes: Any) -> dict[str, Any]:
        body = examples.deepfake_case_body()
        body["issuer_case_ref"] = f"REF-{uuid.uuid4().hex[:12]}"
        body.update(body_changes)
        return {
            "handoff_id": str(uuid.uuid4()),
            "case_id": str(uuid.uuid4()),
            "kind": "case",
            "issued_at": format_utc(self.clock()),
            "sender": sender.sender(),
            "to": [to],
            "in_reply_to": None,
            "body": body,
        }

    def seal_case(self, sender: Official, to: str, **body_changes: Any) -> env.Envelope:
        record = self.case_record(sender, to, **body_changes)
        return env.seal(record, sender.identity.signing_key, self.keys_of(to, sender.org))

    def submit(self, sender: Official, to: str, **body_changes: Any) -> tuple[env.Envelope, Any]:
        sealed = self.seal_case(sender, to, **body_changes)
        return sealed, sender.post("/v1/cases", sealed.to_json())

    def reply(
        self,
        sender: Official,
        case_id: str,
        kind: str,
        in_reply_to: str,
        to: str,
        body: dict[str, Any] | None = None,
        meta: dict[str, Any] | None = None,
        handoff_id: str | None = None,
    ) -> env.Envelope:
        fields = {
            "handoff_id": handoff_id or str(uuid.uuid4()),
            "case_id": case_id,
            "kind": kind,
            "issued_at": format_utc(self.clock()),
            "sender": sender.sender(),
            "to": [to],
            "in_reply_to": in_reply_to,
        }
        if body is None:
            return env.sign_statement({**fields, "meta": meta or {}}, sender.identity.signing_key)
        return env.seal(
            {**fields, "body": body},
            sender.identity.signing_key,
            self.keys_of(to, sender.org),
        )

    def receipt(self, sender: Official, case_id: str, acknowledged: env.Envelope, to: str):
        statement = statement_of(acknowledged)
        meta = {
            "handoff_id": statement["handoff_id"],
            "record_sha256": statement["record_sha256"],
            "received_at": format_utc(self.clock()),
        }
        return self.reply(sender, case_id, "receipt", statement["handoff_id"], to, meta=meta)


def standard_world(app: Flask, client: FlaskClient, clock: FakeClock) -> World:
    """An agency, a helpline, two platforms (an official and a lead each), an auditor."""
    world = World(app, client, clock)
    for org, kind in (
        ("metro-police", "agency"),
        ("helpline", "agency"),
        ("clipshare", "platform"),
        ("chatter", "platform"),
        ("regulator", "auditor"),
    ):
        world.org(org, kind)
    world.enroll("metro-police", "officer-1", "agency_officer")
    world.enroll("metro-police", "officer-2", "agency_officer")
    world.enroll("helpline", "caseworker-1", "agency_officer")
    world.enroll("clipshare", "cs-lead", "platform_lead")
    world.enroll("clipshare", "cs-reviewer", "platform_official", categories=["sexual_deepfake"])
    world.enroll("chatter", "ch-lead", "platform_lead")
    world.enroll("chatter", "ch-reviewer", "platform_official")
    world.enroll("regulator", "auditor-1", "auditor")
    world.route("clipshare", "sexual_deepfake", "cs-reviewer")
    return world
