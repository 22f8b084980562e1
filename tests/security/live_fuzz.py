"""`make fuzz`: the suite's schemathesis checks, longer, against a live server process.

    python -m tests.security.live_fuzz [--examples N] [--seed S]

Starts `exchange.ops.devserver.LiveServer` on a fresh instance (SQLite, rate limits off),
creates two agencies, two platforms and an auditor the operator's way (`flask admin`),
enrolls their officials over HTTP and submits two cases with the SDK; then fuzzes every
operation of the live OpenAPI description for each role and without a token, and runs
the two-token cross-organisation check (fuzzing.py says what is checked). Exits non-zero
with the failing request (as a curl command) on the first failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

from exchange.client import authoring
from exchange.client.client import Client
from exchange.client.profile import Profile
from exchange.client.transport import Transport
from exchange.ops.devserver import LiveServer
from exchange.protocol.key_management import code_sha256
from keys import Identity
from tests.schemas import examples
from tests.security import fuzzing

ORGS = {
    "police": "agency",
    "helpline": "agency",
    "clipshare": "platform",
    "chatter": "platform",
    "regulator": "auditor",
}
OFFICIALS = {
    "officer": ("police", "agency_officer"),
    "caseworker": ("helpline", "agency_officer"),
    "lead": ("clipshare", "platform_lead"),  # first: clipshare's bootstrapped lead
    "reviewer": ("clipshare", "platform_official"),
    "ch-lead": ("chatter", "platform_lead"),
    "auditor": ("regulator", "auditor"),
}
ROLES = {
    "agency officer": "officer",
    "platform official": "reviewer",
    "platform lead": "lead",
    "auditor": "auditor",
}


def enroll(server: LiveServer, official: str, state: Path) -> Client:
    org, role = OFFICIALS[official]
    code = server.invite(org, official, role, "--categories", "sexual_deepfake")
    identity = Identity.generate()
    transport = Transport(server.url)
    log_key = transport.request("GET", "/v1/log/key", auth=False)
    statement = authoring.enrollment(identity, org, official, code_sha256(code), transport.clock())
    transport.post_json("/v1/enroll", {"code": code, "statement": statement}, auth=False)
    transport.close()
    profile = Profile(
        official, server.url, "unused", org, official, log_key["origin"], (log_key["verifier_key"],)
    )
    return Client(profile, identity, state_dir=state / official)


def case_body() -> dict[str, object]:
    body = examples.deepfake_case_body()
    body["issuer_case_ref"] = f"FUZZ-{uuid.uuid4().hex[:10]}"
    return body


def run(examples_per_operation: int, seed: int | None) -> None:
    budget = fuzzing.Budget(max_examples=examples_per_operation, derandomize=False, seed=seed)
    with tempfile.TemporaryDirectory(prefix="hotline-fuzz-") as root:
        state = Path(root)
        settings = {"EXCHANGE_RATE_LIMIT_ENABLED": "false"}
        with LiveServer(state / "instance", settings=settings) as server:
            for org, kind in ORGS.items():
                server.admin("org", "create", org, "--kind", kind, "--name", org.title())
            clients = {official: enroll(server, official, state) for official in OFFICIALS}
            # The lead approves the operator's invitation and signs the routing.
            clients["lead"].membership(
                "approve",
                official="reviewer",
                role="platform_official",
                categories=["sexual_deepfake"],
                lead=False,
            )
            clients["lead"].membership("route", category="sexual_deepfake", official="reviewer")
            cases = [
                clients["officer"].submit(case_body(), "clipshare").case_id,
                clients["caseworker"].submit(case_body(), "chatter").case_id,
            ]
            known = {
                "case_id": cases,
                "org_id": list(ORGS),
                "kid": [c.identity.signing_kid for c in clients.values()],
            }
            schema = fuzzing.load_url(f"{server.url}/v1/openapi.json")
            for role, official in [*ROLES.items(), ("no token", None)]:
                token: fuzzing.Token = (
                    clients[official].transport.access_token if official else (lambda: None)
                )
                ran = fuzzing.fuzz(schema, token, budget, known)
                print(f"{role}: {ran} strategies x {examples_per_operation} examples: ok")
            checked = fuzzing.cross_organisation(
                schema,
                clients["officer"].transport.access_token,
                [clients[o].transport.access_token for o in ("caseworker", "ch-lead")],
                budget,
                {"case_id": cases[0]},
            )
            print(f"cross-organisation: {', '.join(checked)}: ok")
            for client in clients.values():
                client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation and mode")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    run(args.examples, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
