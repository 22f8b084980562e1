"""A populated exchange for API tests: organisations, enrolled officials, tokens, cases.

Everything goes through the real code: the operator's services for set-up, and HTTP with
real keys and real envelopes for everything an official does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from exchange import db
from exchange import envelope as env
from exchange.client import statements
from exchange.services import operator
from keys import Identity
from schemas.common import format_utc
from tests.conftest import PUBLIC_URL, FakeClock
from tests.schemas import examples

TOKEN_URL = f"{PUBLIC_URL}/v1/token"


@dataclass
class Official:
    world: World
    org: str
    id: str
    role: str
    identity: Identity = field(default_factory=Identity.generate)
    token: str | None = None

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
                "client_assertion": statements.client_assertion(
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


class World:
    def __init__(self, app: Flask, client: FlaskClient, clock: FakeClock) -> None:
        self.app, self.client, self.clock = app, client, clock
        self.officials: dict[str, Official] = {}

    # --- set-up by the operator --------------------------------------------------------------

    def org(self, org_id: str, kind: str) -> None:
        with self.app.app_context(), db.write() as session:
            operator.create_organisation(session, self.clock(), org_id, kind, org_id.title())

    def invite(self, org: str, official_id: str, role: str, **options: Any) -> str:
        with self.app.app_context(), db.write() as session:
            _, code = operator.invite_official(
                session,
                self.clock(),
                timedelta(hours=72),
                org_id=org,
                official_id=official_id,
                role=role,
                **options,
            )
        return code

    def enroll(self, org: str, official_id: str, role: str, **options: Any) -> Official:
        code = self.invite(org, official_id, role, **options)
        person = Official(self, org, official_id, role)
        response = self.client.post(
            "/v1/enroll",
            json={
                "code": code,
                "statement": statements.enrollment(
                    person.identity, org, official_id, operator.code_sha256(code), self.clock()
                ),
            },
        )
        assert response.status_code == 201, response.get_json()
        self.officials[official_id] = person
        return person

    def route(self, platform: str, category: str, official_id: str) -> None:
        with self.app.app_context(), db.write() as session:
            operator.set_route(session, self.clock(), platform, category, official_id)

    # --- what officials send -----------------------------------------------------------------

    def keys_of(self, *orgs: str) -> list[Any]:
        """Every active encryption key of the named organisations' enrolled officials."""
        return [
            person.identity.encryption_public_key
            for person in self.officials.values()
            if person.org in orgs and person.role != "auditor"
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
        statement = env.verify_statement(
            acknowledged,
            {
                k: v
                for p in self.officials.values()
                for k, v in [(p.identity.signing_kid, p.identity.signing_public_key)]
            },
        ).payload
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
