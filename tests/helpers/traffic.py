"""Case traffic against a live server: officials with the SDK, each in a thread of its own.

`Operator` sets a live server up the way `flask admin` does (the operator services, on the
server's database with the server's keys); `enroll` gives an official their keys and an
SDK `Client` over HTTP; `run_traffic` has agency officers submit cases and supplements
and platform leads pull their inboxes, acknowledge, ask and answer, all at once, and
returns what every client was told (`Ledger`), for the tests to compare with the database.

Every request a client sends is counted by an httpx event hook, so a test can tell how
many attempts never got an answer (a killed worker) and which bodies were sent again.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from exchange import create_app, runtime
from exchange.auditor import verify_log
from exchange.auditor.http import HttpSource
from exchange.auditor.source import checkpoint_size, iter_entries
from exchange.client import authoring
from exchange.client.client import Client, Sent
from exchange.client.profile import Profile
from exchange.client.transport import Transport
from exchange.protocol import merkle
from exchange.protocol.checkpoint import verify_checkpoint
from exchange.protocol.key_management import code_sha256
from exchange.runtime import server_keys
from exchange.services import operator
from keys import Identity
from tests.helpers.consistency import Counts, assert_consistent, origin_of
from tests.schemas import examples

# Far above what the tests send: every client comes from 127.0.0.1.
GENEROUS_RATE_LIMITS = {
    "EXCHANGE_RATE_LIMIT_API": "100000 per minute",
    "EXCHANGE_RATE_LIMIT_TOKEN": "100000 per minute",
    "EXCHANGE_RATE_LIMIT_ENROLL": "100000 per minute",
}
# Every client thread must be done well within this; a hang fails the test, never blocks it.
TRAFFIC_TIMEOUT = 240.0


class Operator:
    """The operator's side of a live server: its database, its instance folder (keys)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.app = create_app(
            {
                "INSTANCE_PATH": str(server.instance),
                "DATABASE_URL": server.env["EXCHANGE_DATABASE_URL"],
                "KEY_PASSPHRASE": server.env["EXCHANGE_KEY_PASSPHRASE"],
                "PUBLIC_URL": server.url,
                "RATE_LIMIT_ENABLED": False,
            }
        )
        self.leads: dict[str, Client] = {}  # each organisation's bootstrapped lead

    @property
    def database_url(self) -> str:
        return str(self.server.env["EXCHANGE_DATABASE_URL"])

    def verifier_key(self) -> str:
        with self.app.app_context():
            return server_keys().log.verifier_key

    def org(self, org_id: str, kind: str) -> None:
        with self.app.app_context(), runtime.write() as session:
            operator.create_organisation(
                session, datetime.now(UTC), org_id, kind, org_id.replace("-", " ").title()
            )

    def invite(self, org: str, official: str, role: str) -> str:
        """The operator's invitation; an organisation's first official is its bootstrap lead."""
        bootstrap = org not in self.leads
        with self.app.app_context(), runtime.write() as session:
            _, code = operator.invite_official(
                session,
                datetime.now(UTC),
                timedelta(hours=1),
                org_id=org,
                official_id=official,
                role=role,
                bootstrap_lead=bootstrap,
            )
        return code

    def close(self) -> None:
        with self.app.app_context():
            runtime.get_database().engine.dispose()


def enroll(operator_: Operator, org: str, official: str, role: str, state: Path) -> Client:
    """Invite, enroll over HTTP with fresh keys, and return the official's SDK client."""
    url = operator_.server.url
    code = operator_.invite(org, official, role)
    identity = Identity.generate()
    transport = Transport(url)
    try:
        log_key = transport.request("GET", "/v1/log/key", auth=False)
        statement = authoring.enrollment(
            identity, org, official, code_sha256(code), transport.clock()
        )
        transport.post_json("/v1/enroll", {"code": code, "statement": statement}, auth=False)
    finally:
        transport.close()
    profile = Profile(
        official,
        url,
        "unused",
        org,
        official,
        log_key["origin"],
        (log_key["verifier_key"],),
        audience=f"{url}/v1/token",
    )
    client = Client(profile, identity, state_dir=state / official)
    lead = operator_.leads.setdefault(org, client)
    if lead is not client:  # the organisation's lead approves, as in production
        lead.membership("approve", official=official, role=role, categories=[], lead=False)
    return client


# --- watching the wire -------------------------------------------------------------------------


@dataclass
class Wire:
    """Every request one client sent, and how many got an answer."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, body digest
    answered: int = 0

    def watch(self, client: Client) -> None:
        # The SDK's own httpx client: hooks observe, they change nothing.
        http: httpx.Client = client.transport._http
        http.event_hooks["request"].append(self._request)
        http.event_hooks["response"].append(self._response)

    def _request(self, request: httpx.Request) -> None:
        body = hashlib.sha256(request.content).hexdigest() if request.content else ""
        self.sent.append((request.method, request.url.path, body))

    def _response(self, _response: httpx.Response) -> None:
        self.answered += 1

    @property
    def unanswered(self) -> int:
        return len(self.sent) - self.answered

    def resent_handoffs(self) -> set[str]:
        """Digests of handoff bodies posted more than once: the SDK's retries."""
        counts = Counter(
            body
            for method, path, body in self.sent
            if method == "POST" and (path == "/v1/cases" or path.endswith("/handoffs"))
        )
        return {body for body, count in counts.items() if count > 1}


def body_digest(sent: Sent) -> str:
    """The digest of the bytes the SDK posted for `sent` (it serialises them this way)."""
    return hashlib.sha256(json.dumps(sent.envelope, separators=(",", ":")).encode()).hexdigest()


# --- the traffic -------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the clients were told, gathered from every thread."""

    sent: list[tuple[str, Sent]] = field(default_factory=list)  # who sent it, what they got
    failures: list[str] = field(default_factory=list)
    inbox: dict[str, list[int]] = field(default_factory=dict)  # official: seqs pulled
    wires: dict[str, Wire] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, client: Client, sent: Sent) -> Sent:
        with self.lock:
            self.sent.append((client.profile.official, sent))
        return sent

    def pulled(self, official: str, seqs: list[int]) -> None:
        with self.lock:
            self.inbox.setdefault(official, []).extend(seqs)


def case_body(official: str, number: int) -> dict[str, Any]:
    body = examples.deepfake_case_body()
    body["issuer_case_ref"] = f"{official}-{number}-{uuid.uuid4().hex[:8]}"
    return body


def pull(client: Client, ledger: Ledger) -> list[Any]:
    items = list(client.inbox())
    ledger.pulled(client.profile.official, [item.seq for item in items])
    return items


def agency(
    client: Client,
    platforms: list[str],
    cases: int,
    ledger: Ledger,
    until: threading.Event | None = None,
) -> None:
    """Submit `cases` cases over the platforms, and more until `until` is set, if given;
    answer every question with a supplement."""
    for number in itertools.count():
        if number >= cases and (until is None or until.is_set()):
            return
        to = platforms[number % len(platforms)]
        ledger.record(client, client.submit(case_body(client.profile.official, number), to))
        if number % 2:
            _answer_questions(client, ledger)


def _answer_questions(client: Client, ledger: Ledger) -> None:
    for item in pull(client, ledger):
        if item.handoff["kind"] == "question":
            ledger.record(client, client.supplement(item.case_id, examples.supplement_body()))


def platform(client: Client, ledger: Ledger, agencies_done: threading.Event) -> None:
    """Work the inbox until the agencies are done and nothing new came after that:
    acknowledge each case, ask about every third, answer each."""
    handled = 0
    while True:
        final = agencies_done.is_set()
        fresh = [item for item in pull(client, ledger) if item.handoff["kind"] == "case"]
        for item in fresh:
            ledger.record(client, client.acknowledge(item.case_id))
            if handled % 3 == 0:
                ledger.record(client, client.ask(item.case_id, examples.question_body()))
            ledger.record(client, client.respond(item.case_id, examples.response_body()))
            handled += 1
        if final and not fresh:
            return
        if not fresh:
            time.sleep(0.05)


def _guarded(name: str, work: Callable[[], None], ledger: Ledger) -> Callable[[], None]:
    def run() -> None:
        try:
            work()
        except Exception as exc:  # reported to the test, which fails on it
            with ledger.lock:
                ledger.failures.append(f"{name}: {type(exc).__name__}: {exc}")

    return run


@contextmanager
def traffic(
    agencies: list[Client],
    platforms: list[Client],
    cases_each: int,
    until: threading.Event | None = None,
) -> Iterator[Ledger]:
    """Start every client's thread: each agency officer submits `cases_each` cases, and
    goes on until `until` is set if given. On leaving, sets `until`, waits for every
    thread, and finishes the agencies' inboxes (every question answered is then on record
    too)."""
    ledger = Ledger()
    for client in [*agencies, *platforms]:
        wire = Wire()
        wire.watch(client)
        ledger.wires[client.profile.official] = wire
    agencies_done = threading.Event()
    platform_orgs = [client.profile.org for client in platforms]
    agency_threads = [
        threading.Thread(
            target=_guarded(
                client.profile.official,
                lambda client=client: agency(client, platform_orgs, cases_each, ledger, until),
                ledger,
            ),
            name=client.profile.official,
        )
        for client in agencies
    ]
    platform_threads = [
        threading.Thread(
            target=_guarded(
                client.profile.official,
                lambda client=client: platform(client, ledger, agencies_done),
                ledger,
            ),
            name=client.profile.official,
        )
        for client in platforms
    ]
    threads = [*agency_threads, *platform_threads]
    for thread in threads:
        thread.start()
    try:
        yield ledger
    finally:
        if until is not None:
            until.set()
        deadline = time.monotonic() + TRAFFIC_TIMEOUT
        for thread in agency_threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        agencies_done.set()
        for thread in platform_threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    hung = [thread.name for thread in threads if thread.is_alive()]
    assert not hung, f"clients still running after {TRAFFIC_TIMEOUT} s: {hung}"
    for client in agencies:
        _guarded(client.profile.official, lambda c=client: _answer_questions(c, ledger), ledger)()


def cast(operator_: Operator, state: Path) -> tuple[list[Client], list[Client], Client]:
    """Two agencies (three officers), two platforms (a lead each), and an auditor."""
    for org, kind in (
        ("metro-police", "agency"),
        ("helpline", "agency"),
        ("clipshare", "platform"),
        ("chatter", "platform"),
        ("regulator", "auditor"),
    ):
        operator_.org(org, kind)
    agencies = [
        enroll(operator_, "metro-police", "officer-1", "agency_officer", state),
        enroll(operator_, "metro-police", "officer-2", "agency_officer", state),
        enroll(operator_, "helpline", "caseworker-1", "agency_officer", state),
    ]
    platforms = [
        enroll(operator_, "clipshare", "cs-lead", "platform_lead", state),
        enroll(operator_, "chatter", "ch-lead", "platform_lead", state),
    ]
    auditor = enroll(operator_, "regulator", "auditor-1", "auditor", state)
    return agencies, platforms, auditor


# --- afterwards --------------------------------------------------------------------------------


def audit_over_http(server_url: str, auditor: Client) -> int:
    """`hotline audit verify`, as an auditor: the whole log through the API, against the
    log key the auditor pinned at enrollment. Returns how many entries it verified."""
    source = HttpSource(server_url, auditor.transport.access_token)
    try:
        note = source.checkpoint()
        size = checkpoint_size(note)
        report = verify_log(
            iter_entries(source, size),
            note,
            auditor.profile.log_verifier_keys,
            auditor.profile.log_origin,
            witnesses=source.witnesses(),
        )
    finally:
        source.close()
    return report.entries


def assert_on_record(ledger: Ledger, operator_: Operator, auditor: Client) -> Counts:
    """Everything the clients were told is on record exactly once, and nothing else."""
    assert ledger.failures == []
    sent = [answer for _, answer in ledger.sent]
    ids = [answer.handoff_id for answer in sent]
    assert len(ids) == len(set(ids)), "a client was told of one handoff twice"
    verifier_key = operator_.verifier_key()
    counts = assert_consistent(operator_.database_url, verifier_key)
    # No handoff lost, none duplicated, none the clients do not know of.
    assert sorted(counts.handoffs) == sorted(ids)
    notes = counts.checkpoint_notes
    origin = origin_of(verifier_key)
    for answer in sent:
        receipt = answer.log
        assert counts.handoffs[answer.handoff_id] == receipt["index"]
        # The receipt is the original one: the entry's own leaf, in a checkpoint on record.
        assert base64.b64decode(receipt["leaf_hash"]) == counts.leaf_hashes[receipt["index"]]
        assert receipt["checkpoint"] in notes
        signed = verify_checkpoint(receipt["checkpoint"], [verifier_key], origin)
        assert signed.size == receipt["tree_size"]
        merkle.verify_inclusion(
            counts.leaf_hashes[receipt["index"]],
            receipt["index"],
            signed.size,
            [base64.b64decode(node) for node in receipt["inclusion_proof"]],
            signed.root,
        )
    # Every inbox was pulled to its end: each official saw each seq once, 1..N.
    for official, last in counts.inboxes.items():
        assert sorted(ledger.inbox.get(official, [])) == list(range(1, last + 1)), official
    assert audit_over_http(operator_.server.url, auditor) == counts.log_size
    return counts
