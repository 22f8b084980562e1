"""The real path over real HTTP, against the ceiling of this machine and server setup.

gunicorn with the production settings (gunicorn.conf.py) serves, in turn, the exchange
and a bare Flask endpoint that parses the same JSON bodies (the ceiling). Clients are
separate processes sending prepared requests: cases are sealed (4 KiB record, 3
recipients) before the timed part. Rate limits are off: a load test from one address and
one official is exactly what they exist to stop.
"""

import json
import os
import random
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import load as loadgen
from bench import populate
from exchange import db
from exchange import envelope as env
from exchange.client import statements
from exchange.client.transport import Transport
from exchange.devserver import LiveServer
from exchange.envelope.canonical import canonical
from exchange.envelope.templates import template
from exchange.serverkeys import load as load_server_keys
from exchange.services.operator import code_sha256
from keys import Identity
from schemas.common import format_utc
from schemas.enums import Kind

WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
SUBMITS = int(os.environ.get("BENCH_SUBMITS", "1000"))
PULLS = int(os.environ.get("BENCH_PULLS", "500"))
SMALL, LARGE = 10**3, int(os.environ.get("BENCH_LARGE", str(10**5)))
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
RECORD_BYTES = 4096
SETTINGS = {
    "EXCHANGE_RATE_LIMIT_ENABLED": "false",
    "EXCHANGE_TOKEN_TTL_SECONDS": "7200",
    "EXCHANGE_LOG_LEVEL": "warning",
}
TARGET_SUBMIT_RATIO = 0.3
TARGET_GROWTH = 0.10


class Party:
    """An enrolled official whose requests the load generator sends."""

    def __init__(self, server: LiveServer, org: str, official: str, role: str) -> None:
        code = server.invite(org, official, role)
        self.org, self.official, self.identity = org, official, Identity.generate()
        self.transport = Transport(server.url, official, self.identity)
        statement = statements.enrollment(
            self.identity, org, official, code_sha256(code), self.transport.clock()
        )
        self.transport.post_json("/v1/enroll", {"code": code, "statement": statement}, auth=False)

    def headers(self, json_body: bool = False) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.transport.access_token()}"}
        return {**headers, "Content-Type": "application/json"} if json_body else headers


def sealed_case(sender: Party, recipients: list[Any]) -> bytes:
    record = template(Kind.CASE)
    record.update(
        handoff_id=str(uuid.uuid4()),
        case_id=str(uuid.uuid4()),
        issued_at=format_utc(sender.transport.clock()),
        sender={"org": sender.org, "official": sender.official, "kid": sender.identity.signing_kid},
        to=["clipshare"],
    )
    body = record["body"]
    body["issuer_case_ref"] = f"BENCH-{record['case_id']}"
    body["statement_of_reasons"] = ""
    body["statement_of_reasons"] = "x" * (
        RECORD_BYTES - len(canonical({"typ": "hotline.record/v1", **record}))
    )
    sealed = env.seal(record, sender.identity.signing_key, recipients)
    return json.dumps(sealed.to_json()).encode()


@dataclass
class Measured:
    label: str
    submit: dict[int, loadgen.LoadResult] = field(default_factory=dict)
    inbox: loadgen.LoadResult | None = None
    bodies: list[bytes] = field(default_factory=list)


def measure_exchange(workdir: Path, label: str, database_url: str | None) -> Measured:
    measured = Measured(label)
    server = LiveServer(workdir / label, database_url, SETTINGS, workers=WORKERS)
    with server:
        for org, kind in (("police", "agency"), ("clipshare", "platform")):
            server.admin("org", "create", org, "--kind", kind, "--name", org.title())
        officer = Party(server, "police", "officer", "agency_officer")
        reviewer = Party(server, "clipshare", "reviewer", "platform_official")
        lead = Party(server, "clipshare", "lead", "platform_lead")
        server.admin("routing", "set", "clipshare", "sexual_deepfake", "reviewer")
        recipients = [p.identity.encryption_public_key for p in (reviewer, lead, officer)]
        database = db.make_database(server.database_url)
        signer = load_server_keys(
            server.instance / "keys",
            server.env["EXCHANGE_KEY_PASSPHRASE"].encode(),
            "hotline-exchange.local/log",
        ).log
        try:
            first = officer.transport.post_json(
                "/v1/cases", json.loads(sealed_case(officer, recipients))
            )
            sample = populate.template_from(database, first["handoff_id"], "reviewer")
            for stored in (SMALL, LARGE):
                populate.populate(
                    database,
                    signer,
                    stored - populate.case_count(database),
                    sample,
                    ["reviewer", "lead"],
                )
                bodies = [sealed_case(officer, recipients) for _ in range(SUBMITS)]
                measured.bodies = bodies
                requests = [("POST", "/v1/cases", b, officer.headers(True)) for b in bodies]
                measured.submit[stored] = loadgen.run(server.url, requests, CLIENTS, 201)
            newest = populate.case_count(database)
            sampler = random.Random(0)  # noqa: S311 - which inbox pages to pull, not secrets
            pulls = [
                (
                    "GET",
                    f"/v1/inbox?after={sampler.randrange(newest - 50)}&limit=50",
                    None,
                    reviewer.headers(),
                )
                for _ in range(PULLS)
            ]
            measured.inbox = loadgen.run(server.url, pulls, CLIENTS, 200)
        finally:
            database.engine.dispose()
    return measured


def measure_bare(workdir: Path, bodies: list[bytes]) -> loadgen.LoadResult:
    with LiveServer(
        workdir / "bare", settings=SETTINGS, workers=WORKERS, wsgi_app="bench.bare:app"
    ) as bare:
        headers = {"Content-Type": "application/json"}
        return loadgen.run(bare.url, [("POST", "/bare", b, headers) for b in bodies], CLIENTS, 201)


def _postgres_database(name: str) -> str | None:
    """A fresh PostgreSQL database for the run, or None where PostgreSQL is not here."""
    import psycopg

    try:
        with psycopg.connect(POSTGRES.replace("+psycopg", "") + "/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None
    return f"{POSTGRES}/{name}"


def _drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES.replace("+psycopg", "") + "/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(measured: Measured, ceiling: loadgen.LoadResult) -> list[str]:
    small, large = measured.submit[SMALL], measured.submit[LARGE]
    ratio = small.rps / ceiling.rps
    growth = (small.rps - large.rps) / small.rps
    lines = [f"  exchange on {measured.label}:"]
    lines += [
        result.line(f"POST /v1/cases, {n:>6} stored") for n, result in measured.submit.items()
    ]
    if measured.inbox is not None:
        lines.append(measured.inbox.line("GET /v1/inbox, 50 handoffs"))
    lines.append(
        f"    submit / bare throughput {ratio:.3f} (target >= {TARGET_SUBMIT_RATIO}): "
        + ("ok" if ratio >= TARGET_SUBMIT_RATIO else "MISSED")
    )
    lines.append(
        f"    {LARGE} stored vs {SMALL}: {growth * 100:+.1f} % slower "
        f"(target <= {TARGET_GROWTH * 100:.0f} %): "
        + ("ok" if growth <= TARGET_GROWTH else "MISSED")
    )
    if measured.inbox is not None:
        lines.append(f"    inbox pull / bare throughput {measured.inbox.rps / ceiling.rps:.3f}")
    return lines


def run() -> list[str]:
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    lines = [
        f"api: real HTTP to gunicorn (gunicorn.conf.py, {WORKERS} workers), "
        f"{CLIENTS} client processes, 4 KiB records sealed to 3 recipients beforehand"
    ]
    sqlite = measure_exchange(workdir, "sqlite", None)
    ceiling = measure_bare(workdir, sqlite.bodies)
    lines.append(ceiling.line("bare endpoint, same bodies (ceiling)"))
    lines += report(sqlite, ceiling)
    name = f"hotline_bench_{os.getpid()}"
    postgres_url = _postgres_database(name)
    if postgres_url is None:
        lines.append("  exchange on postgresql: skipped, PostgreSQL is not reachable")
        return lines
    try:
        lines += report(measure_exchange(workdir, "postgresql", postgres_url), ceiling)
    finally:
        _drop_postgres(name)
    return lines
