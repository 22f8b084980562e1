"""Server processes SIGKILLed in the middle of the traffic: nothing lost, nothing half-written.

Four gunicorn workers (gunicorn.conf.py) on this run's database; SDK clients in threads
submit, pull, acknowledge, ask, supplement and answer, while the test SIGKILLs worker after
worker, each one caught holding a client's connection (mid-request), and waits for the
master to replace it. The clients' retries (the SDK re-sends the same bytes when the
connection dies) must all succeed, and afterwards: every answer a client got is on record
exactly once; no case without its log entry, no log entry without its handoff or delivery;
log indexes 0..n-1; every checkpoint verifies; every inbox gap-free; every case state what
its handoffs make it; the full audit passes; and re-posting any handoff's bytes gets the
original answer, byte for byte, and stores nothing new.

One kill is made certain to land inside a write: a submission is held at the database's
write lock, its worker killed there, and the SDK's retry of the same bytes goes through
once the lock is released.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from exchange.client.client import Client, Sent
from tests.helpers.consistency import assert_consistent
from tests.helpers.traffic import (
    GENEROUS_RATE_LIMITS,
    Ledger,
    Operator,
    assert_on_record,
    body_digest,
    case_body,
    cast,
    pull,
    traffic,
)

WORKERS = 4
KILLS = 6
CASES_EACH = 4  # per agency officer, at least: they go on until the last kill
WAIT = 30.0  # the longest any single wait below may take


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of accepted TCP connections on `port` (Linux /proc/net)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01":  # ESTABLISHED
                inodes.add(fields[9])
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                found.add(target[len("socket:[") : -1])
    except FileNotFoundError:
        pass
    return found


def busy_workers(server) -> list[int]:
    """Workers holding a client's connection right now: in the middle of a request."""
    connections = _established_inodes(server.port)
    return [pid for pid in server.worker_pids() if _socket_inodes(pid) & connections]


def kill_a_busy_worker(server) -> int:
    """SIGKILL a worker caught mid-request."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for pid in busy_workers(server):
            try:
                server.kill_worker(pid)
            except (ValueError, ProcessLookupError):
                continue  # it exited or was recycled meanwhile
            return pid
        time.sleep(0.002)
    raise AssertionError(f"no worker was busy for {WAIT} s: the clients stopped")


# --- one kill certain to land inside a write ---------------------------------------------------


@contextmanager
def write_lock(database_url: str) -> Iterator[None]:
    """Hold the database's write lock from outside, as a long transaction would."""
    if make_url(database_url).get_backend_name() == "sqlite":
        holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection, connection.begin():
            # The row every writer locks first (exchange.storage.database.write).
            connection.execute(text("SELECT size FROM log_head WHERE id = 1 FOR UPDATE"))
            yield
    finally:
        engine.dispose()


def kill_inside_a_write(server, database_url: str, officer: Client, ledger: Ledger) -> Sent:
    wire = ledger.wires[officer.profile.official]
    # Keys and a token first, so that the POST is the one request left to send.
    officer.encryption_keys("clipshare", officer.profile.org)
    officer.transport.access_token()
    posted = len(wire.sent)
    outcome: list[Sent | BaseException] = []

    def submit() -> None:
        try:
            outcome.append(
                ledger.record(officer, officer.submit(case_body("held", 0), "clipshare"))
            )
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    with write_lock(database_url):
        sender = threading.Thread(target=submit)
        sender.start()
        deadline = time.monotonic() + WAIT
        while not (
            len(wire.sent) > posted
            and wire.sent[-1][:2] == ("POST", "/v1/cases")
            and busy_workers(server)
        ):
            assert time.monotonic() < deadline, "the submission never reached a worker"
            time.sleep(0.002)
        (victim,) = busy_workers(server)  # the one request in flight: the held POST
        server.kill_worker(victim)
        # The SDK tries again with the same bytes; the new attempt waits at the lock too.
        while len(wire.sent) < posted + 2:
            assert time.monotonic() < deadline, "the SDK did not retry"
            time.sleep(0.002)
    sender.join(WAIT)
    assert not sender.is_alive()
    (result,) = outcome
    if isinstance(result, BaseException):
        raise result
    attempts = [entry for entry in wire.sent[posted:] if entry[1] == "/v1/cases"]
    assert attempts == [("POST", "/v1/cases", body_digest(result))] * 2
    server.wait_for_workers(WORKERS, exclude=frozenset({victim}))
    return result


# --- the test ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_killed_workers_lose_nothing_and_leave_nothing_half_written(
    gunicorn, database_url, tmp_path
):
    # A held writer must outwait SQLite's busy timeout (PostgreSQL waits for locks anyway).
    server = gunicorn(
        workers=WORKERS, EXCHANGE_SQLITE_BUSY_TIMEOUT_MS="60000", **GENEROUS_RATE_LIMITS
    )
    operator = Operator(server)
    agencies, platforms, auditor = cast(operator, tmp_path / "clients")
    clients = [*agencies, *platforms, auditor]
    killed: list[int] = []
    try:
        # The agencies keep submitting until the last kill; the leads until all is answered.
        with traffic(agencies, platforms, CASES_EACH, until=threading.Event()) as ledger:
            while len(killed) < KILLS and not ledger.failures:
                killed.append(kill_a_busy_worker(server))
                server.wait_for_workers(WORKERS, exclude=frozenset(killed))
        assert ledger.failures == []
        assert len(killed) == KILLS
        held = kill_inside_a_write(server, database_url, agencies[0], ledger)
        for client in [*agencies, *platforms]:
            pull(client, ledger)

        counts = assert_on_record(ledger, operator, auditor)
        assert counts.handoffs[held.handoff_id] == held.log["index"]
        cut_off = sum(wire.unanswered for wire in ledger.wires.values())
        assert cut_off >= 1  # at least the held one: the kills did land mid-request
        cases = [answer.case_id for _, answer in ledger.sent if answer.kind == "case"]
        assert len(cases) >= len(agencies) * CASES_EACH + 1
        assert sorted(counts.cases) == sorted(cases)
        assert sorted(counts.cases.values()).count("actioned") == len(cases) - 1
        assert counts.cases[held.case_id] == "delivered"  # pulled by its platform, no more

        # Re-posting the same bytes gets the original answer and stores nothing: every
        # body a client had to send again, and every fifth of the others.
        by_official = {client.profile.official: client for client in clients}
        resent = set().union(*(wire.resent_handoffs() for wire in ledger.wires.values()))
        assert body_digest(held) in resent
        again = [
            (who, answer)
            for number, (who, answer) in enumerate(ledger.sent)
            if body_digest(answer) in resent or number % 5 == 0
        ]
        for who, answer in again:
            path = "/v1/cases" if answer.kind == "case" else f"/v1/cases/{answer.case_id}/handoffs"
            assert by_official[who].transport.post_json(path, answer.envelope) == {
                "handoff_id": answer.handoff_id,
                "case_id": answer.case_id,
                "kind": answer.kind,
                "state": answer.state,
                "log": answer.log,
            }
        after = assert_consistent(operator.database_url, operator.verifier_key())
        assert after.handoffs == counts.handoffs
        assert after.log_size == counts.log_size

        assert server.stop() == 0
        errors = [
            line
            for line in server.log_lines()
            if line["level"] in ("ERROR", "CRITICAL") and "SIGKILL" not in line["message"]
        ]
        assert errors == []
        print(
            f"{len(killed) + 1} workers killed, {cut_off} requests cut off, "
            f"{len(resent)} handoff bodies re-sent, {len(ledger.sent)} handoffs, "
            f"{counts.log_size} log entries"
        )
    finally:
        for client in clients:
            client.close()
        operator.close()
