"""Backups of a live database and restores that refuse a log that does not verify."""

import json
import shutil
import sqlite3
import subprocess
import threading

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from exchange import runtime
from exchange.ops.backup import PG_DUMP_MAGIC, SQLITE_MAGIC
from exchange.protocol.envelope.canonical import canonical
from exchange.services import operator
from exchange.storage.models import Case, Checkpoint, LogEntry
from tests.helpers.world import standard_world


def admin(app, *args):
    return app.test_cli_runner().invoke(args=["admin", *args])


def snapshot(database_url):
    """Everything a restore must bring back, read straight from a database."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return {
                "entries": connection.execute(
                    select(LogEntry.index, LogEntry.leaf).order_by(LogEntry.index)
                ).all(),
                "checkpoints": connection.execute(
                    select(Checkpoint.size, Checkpoint.note).order_by(Checkpoint.size)
                ).all(),
                "cases": connection.execute(select(Case.id, Case.state).order_by(Case.id)).all(),
            }
    finally:
        engine.dispose()


def tables(database_url):
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def tamper(database_url, index=2):
    """What someone with database access might do: rewrite a log entry behind the triggers."""
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.execute(text("DROP TRIGGER log_entries_no_update"))
            else:
                connection.execute(
                    text("ALTER TABLE log_entries DISABLE TRIGGER log_entries_append_only")
                )
            leaf = connection.execute(
                text('SELECT leaf FROM log_entries WHERE "index" = :index'), {"index": index}
            ).scalar_one()
            backdated = {**json.loads(leaf), "logged_at": "2020-01-01T00:00:00Z"}
            changed = connection.execute(
                text('UPDATE log_entries SET leaf = :leaf WHERE "index" = :index'),
                {"leaf": canonical(backdated).decode(), "index": index},
            )
            assert changed.rowcount == 1
    finally:
        engine.dispose()


def raw_backup(database_url, path):
    """A backup made with the database's own tools, which check nothing."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as source, sqlite3.connect(path) as target:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        source.close()
        target.close()
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(
        [shutil.which("pg_dump"), "--format=custom", "--no-owner", f"--file={path}", dsn],
        check=True,
    )


@pytest.fixture
def world(app, client, clock):
    world = standard_world(app, client, clock)
    for _ in range(2):
        assert world.submit(world.officials["officer-1"], "clipshare")[1].status_code == 201
    return world


@pytest.fixture
def backup_file(tmp_path):
    return tmp_path / "backups" / "exchange.ops.backup"


def test_a_backup_restores_into_an_empty_database(
    app, world, database_url, empty_database_url, make_app, backup_file
):
    backup_file.parent.mkdir()
    result = admin(app, "backup", str(backup_file))
    assert result.exit_code == 0, result.output
    size = world.log_size()
    assert f"{size} log entries verified against the newest of" in result.output
    magic = SQLITE_MAGIC if app.config["DATABASE_URL"].startswith("sqlite") else PG_DUMP_MAGIC
    assert backup_file.read_bytes().startswith(magic)
    assert oct(backup_file.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in backup_file.parent.iterdir()] == [backup_file.name]

    target = make_app(DATABASE_URL=empty_database_url)
    restored = admin(target, "restore", str(backup_file))

    assert restored.exit_code == 0, restored.output
    assert f"Restored {backup_file}: {size} log entries verified" in restored.output
    assert snapshot(empty_database_url) == snapshot(database_url)
    assert target.test_client().get("/readyz").status_code == 200


def test_a_backup_taken_while_the_exchange_writes_is_consistent(
    app, world, clock, empty_database_url, make_app, backup_file
):
    backup_file.parent.mkdir()
    done = threading.Event()
    written = []

    def keep_writing():
        with app.app_context():
            number = 0
            while not done.is_set() and number < 200:
                with runtime.write() as session:
                    operator.create_organisation(session, clock(), f"org-{number}", "agency", "x")
                written.append(number)
                number += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result = admin(app, "backup", str(backup_file))
    finally:
        done.set()
        writer.join()
    assert result.exit_code == 0, result.output
    target = make_app(DATABASE_URL=empty_database_url)
    restored = admin(target, "restore", str(backup_file))
    assert restored.exit_code == 0, restored.output
    restored_size = len(snapshot(empty_database_url)["entries"])
    assert world.log_size() - len(written) <= restored_size <= world.log_size()


def test_a_backup_never_overwrites_a_file(app, world, tmp_path):
    existing = tmp_path / "kept.backup"
    existing.write_bytes(b"precious")
    result = admin(app, "backup", str(existing))
    assert result.exit_code == 1
    assert "exists; choose a new file name" in result.output
    assert existing.read_bytes() == b"precious"


def test_a_database_whose_log_was_rewritten_is_not_backed_up(app, world, database_url, tmp_path):
    tamper(database_url)
    result = admin(app, "backup", str(tmp_path / "bad.backup"))
    assert result.exit_code == 1
    assert "the log does not verify" in result.output
    assert not list(tmp_path.glob("*bad.backup*"))


def test_a_backup_whose_log_was_rewritten_is_not_restored(
    app, world, database_url, empty_database_url, make_app, tmp_path
):
    tamper(database_url)
    raw_backup(database_url, tmp_path / "tampered.backup")
    target = make_app(DATABASE_URL=empty_database_url)
    result = admin(target, "restore", str(tmp_path / "tampered.backup"))
    assert result.exit_code == 1
    assert "restore refused: the log does not verify" in result.output
    assert "entry 2" in result.output
    assert tables(empty_database_url) == []


def test_an_untouched_raw_backup_is_restored(
    app, world, database_url, empty_database_url, make_app, tmp_path
):
    # The control for the test above: the same tools, no tampering, accepted.
    raw_backup(database_url, tmp_path / "plain.backup")
    result = admin(
        make_app(DATABASE_URL=empty_database_url), "restore", str(tmp_path / "plain.backup")
    )
    assert result.exit_code == 0, result.output


def test_a_backup_of_another_exchange_is_not_restored(
    app, world, empty_database_url, make_app, tmp_path, backup_file
):
    backup_file.parent.mkdir()
    assert admin(app, "backup", str(backup_file)).exit_code == 0
    # Another exchange: its own keys, so the log's checkpoints are not signed by them.
    stranger = make_app(DATABASE_URL=empty_database_url, INSTANCE_PATH=str(tmp_path / "other"))
    result = admin(stranger, "restore", str(backup_file))
    assert result.exit_code == 1
    assert "the log does not verify" in result.output
    assert tables(empty_database_url) == []


def test_a_restore_never_overwrites_a_database(app, world, make_app, backup_file, database_url):
    backup_file.parent.mkdir()
    assert admin(app, "backup", str(backup_file)).exit_code == 0
    before = snapshot(database_url)
    result = admin(app, "restore", str(backup_file))
    assert result.exit_code == 1
    assert "restore into a new, empty database" in result.output
    assert snapshot(database_url) == before


def test_a_file_that_is_no_backup_is_refused(app, make_app, empty_database_url, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"hello, world")
    result = admin(make_app(DATABASE_URL=empty_database_url), "restore", str(junk))
    assert result.exit_code == 1
    assert "neither a SQLite backup nor a pg_dump archive" in result.output


def test_a_backup_of_the_other_kind_of_database_is_refused(make_app, empty_database_url, tmp_path):
    other = tmp_path / "other.backup"
    is_sqlite = empty_database_url.startswith("sqlite")
    other.write_bytes((PG_DUMP_MAGIC if is_sqlite else SQLITE_MAGIC) + b"\0" * 64)
    result = admin(make_app(DATABASE_URL=empty_database_url), "restore", str(other))
    assert result.exit_code == 1
    assert "backup; the database is" in result.output
