"""The real path over real HTTP, against the ceiling of this machine and server setup.

gunicorn with the production settings (gunicorn.conf.py) serves a bare Flask endpoint that
parses the same JSON bodies (the ceiling) and two exchanges, one with 10^3 and one with
10^5 cases stored, side by side; their loads are sent in turn, a share each round, so
every ratio compares one moment of a machine whose speed drifts. Clients are separate
processes sending prepared requests: cases are sealed (4 KiB record, 3 recipients)
before the timed part. Rate limits are off: a load test from one address and
one official is exactly what they exist to stop.

The generator is wrk where it is installed (`bench.wrk`, each prepared request sent once;
BENCH_GENERATOR=python for `bench.load`'s client processes): it drives the bare endpoint
harder than Python clients can, so the ceiling is the server's, not the generator's. Each
line reports the generator's own share of the machine's CPU.

Each submit line is followed by the group commits the server made (`hotline_commit_batch_size`
from its /metrics): with one thread per worker every batch holds one handoff, so a last
section runs the submits again with GUNICORN_THREADS threads per worker, against a bare
endpoint under the same settings, to show the batches that concurrent handoffs form.
"""

import json
import os
import random
import tempfile
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench import load as loadgen
from bench import populate, wrk
from exchange.client import authoring
from exchange.client.transport import Transport
from exchange.log.keyring import load as load_server_keys
from exchange.ops.devserver import LiveServer
from exchange.protocol import envelope as env
from exchange.protocol.envelope.canonical import canonical
from exchange.protocol.envelope.templates import template
from exchange.protocol.key_management import code_sha256
from exchange.storage import database
from keys import Identity
from schemas.common import format_utc
from schemas.enums import Kind

WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
SUBMITS = int(os.environ.get("BENCH_SUBMITS", "1000"))
PULLS = int(os.environ.get("BENCH_PULLS", "500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SMALL, LARGE = 10**3, int(os.environ.get("BENCH_LARGE", str(10**5)))
POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")
RECORD_BYTES = 4096
SETTINGS = {
    "EXCHANGE_RATE_LIMIT_ENABLED": "false",
    "EXCHANGE_TOKEN_TTL_SECONDS": "7200",
    "EXCHANGE_LOG_LEVEL": "warning",
}
GENERATOR = os.environ.get("BENCH_GENERATOR") or ("wrk" if wrk.available() else "python")
send = wrk.run if GENERATOR == "wrk" else loadgen.run
GROUP_THREADS = int(os.environ.get("BENCH_GROUP_THREADS", "4"))
TARGET_SUBMIT_RATIO = {"sqlite": 0.3, "postgresql": 0.2}
TARGET_INBOX_RATIO = 0.1
TARGET_GROWTH = 0.10


class Party:
    """An enrolled official whose requests the load generator sends."""

    def __init__(self, server: LiveServer, org: str, official: str, role: str) -> None:
        code = server.invite(org, official, role)
        self.org, self.official, self.identity = org, official, Identity.generate()
        self.transport = Transport(server.url, official, self.identity)
        statement = authoring.enrollment(
            self.identity, org, official, code_sha256(code), self.transport.clock()
        )
        self.transport.post_json("/v1/enroll", {"code": code, "statement": statement}, auth=False)

    def headers(self, json_body: bool = False) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.transport.access_token()}"}
        return {**headers, "Content-Type": "application/json"} if json_body else headers

    def membership(self, action: str, **fields: Any) -> None:
        """A membership statement signed by this official, a lead of their organisation."""
        statement = authoring.membership(
            self.identity.signing_key, self.org, action, self.transport.clock(), **fields
        )
        self.transport.post_json(f"/v1/orgs/{self.org}/membership", {"statement": statement})


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
    ceiling: loadgen.LoadResult | None = None
    inbox: loadgen.LoadResult | None = None
    # Handoffs per group commit during the submits, by stored size: {batch size bound: count}
    batches: dict[int, dict[float, float]] = field(default_factory=dict)


def batch_sizes(url: str) -> dict[float, float]:
    """The server's `hotline_commit_batch_size` histogram (summed over its workers), as the
    number of batches of each size range: {upper bound: batches}."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    cumulative = {
        float(sample.labels["le"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "hotline_commit_batch_size"
        for sample in family.samples
        if sample.name.endswith("_bucket")
    }
    counts, below = {}, 0.0
    for bound in sorted(cumulative):
        counts[bound], below = cumulative[bound] - below, cumulative[bound]
    return counts


def batch_line(counts: dict[float, float]) -> str:
    batches = sum(counts.values())
    if not batches:
        return "no group commits counted"
    labels = []
    for previous, bound in zip([0.0, *counts], counts, strict=False):
        low = int(previous) + 1
        if bound == float("inf"):
            labels.append(f">{int(previous)}")
        else:
            labels.append(str(low) if low == int(bound) else f"{low}-{int(bound)}")
    shown = ", ".join(
        f"{label}: {int(n)}" for label, n in zip(labels, counts.values(), strict=True) if n
    )
    return f"group commits: {int(batches)}; by handoffs per commit: {shown}"


class Deployment:
    """An exchange behind gunicorn with its parties and `stored` cases already in it."""

    def __init__(
        self,
        stack: ExitStack,
        workdir: Path,
        database_url: str | None,
        stored: int,
        settings: dict[str, str] = SETTINGS,
    ) -> None:
        self.server = server = stack.enter_context(
            LiveServer(workdir, database_url, settings, workers=WORKERS)
        )
        for org, kind in (("police", "agency"), ("clipshare", "platform")):
            server.admin("org", "create", org, "--kind", kind, "--name", org.title())
        # Each organisation's first official is its bootstrapped lead (LiveServer.invite);
        # clipshare's lead approves the reviewer and routes the category to them.
        self.officer = Party(server, "police", "officer", "agency_officer")
        lead = Party(server, "clipshare", "lead", "platform_lead")
        self.reviewer = Party(server, "clipshare", "reviewer", "platform_official")
        lead.membership(
            "approve", official="reviewer", role="platform_official", categories=[], lead=False
        )
        lead.membership("route", category="sexual_deepfake", official="reviewer")
        self.recipients = [
            p.identity.encryption_public_key for p in (self.reviewer, lead, self.officer)
        ]
        db = database.make_database(server.database_url)
        try:
            signer = load_server_keys(
                server.instance / "keys",
                server.env["EXCHANGE_KEY_PASSPHRASE"].encode(),
                "hotline-exchange.local/log",
            ).log
            first = self.officer.transport.post_json(
                "/v1/cases", json.loads(sealed_case(self.officer, self.recipients))
            )
            sample = populate.template_from(db, first["handoff_id"], "reviewer")
            populate.populate(
                db,
                signer,
                stored - populate.case_count(db),
                sample,
                ["reviewer", "lead"],
            )
            self.stored = populate.case_count(db)
        finally:
            db.engine.dispose()

    def submits(self, count: int) -> list[bytes]:
        return [sealed_case(self.officer, self.recipients) for _ in range(count)]

    def pulls(self, count: int) -> list[loadgen.Request]:
        sampler = random.Random(0)  # noqa: S311 - which inbox pages to pull, not secrets
        return [
            (
                "GET",
                f"/v1/inbox?after={sampler.randrange(self.stored - 50)}&limit=50",
                None,
                self.reviewer.headers(),
            )
            for _ in range(count)
        ]


def _in_turn(
    targets: dict[str, tuple[str, list[loadgen.Request]]], clients: int = CLIENTS
) -> dict[str, loadgen.LoadResult]:
    """Each target's requests in ROUNDS shares, the targets in turn round after round.

    This machine's speed drifts over the minutes a run takes; in turn, the ceiling and
    the exchange at either size see the same drift, and each ratio compares one moment.
    """
    results: dict[str, list[loadgen.LoadResult]] = {name: [] for name in targets}
    for round_ in range(ROUNDS):
        for name, (url, requests) in targets.items():
            share = requests[round_::ROUNDS]
            results[name].append(send(url, share, clients, 201))
    return {name: loadgen.LoadResult.combined(parts) for name, parts in results.items()}


def measure_exchange(workdir: Path, label: str, database_urls: dict[int, str | None]) -> Measured:
    measured = Measured(label)
    with ExitStack() as stack:
        bare = stack.enter_context(
            LiveServer(
                workdir / f"{label}-bare",
                settings=SETTINGS,
                workers=WORKERS,
                wsgi_app="bench.bare:app",
            )
        )
        deployments = {
            stored: Deployment(stack, workdir / f"{label}-{stored}", url, stored)
            for stored, url in database_urls.items()
        }
        bodies = {stored: d.submits(SUBMITS) for stored, d in deployments.items()}
        json_headers = {"Content-Type": "application/json"}
        targets = {
            "bare": (bare.url, [("POST", "/bare", b, json_headers) for b in bodies[SMALL]]),
            **{
                str(stored): (
                    d.server.url,
                    [("POST", "/v1/cases", b, d.officer.headers(True)) for b in bodies[stored]],
                )
                for stored, d in deployments.items()
            },
        }
        results = _in_turn(targets)
        measured.ceiling = results["bare"]
        measured.submit = {stored: results[str(stored)] for stored in deployments}
        # Read before the inbox pulls, whose read-audit entries are not group commits.
        measured.batches = {stored: batch_sizes(d.server.url) for stored, d in deployments.items()}
        large = deployments[LARGE]
        measured.inbox = send(large.server.url, large.pulls(PULLS), CLIENTS, 200)
    return measured


def group_commit(workdir: Path) -> list[str]:
    """The production setup with GUNICORN_THREADS threads per worker and twice the
    connections, so that handoffs meet in a worker and share a group commit; the batch
    sizes it formed, and the ratio to the bare endpoint under the same settings."""
    settings = {**SETTINGS, "GUNICORN_THREADS": str(GROUP_THREADS)}
    clients = 2 * CLIENTS
    with ExitStack() as stack:
        bare = stack.enter_context(
            LiveServer(
                workdir / "group-bare",
                settings=settings,
                workers=WORKERS,
                wsgi_app="bench.bare:app",
            )
        )
        deployment = Deployment(stack, workdir / "group", None, SMALL, settings)
        bodies = deployment.submits(SUBMITS)
        json_headers = {"Content-Type": "application/json"}
        results = _in_turn(
            {
                "bare": (bare.url, [("POST", "/bare", b, json_headers) for b in bodies]),
                "submit": (
                    deployment.server.url,
                    [("POST", "/v1/cases", b, deployment.officer.headers(True)) for b in bodies],
                ),
            },
            clients,
        )
        batches = batch_sizes(deployment.server.url)
    ceiling, submit = results["bare"], results["submit"]
    ratio = submit.rps / ceiling.rps
    return [
        f"  group commit: the same, {WORKERS} workers x {GROUP_THREADS} threads, "
        f"{clients} connections, SQLite, {SMALL} stored:",
        ceiling.line("bare endpoint, same settings"),
        submit.line(f"POST /v1/cases, {SMALL:>6} stored"),
        f"      {batch_line(batches)}",
        f"    submit / bare throughput {ratio:.3f} (target >= {TARGET_SUBMIT_RATIO['sqlite']}): "
        + ("ok" if ratio >= TARGET_SUBMIT_RATIO["sqlite"] else "MISSED"),
    ]


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


def report(measured: Measured) -> list[str]:
    ceiling = measured.ceiling
    assert ceiling is not None
    small, large = measured.submit[SMALL], measured.submit[LARGE]
    ratio = small.rps / ceiling.rps
    growth = (small.rps - large.rps) / small.rps
    lines = [f"  exchange on {measured.label}, in turn with the bare endpoint ({ROUNDS} rounds):"]
    lines.append(ceiling.line("bare endpoint, same bodies (ceiling)"))
    for n, result in measured.submit.items():
        lines.append(result.line(f"POST /v1/cases, {n:>6} stored"))
        if n in measured.batches:
            lines.append(f"      {batch_line(measured.batches[n])}")
    if measured.inbox is not None:
        lines.append(measured.inbox.line("GET /v1/inbox, 50 handoffs"))
    target = TARGET_SUBMIT_RATIO[measured.label]
    tail = small.percentile(99) / small.percentile(50)
    lines.append(
        f"    submit / bare throughput {ratio:.3f} (target >= {target}): "
        + ("ok" if ratio >= target else "MISSED")
    )
    lines.append(
        f"    submit p99 / p50 {tail:.1f} (target <= 4): " + ("ok" if tail <= 4 else "MISSED")
    )
    lines.append(
        f"    {LARGE} stored vs {SMALL}: {growth * 100:+.1f} % slower "
        f"(target <= {TARGET_GROWTH * 100:.0f} %): "
        + ("ok" if growth <= TARGET_GROWTH else "MISSED")
    )
    if measured.inbox is not None:
        inbox = measured.inbox.rps / ceiling.rps
        lines.append(
            f"    inbox pull / bare throughput {inbox:.3f} (target >= {TARGET_INBOX_RATIO}): "
            + ("ok" if inbox >= TARGET_INBOX_RATIO else "MISSED")
        )
    return lines


def run() -> list[str]:
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    lines = [
        f"api: real HTTP to gunicorn (gunicorn.conf.py, {WORKERS} workers), "
        f"{CLIENTS} connections from {'wrk' if GENERATOR == 'wrk' else 'Python client processes'},"
        " 4 KiB records sealed to 3 recipients beforehand"
    ]
    lines += report(measure_exchange(workdir, "sqlite", {SMALL: None, LARGE: None}))
    lines += group_commit(workdir)
    names = {stored: f"hotline_bench_{os.getpid()}_{stored}" for stored in (SMALL, LARGE)}
    urls = {stored: _postgres_database(name) for stored, name in names.items()}
    try:
        if None in urls.values():
            lines.append("  exchange on postgresql: skipped, PostgreSQL is not reachable")
            return lines
        lines += report(measure_exchange(workdir, "postgresql", dict(urls)))
    finally:
        for stored, name in names.items():
            if urls[stored] is not None:
                _drop_postgres(name)
    return lines
