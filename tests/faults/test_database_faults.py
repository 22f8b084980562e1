"""The database fails under a running app: locked, read-only, out of space.

Each test drives the real app over HTTP (Flask's test client) on a real database, breaks
the database from outside the way it breaks in production, and asserts the exact problem
(503, its type, `Retry-After`), that the refused write changed nothing, that reads still
work where they can, that the same request succeeds once the database is back (the app
recovers by itself, without a restart), and that the whole log still verifies.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from exchange import runtime
from exchange.storage import migrate
from tests.exchange.api.support import assert_problem
from tests.faults.conftest import snapshot, verifier_key
from tests.helpers import databases
from tests.helpers.consistency import assert_consistent
from tests.helpers.world import Official, World, standard_world

BUSY_TIMEOUT_MS = 200


def post_bytes(person: Official, path: str, data: bytes):
    return person.client.post(
        path, data=data, headers={**person.headers(), "Content-Type": "application/json"}
    )


def sealed_case(world: World, officer: Official) -> bytes:
    return json.dumps(world.seal_case(officer, "clipshare").to_json()).encode()


def assert_unavailable(response, slug: str, retry_after: str) -> dict:
    body = assert_problem(response, 503, slug)
    assert response.headers["Retry-After"] == retry_after
    assert set(body) == {"type", "title", "status", "detail", "request_id"}
    # The driver's message and the statement stay in the server's log.
    text_of = response.get_data(as_text=True)
    assert "sqlite" not in text_of.lower()
    assert "INSERT" not in text_of
    assert "psycopg" not in text_of
    return body


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def reopened(world: World, app) -> World:
    """The same people (keys, tokens) talking to another app on the same database."""
    other = World(app, app.test_client(), world.clock)
    for person in world.officials.values():
        twin = Official(other, person.org, person.id, person.role, person.identity)
        twin.token = person.token
        other.officials[person.id] = twin
    return other


# --- locked ------------------------------------------------------------------------------------


def test_a_database_locked_longer_than_the_busy_timeout_is_a_503(make_app, sqlite_url, clock):
    """Another program holds SQLite's write lock (a backup tool, a stray sqlite3 shell):
    the write waits the busy timeout, then is refused; the same bytes succeed after."""
    app = make_app(sqlite_url, SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS)
    world = standard_world(app, app.test_client(), clock)
    officer, lead = world.officials["officer-1"], world.officials["cs-lead"]
    officer.headers(), lead.headers()  # tokens first: issuing one writes too
    # A case in the lead's inbox, not fetched yet: pulling it is a delivery to record.
    assert post_bytes(officer, "/v1/cases", sealed_case(world, officer)).status_code == 201
    data = sealed_case(world, officer)
    before = snapshot(app)

    holder = sqlite3.connect(sqlite_path(sqlite_url), isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        refused = post_bytes(officer, "/v1/cases", data)
        assert_unavailable(refused, "database-busy", "1")
        # Readers are not blocked by a writer (WAL): listing and the log still answer.
        assert officer.get("/v1/cases").status_code == 200
        assert app.test_client().get("/v1/log/checkpoint").status_code == 200
        # Every write is refused alike, whatever the route: a pull that records a first
        # fetch. A pull with nothing new to record is a read, and answers.
        assert_unavailable(lead.get("/v1/inbox"), "database-busy", "1")
        polled = lead.get("/v1/inbox?after=1")
        assert polled.status_code == 200
        assert polled.get_json() == {"items": [], "last_seq": 1}
        assert app.test_client().get("/readyz").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert snapshot(app) == before

    accepted = post_bytes(officer, "/v1/cases", data)
    assert accepted.status_code == 201, accepted.get_json()
    assert snapshot(app)["handoffs"] == before["handoffs"] + 1
    assert post_bytes(officer, "/v1/cases", data).get_json() == accepted.get_json()
    assert_consistent(sqlite_url, verifier_key(app))


def test_a_writer_of_another_server_process_holding_on_is_a_503(make_app, sqlite_url, clock):
    """Two server processes on one SQLite file: while one holds its write transaction
    beyond the busy timeout, the other's writers are refused, not queued forever."""
    app = make_app(sqlite_url, SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS)
    world = standard_world(app, app.test_client(), clock)
    officer = world.officials["officer-1"]
    officer.headers()
    data = sealed_case(world, officer)
    other = make_app(sqlite_url, SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS)
    before = snapshot(app)

    with other.app_context(), runtime.write() as session:
        session.execute(text("UPDATE log_head SET size = size WHERE id = 1"))
        assert_unavailable(post_bytes(officer, "/v1/cases", data), "database-busy", "1")
    assert snapshot(app) == before
    assert post_bytes(officer, "/v1/cases", data).status_code == 201
    assert_consistent(sqlite_url, verifier_key(app))


def test_a_postgresql_writer_holding_the_log_head_too_long_is_a_503(
    make_app, postgresql_url, clock
):
    """On PostgreSQL writers queue on the log head's row lock: one held beyond the
    configured wait (lock_timeout) refuses the next writer instead of hanging it until
    gunicorn kills the worker."""
    app = make_app(postgresql_url, SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS)
    world = standard_world(app, app.test_client(), clock)
    officer = world.officials["officer-1"]
    officer.headers()
    data = sealed_case(world, officer)
    other = make_app(postgresql_url, SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS)
    before = snapshot(app)

    with other.app_context(), runtime.write():
        assert_unavailable(post_bytes(officer, "/v1/cases", data), "database-busy", "1")
    assert snapshot(app) == before
    assert post_bytes(officer, "/v1/cases", data).status_code == 201
    assert_consistent(postgresql_url, verifier_key(app))


# --- read-only ---------------------------------------------------------------------------------

# A connection opened while the database could not write stays read-only (SQLite opens the
# file read-only; a PostgreSQL session keeps its defaults); the app drops it at its first
# refused write. So once the database can write again, a process refuses at most one write
# per such connection: with requests one at a time, it holds one.
STALE_CONNECTIONS = 1


def accepted_once_writable(person: Official, data: bytes):
    """POST the same bytes until accepted; every refusal on the way is read-only's 503."""
    for _ in range(STALE_CONNECTIONS):
        response = post_bytes(person, "/v1/cases", data)
        if response.status_code == 201:
            return response
        assert_unavailable(response, "database-read-only", "30")
    response = post_bytes(person, "/v1/cases", data)
    assert response.status_code == 201, response.get_json()
    return response


@contextmanager
def read_only_file(path: Path) -> Iterator[None]:
    """Make the database file read-only for this process, as a wrong owner or mode would.

    Mode bits do not stop root; the immutable attribute does (ext4, xfs, btrfs...).
    """
    mode = path.stat().st_mode
    path.chmod(0o444)
    immutable = False
    try:
        if os.geteuid() == 0:
            chattr = shutil.which("chattr")
            result = (
                subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True)
                if chattr
                else None
            )
            if result is None or result.returncode != 0:
                reason = result.stderr.strip() if result else "chattr is not installed"
                if databases.in_ci():
                    pytest.fail(f"cannot make {path} read-only for root: {reason}")
                pytest.skip(f"cannot make the database read-only for root here: {reason}")
            immutable = True
        with pytest.raises(PermissionError):
            path.open("r+b").close()
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


def test_a_read_only_database_file_refuses_writes_and_serves_reads(make_app, sqlite_url, clock):
    """The file became read-only (restored by another user, a wrong chmod): a server that
    starts on it serves reads, answers every write with a 503 that says so, and writes
    again by itself once the permissions are back."""
    app = make_app(sqlite_url)
    world = standard_world(app, app.test_client(), clock)
    officer = world.officials["officer-1"]
    world.officials["auditor-1"].headers()  # a token: issuing one is a write
    submitted = post_bytes(officer, "/v1/cases", sealed_case(world, officer))
    assert submitted.status_code == 201
    data = sealed_case(world, officer)
    with app.app_context():
        runtime.get_database().engine.dispose()  # the server stops
    before = snapshot(app)

    with read_only_file(sqlite_path(sqlite_url)):
        restarted = make_app(sqlite_url)
        people = reopened(world, restarted)
        officer = people.officials["officer-1"]
        refused = post_bytes(officer, "/v1/cases", data)
        assert_unavailable(refused, "database-read-only", "30")
        case_id = submitted.get_json()["case_id"]
        assert officer.get(f"/v1/cases/{case_id}").status_code == 200
        assert officer.get("/v1/cases").get_json()["cases"][0]["case_id"] == case_id
        auditor = people.officials["auditor-1"]
        assert auditor.get("/v1/log/entries?start=0&end=2").status_code == 200
        assert restarted.test_client().get("/readyz").status_code == 200
        # Again: each refusal drops the read-only connection and tries a fresh one.
        assert_unavailable(post_bytes(officer, "/v1/cases", data), "database-read-only", "30")
        assert officer.get("/v1/cases").status_code == 200
    assert snapshot(restarted) == before

    # Permissions restored: the same server, not restarted, takes the same request.
    accepted = accepted_once_writable(officer, data)
    assert snapshot(restarted)["handoffs"] == before["handoffs"] + 1
    assert post_bytes(officer, "/v1/cases", data).get_json() == accepted.get_json()
    assert_consistent(sqlite_url, verifier_key(restarted))


def test_a_read_only_postgresql_refuses_writes_and_recovers(
    make_app, postgresql_url, postgres, clock
):
    """The server became read-only (a standby after a failover, or made read-only for
    maintenance): reads work, writes are a 503, and writes come back by themselves."""
    app = make_app(postgresql_url)
    world = standard_world(app, app.test_client(), clock)
    officer = world.officials["officer-1"]
    officer.headers()
    data = sealed_case(world, officer)
    before = snapshot(app)
    name = make_url(postgresql_url).database

    def alter(setting: str, *, end_sessions: bool) -> None:
        with postgres.engine.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" {setting}')
            if end_sessions:  # the app's pooled sessions start again, read-only
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )

    alter("SET default_transaction_read_only = on", end_sessions=True)
    try:
        assert_unavailable(post_bytes(officer, "/v1/cases", data), "database-read-only", "30")
        assert officer.get("/v1/cases").status_code == 200
        # The app holds a read-only session again before the database can write.
        assert_unavailable(post_bytes(officer, "/v1/cases", data), "database-read-only", "30")
        assert officer.get("/v1/cases").status_code == 200
        assert snapshot(app) == before
    finally:
        # Only new sessions can write: the app must let go of its read-only ones itself.
        alter("RESET default_transaction_read_only", end_sessions=False)
    accepted_once_writable(officer, data)
    assert snapshot(app)["handoffs"] == before["handoffs"] + 1
    assert_consistent(postgresql_url, verifier_key(app))


# --- out of space ------------------------------------------------------------------------------


@contextmanager
def small_filesystem(directory: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `directory` (root only): a disk that can fill up."""
    directory.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        reason = mounted.stderr.strip() or f"mount exited {mounted.returncode}"
        if databases.in_ci():
            pytest.fail(f"CI runs as root and must be able to mount a tmpfs: {reason}")
        pytest.skip(f"cannot mount a small filesystem here (needs root): {reason}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=True)


def fill(directory: Path) -> Path:
    """Take every free byte of the filesystem; return the file that holds them."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as handle:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    handle.write(chunk[:size])
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    return filler


def test_a_full_disk_refuses_writes_and_leaves_the_log_whole(make_app, tmp_path, clock):
    """SQLite on a filesystem that fills up: the write that needs space is a 503 storage-full,
    nothing of it is stored, and once space is freed the same request succeeds."""
    with small_filesystem(tmp_path / "disk", "24m") as disk:
        url = f"sqlite:///{disk / 'exchange.storage.database'}"
        app = make_app(url)
        with app.app_context():
            migrate.upgrade(runtime.get_database().engine)
        world = standard_world(app, app.test_client(), clock)
        officer, lead = world.officials["officer-1"], world.officials["cs-lead"]
        officer.headers(), lead.headers()
        assert post_bytes(officer, "/v1/cases", sealed_case(world, officer)).status_code == 201
        data = sealed_case(world, officer)
        # Empty the write-ahead log into the database file, so that the next commit must
        # grow a file: on a full disk it cannot.
        with app.app_context(), runtime.get_database().engine.connect() as connection:
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            assert busy == 0
        before = snapshot(app)
        filler = fill(disk)

        assert_unavailable(post_bytes(officer, "/v1/cases", data), "storage-full", "60")
        assert_unavailable(lead.get("/v1/inbox"), "storage-full", "60")
        assert officer.get("/v1/cases").status_code == 200
        assert snapshot(app) == before

        filler.unlink()
        accepted = post_bytes(officer, "/v1/cases", data)
        assert accepted.status_code == 201, accepted.get_json()
        assert lead.get("/v1/inbox").status_code == 200
        assert snapshot(app)["handoffs"] == before["handoffs"] + 1
        with app.app_context():
            runtime.get_database().engine.dispose()
        assert_consistent(url, verifier_key(app))


def test_a_database_at_its_size_limit_refuses_writes(make_app, tmp_path, clock):
    """SQLite's own cap (`max_page_count`, SQLITE_FULL): the same answer as a full disk,
    on any machine, and the same recovery when the cap is raised."""
    url = f"sqlite:///{tmp_path / 'capped.db'}"
    app = make_app(url)
    engine = None
    with app.app_context():
        engine = runtime.get_database().engine
        migrate.upgrade(engine)
    world = standard_world(app, app.test_client(), clock)
    officer = world.officials["officer-1"]
    officer.headers()
    data = sealed_case(world, officer)
    with app.app_context(), engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
    cap = {"pages": int(pages)}

    @event.listens_for(engine, "connect")
    def _cap(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA max_page_count = {cap['pages']}")

    engine.dispose()  # every connection from now on is capped at the current size
    before = snapshot(app)
    assert_unavailable(post_bytes(officer, "/v1/cases", data), "storage-full", "60")
    assert snapshot(app) == before

    cap["pages"] = 1_000_000
    engine.dispose()
    assert post_bytes(officer, "/v1/cases", data).status_code == 201
    engine.dispose()
    assert_consistent(url, verifier_key(app))
