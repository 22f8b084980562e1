"""The transparency log: append rate and inclusion-proof time as the log grows, and the
full `hotline audit verify` rate against the raw Ed25519-verify rate of this machine.

Part 1 grows one SQLite log to 10^3, 10^5 and 10^6 entries through `exchange.log.append.append`
(the one way into the log), in transactions of BULK appends each, with a realistic entry (a
`delivered` event, 340 bytes). At each size it times appends the way the server makes them
(one append and one signed checkpoint per committed transaction) and keeps a copy of the
log; at the end it times inclusion proofs read from the stored subtrees
(`exchange.log.nodes`) in every copy in turn.

Part 2 runs a small exchange through its HTTP API (Flask's test client, real keys and
envelopes: case, receipt, response and closure, each fetched by the other side), exports
the log as a bundle and times `hotline audit verify --bundle` in-process, against pyca
verifying the same statements' signatures one after another.
"""

import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, closing, contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from bench.timing import fmt_seconds, in_turn, per_call
from exchange import create_app, log, runtime
from exchange.auditor import verify_log
from exchange.auditor.bundle import Bundle, write_bundle
from exchange.auditor.checks import default_workers
from exchange.auditor.signatures import check_statement
from exchange.cli import main
from exchange.client import authoring
from exchange.log import Actor, nodes, transaction
from exchange.log.keyring import LogSigner
from exchange.protocol import envelope as env
from exchange.protocol.envelope.templates import template
from exchange.protocol.events import HANDOFF_EVENTS, Event
from exchange.protocol.key_management import code_sha256
from exchange.runtime import server_keys
from exchange.services import operator
from exchange.storage import database, migrate
from keys import Identity, load_public_jwk
from schemas.common import format_utc
from schemas.enums import Kind

SIZES = (10**3, 10**5, 10**6)
BULK = 10_000
PROOF_TARGET = 2.0
PROOF_ROUNDS = 9
VERIFY_TARGET = 0.5
AUDIT_ROUNDS = 7
CASES = 600
ORIGIN = "bench.hotline.test/log"
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


# --- part 1: append and prove ------------------------------------------------------------------


class GrowingLog:
    def __init__(self, directory: Path) -> None:
        self.path = directory / "log.db"
        self.database = database.make_database(f"sqlite:///{self.path}")
        migrate.upgrade(self.database.engine)
        self.signer = LogSigner(ORIGIN, Ed25519PrivateKey.generate())
        self.size = 0

    def append(self, session: Any) -> None:
        log.append(
            session,
            Event.DELIVERED,
            NOW,
            actor=Actor("clipshare", "cs-reviewer", "lw2Qd4iY3wV0s7Tq0dxmK6cJ7hXwBq1eUOQnH3aNc9k"),
            case_id=str(uuid.uuid4()),
            handoff_id=str(uuid.uuid4()),
            details={"state": "delivered"},
        )
        self.size += 1

    def grow_to(self, size: int) -> float:
        """Append in transactions of BULK entries; return the rate."""
        start, before = time.perf_counter(), self.size
        while self.size < size:
            with transaction.write(self.database, self.signer) as session:
                for _ in range(min(BULK, size - self.size)):
                    self.append(session)
        return (self.size - before) / (time.perf_counter() - start)

    def one_per_transaction(self, count: int) -> float:
        """Appends as the server makes them: each its own transaction and checkpoint."""
        start = time.perf_counter()
        for _ in range(count):
            with transaction.write(self.database, self.signer) as session:
                self.append(session)
        return count / (time.perf_counter() - start)

    def snapshot(self, path: Path) -> database.Database:
        """A copy of the log as it is now, to prove from at the end beside the bigger ones."""
        with (
            closing(sqlite3.connect(self.path)) as source,
            closing(sqlite3.connect(path)) as copy,
        ):
            source.backup(copy)
        return database.make_database(f"sqlite:///{path}")


def proof_times(logs: Mapping[int, database.Database]) -> dict[int, float]:
    """Inclusion-proof time per log size, the sizes timed in turn at the end (`in_turn`):
    timing each size as it was reached would compare moments minutes apart."""
    with ExitStack() as stack:
        sessions = {size: stack.enter_context(database.read(log)) for size, log in logs.items()}
        times = in_turn(
            {
                str(size): partial(
                    _prove_random_leaf,
                    session,
                    random.Random(size),  # noqa: S311 - which leaves to prove, not a secret
                    size,
                )
                for size, session in sessions.items()
            },
            rounds=PROOF_ROUNDS,
        )
    return {int(size): time for size, time in times.items()}


def _prove_random_leaf(session: Any, rng: random.Random, size: int) -> None:
    # The database's own cost: the process's cache of committed nodes (shared by the
    # database's sessions), which at small sizes would soon hold the whole tree and answer
    # from memory, is emptied before each proof.
    database.shared(session).pop(nodes.NODE_CACHE, None)
    nodes.inclusion_proof(session, rng.randrange(size), size)


def append_and_prove(directory: Path) -> list[str]:
    log = GrowingLog(directory)
    lines, logs = [], {}
    for size in SIZES:
        bulk = log.grow_to(size)
        single = log.one_per_transaction(200)
        # The largest is the log itself: a copy of 10^6 entries would only cost time and disk.
        last = size == SIZES[-1]
        logs[log.size] = log.database if last else log.snapshot(directory / f"log-{size}.db")
        lines.append(
            f"  {size:>9,} entries: append {bulk:,.0f}/s in bulk ({BULK:,} per transaction),"
            f" {single:,.0f}/s one per transaction"
        )
    try:
        times = proof_times(logs)
    finally:
        for stored in logs.values():
            stored.engine.dispose()
    smallest, largest = min(times), max(times)
    lines.append(
        "  inclusion proof (the sizes timed in turn, median of "
        f"{PROOF_ROUNDS} rounds): "
        + ", ".join(f"{fmt_seconds(time)} at {size:,}" for size, time in sorted(times.items()))
    )
    ratio = times[largest] / times[smallest]
    verdict = "ok" if ratio <= PROOF_TARGET else "MISSED"
    lines.append(
        f"  proof time at {SIZES[-1]:,} / at {SIZES[0]:,}: {ratio:.2f}x"
        f" (target <= {PROOF_TARGET}x): {verdict}"
    )
    return lines


# --- part 2: the audit ------------------------------------------------------------------------


class Person:
    def __init__(self, client: Any, org: str, official: str) -> None:
        self.client, self.org, self.official = client, org, official
        self.identity = Identity.generate()
        self.token: str | None = None
        self.seen = 0  # the inbox cursor

    def headers(self, now: datetime) -> dict[str, str]:
        if self.token is None:
            assertion = authoring.client_assertion(
                self.identity, self.official, "http://bench.test/v1/token", now
            )
            response = self.client.post(
                "/v1/token",
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": (
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                    ),
                    "client_assertion": assertion,
                },
            )
            self.token = _ok(response, 200)["access_token"]
        return {"Authorization": f"Bearer {self.token}"}

    def sender(self) -> dict[str, str]:
        return {"org": self.org, "official": self.official, "kid": self.identity.signing_kid}


def _ok(response: Any, status: int) -> Any:
    if response.status_code != status:
        raise RuntimeError(f"HTTP {response.status_code}: {response.get_data(as_text=True)}")
    return response.get_json()


class Exchange:
    """An exchange run through its API; its clock moves a second per step."""

    def __init__(self, directory: Path) -> None:
        self.moment = NOW
        self.url = f"sqlite:///{directory / 'exchange.storage.database'}"
        self.app = create_app(
            {
                "INSTANCE_PATH": str(directory / "instance"),
                "DATABASE_URL": self.url,
                "KEY_PASSPHRASE": "bench",
                "PUBLIC_URL": "http://bench.test",
                "LOG_ORIGIN": ORIGIN,
                "CLOCK": self.now,
                # Request logs would drown the figures; errors still show.
                "LOG_LEVEL": "WARNING",
                # The bench is one client making thousands of requests a minute.
                "RATE_LIMIT_ENABLED": False,
            }
        )
        with self.app.app_context():
            migrate.upgrade(runtime.get_database().engine)
            self.verifier_key = server_keys().log.verifier_key
        self.client = self.app.test_client()

    def now(self) -> datetime:
        return self.moment

    def tick(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment

    @contextmanager
    def operator(self) -> Iterator[Any]:
        with self.app.app_context(), runtime.write() as session:
            yield session

    def enroll(self, org: str, official: str, role: str, categories: list[str]) -> Person:
        """Each official is the first of their organisation here: its bootstrapped lead."""
        with self.operator() as session:
            _, code = operator.invite_official(
                session,
                self.now(),
                timedelta(hours=1),
                org_id=org,
                official_id=official,
                role=role,
                categories=categories,
                bootstrap_lead=True,
            )
        person = Person(self.client, org, official)
        statement = authoring.enrollment(
            person.identity, org, official, code_sha256(code), self.now()
        )
        _ok(self.client.post("/v1/enroll", json={"code": code, "statement": statement}), 201)
        return person

    def route(self, lead: Person, category: str, official: str) -> None:
        """Routing is a membership statement signed by a lead of the platform."""
        statement = authoring.membership(
            lead.identity.signing_key,
            lead.org,
            "route",
            self.now(),
            category=category,
            official=official,
        )
        path = f"/v1/orgs/{lead.org}/membership"
        _ok(
            self.client.post(
                path, json={"statement": statement}, headers=lead.headers(self.tick())
            ),
            201,
        )

    def send(self, person: Person, sealed: env.Envelope, case_id: str | None) -> None:
        path = "/v1/cases" if case_id is None else f"/v1/cases/{case_id}/handoffs"
        _ok(self.client.post(path, json=sealed.to_json(), headers=person.headers(self.tick())), 201)

    def fetch(self, person: Person) -> None:
        path = f"/v1/inbox?after={person.seen}"
        page = _ok(self.client.get(path, headers=person.headers(self.tick())), 200)
        person.seen = page["last_seq"]


def _fields(
    exchange: Exchange, kind: Kind, sender: Person, to: str, case_id: str, reply_to: str | None
) -> Any:
    record = template(kind)
    record.update(
        handoff_id=str(uuid.uuid4()),
        case_id=case_id,
        sender=sender.sender(),
        to=[to],
        in_reply_to=reply_to,
        issued_at=format_utc(exchange.now()),
    )
    return record


def run_cases(exchange: Exchange, cases: int) -> tuple[Person, Person]:
    """Run `cases` cases through the API; the agency officer and the platform reviewer."""
    for org, kind in (("metro-police", "agency"), ("clipshare", "platform")):
        with exchange.operator() as session:
            operator.create_organisation(session, exchange.now(), org, kind, org)
    officer = exchange.enroll("metro-police", "officer-1", "agency_officer", [])
    reviewer = exchange.enroll("clipshare", "cs-reviewer", "platform_official", ["sexual_deepfake"])
    exchange.route(reviewer, "sexual_deepfake", "cs-reviewer")
    readers = {"metro-police": [officer.identity.encryption_public_key]}
    readers["clipshare"] = [reviewer.identity.encryption_public_key]
    both = readers["metro-police"] + readers["clipshare"]
    for _ in range(cases):
        case_id = str(uuid.uuid4())
        record = _fields(exchange, Kind.CASE, officer, "clipshare", case_id, None)
        record["body"]["issuer_case_ref"] = f"BENCH/{case_id[:8]}"
        case = env.seal(record, officer.identity.signing_key, both)
        exchange.send(officer, case, None)
        exchange.fetch(reviewer)
        case_statement = env.verify_statement(
            case, {officer.identity.signing_kid: officer.identity.signing_public_key}
        ).payload
        receipt = _fields(
            exchange, Kind.RECEIPT, reviewer, "metro-police", case_id, record["handoff_id"]
        )
        receipt["meta"] = {
            "handoff_id": record["handoff_id"],
            "record_sha256": case_statement["record_sha256"],
            "received_at": format_utc(exchange.now()),
        }
        exchange.send(reviewer, env.sign_statement(receipt, reviewer.identity.signing_key), case_id)
        exchange.fetch(officer)
        response = _fields(
            exchange, Kind.RESPONSE, reviewer, "metro-police", case_id, record["handoff_id"]
        )
        exchange.send(reviewer, env.seal(response, reviewer.identity.signing_key, both), case_id)
        exchange.fetch(officer)
        closure = _fields(
            exchange, Kind.CLOSURE, officer, "clipshare", case_id, response["handoff_id"]
        )
        exchange.send(officer, env.seal(closure, officer.identity.signing_key, both), case_id)
        exchange.fetch(reviewer)
    return officer, reviewer


def export(exchange: Exchange) -> Bundle:
    with exchange.app.app_context():
        engine = runtime.get_database().engine
        with engine.connect() as connection:
            size, note = connection.execute(
                text("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
            ).one()
            entries = connection.scalars(
                text('SELECT leaf FROM log_entries WHERE "index" < :n ORDER BY "index"'),
                {"n": size},
            ).all()
    return Bundle(ORIGIN, (exchange.verifier_key,), note, list(entries))


def raw_verifier(bundle: Bundle) -> tuple[Callable[[], None], int]:
    """pyca alone, one signature after another, over the same statements' signing inputs:
    a pass over them all, and the number of signatures."""
    checks = []
    keys: dict[str, Any] = {}
    for text_entry in bundle.entries:
        entry = json.loads(text_entry)
        if entry["event"] == Event.OFFICIAL_ENROLLED:
            jwk = entry["details"]["keys"][0]
            keys[jwk["kid"]] = load_public_jwk(jwk, use="sig")
        if entry["event"] in HANDOFF_EVENTS:
            checked = check_statement(entry["statement"])
            checks.append((keys[checked.kid], checked.signature, checked.signing_input))

    def verify_all() -> None:
        for key, signature, message in checks:
            key.verify(signature, message)

    return verify_all, len(checks)


def _cpu_seconds(before: os.times_result, after: os.times_result) -> float:
    """CPU time used by this process and its finished children (the check workers)."""
    return sum(after[i] - before[i] for i in range(4))


def audit_rate(exchange: Exchange, directory: Path) -> list[str]:
    bundle = export(exchange)
    path = directory / "bundle.json"
    write_bundle(bundle, path)
    verify_all, signatures = raw_verifier(bundle)
    runner = CliRunner()
    state = directory / "state.json"
    args = ["audit", "verify", "--bundle", str(path), "--log-key", exchange.verifier_key]
    verify_all()  # warm, outside the measurement
    raw_times, raw_cpu, times, cpu = [], [], [], []
    # In turn, round after round: the machine's speed drifts, and a ratio compares a moment.
    for _ in range(AUDIT_ROUNDS):
        start, before = time.perf_counter(), time.process_time()
        verify_all()
        raw_times.append(time.perf_counter() - start)
        raw_cpu.append(time.process_time() - before)
        start, times_before = time.perf_counter(), os.times()
        result = runner.invoke(main, [*args, "--state", str(state)])
        times.append(time.perf_counter() - start)
        cpu.append(_cpu_seconds(times_before, os.times()))
        if result.exit_code != 0:
            raise RuntimeError(f"audit verify failed: {result.output}")
    raw_time, cli_time = statistics.median(raw_times), statistics.median(times)
    inline = per_call(
        lambda: verify_log(
            bundle.entries, bundle.checkpoint, bundle.verifier_keys, ORIGIN, workers=0
        ),
        repeat=3,
        min_seconds=0.5,
    )
    workers = default_workers(len(bundle.entries))
    raw_rate, cli_rate = signatures / raw_time, signatures / cli_time
    ratio = cli_rate / raw_rate
    verdict = "ok" if ratio >= VERIFY_TARGET else "MISSED"
    return [
        f"  log of {len(bundle.entries):,} entries, {signatures:,} with handoff statements",
        f"  raw Ed25519 verify (pyca, one thread): {raw_rate:,.0f} signatures/s",
        f"  hotline audit verify --bundle: {fmt_seconds(cli_time)},"
        f" {cli_rate:,.0f} statement entries/s ({len(bundle.entries) / cli_time:,.0f} entries/s)",
        f"  ratio {ratio:.2f}x of raw (target >= {VERIFY_TARGET}x): {verdict}",
        f"  (statement checks on {workers} worker processes beside the replay;"
        f" {os.cpu_count()} CPUs)",
        f"  CPU time of all its processes: {statistics.median(cpu) / signatures * 1e6:.0f} µs"
        f" per statement entry, the work of"
        f" {statistics.median(cpu) / statistics.median(raw_cpu):.1f} raw"
        " verifies (shared among the CPUs on an idle machine)",
        f"  the same audit in one process (workers=0):"
        f" {signatures / inline:,.0f} statement entries/s ({signatures / inline / raw_rate:.2f}x)",
    ]


def run() -> list[str]:
    lines = ["log (SQLite)"]
    with tempfile.TemporaryDirectory(prefix="bench-log-") as name:
        lines += append_and_prove(Path(name))
    lines.append(f"audit ({CASES} cases through the API, each fetched by the other side)")
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as name:
        directory = Path(name)
        exchange = Exchange(directory)
        run_cases(exchange, CASES)
        lines += audit_rate(exchange, directory)
        with exchange.app.app_context():
            runtime.get_database().engine.dispose()
    return lines
