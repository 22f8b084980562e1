"""Consistent backups of a live database, and restores that refuse a log that does not verify.

* SQLite: the online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot
  while the server keeps writing; the copy is one self-contained file.
* PostgreSQL: `pg_dump --format=custom`, run on a snapshot that this module exports and
  holds, so the dump and the log check below see exactly the same data.

Every backup and every restore runs the auditor (`exchange.auditor.verify_log`) over the
log it holds: every leaf hash recomputed, the newest checkpoint's root recomputed and its
signature verified with this server's log keys (current and retired), every earlier
checkpoint compared with the entries at its size, every statement and transition
replayed. A restore goes only into an empty database, and only after the backup verified:
PostgreSQL backups are first restored into a scratch database and checked there.
"""

import os
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message tells the operator why."""


class UnverifiedBackupError(BackupError):
    """The log in the backup does not verify: the backup is refused."""


@dataclass(frozen=True)
class LogCheck:
    """What the log in a database proved: its size and the key of its newest checkpoint."""

    entries: int
    checkpoints: int
    signed_by: str | None

    def describe(self) -> str:
        if not self.entries:
            return "the log is empty"
        return (
            f"{self.entries} log entries verified against the newest of "
            f"{self.checkpoints} checkpoints, signed by {self.signed_by}"
        )


@dataclass(frozen=True)
class LogKeys:
    """The keys a log must verify with: this server's, current and retired."""

    origin: str
    verifier_keys: Sequence[str]


def check_log(connection: Connection, keys: LogKeys) -> LogCheck:
    """Verify the log as `connection` sees it (one transaction: one consistent view)."""
    # Only backup and restore need the auditor: the serving processes never load it.
    from exchange.auditor import AuditError, verify_log

    notes = list(
        connection.execute(text("SELECT size, note, key_name FROM checkpoints ORDER BY size"))
    )
    head = connection.execute(text("SELECT size FROM log_head WHERE id = 1")).scalar()
    if not notes:
        count = connection.execute(text("SELECT count(*) FROM log_entries")).scalar_one()
        if count or head:
            raise UnverifiedBackupError(f"the log holds {count} entries but no checkpoint")
        return LogCheck(0, 0, None)
    size, newest, signed_by = notes[-1]
    if head != size:
        raise UnverifiedBackupError(
            f"the log head says {head} entries, its newest checkpoint {size}"
        )
    # Streamed (a server-side cursor on PostgreSQL): the log can be far larger than memory.
    leaves = connection.execute(
        text(
            'SELECT leaf FROM log_entries WHERE "index" < :size ORDER BY "index"'
        ).execution_options(stream_results=True, max_row_buffer=1000),
        {"size": size},
    )
    try:
        report = verify_log(
            leaves.scalars(),
            newest,
            keys.verifier_keys,
            keys.origin,
            witnesses=[note for _, note, _ in notes[:-1]],
        )
    except AuditError as exc:
        raise UnverifiedBackupError(f"the log does not verify: {exc}") from exc
    finally:
        leaves.close()
    extra = connection.execute(
        text('SELECT count(*) FROM log_entries WHERE "index" >= :size'), {"size": size}
    ).scalar_one()
    if extra:
        raise UnverifiedBackupError(f"{extra} log entries lie beyond the newest checkpoint")
    return LogCheck(report.entries, len(notes), str(signed_by))


def _fresh_file(path: Path) -> Path:
    """Where to write `path` before moving it into place; refuses to overwrite."""
    if path.exists():
        raise BackupError(f"{path} exists; choose a new file name")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a directory")
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return partial


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _read_only_sqlite(path: Path) -> Engine:
    return create_engine(
        f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true", poolclass=NullPool
    )


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump/pg_restore, and the password in the env."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return dsn, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (it comes with the PostgreSQL client)")
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tools, no shell
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


# --- backup ----------------------------------------------------------------------------------


def backup(engine: Engine, path: Path, keys: LogKeys) -> LogCheck:
    """Write a consistent backup of the live database to the new file `path`."""
    partial = _fresh_file(path)
    try:
        if engine.dialect.name == "sqlite":
            check = _backup_sqlite(_sqlite_path(engine.url), partial, keys)
        else:
            check = _backup_postgres(engine, partial, keys)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return check


def _backup_sqlite(source: Path, target: Path, keys: LogKeys) -> LogCheck:
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    # A plain connection (not mode=ro): a read-only one cannot join a WAL database whose
    # shared-memory file is missing. The backup API only reads through it.
    with sqlite3.connect(source) as reader, sqlite3.connect(target) as writer:
        reader.backup(writer)
        # The copy is a single file: no write-ahead log beside it.
        writer.execute("PRAGMA journal_mode=DELETE")
    reader.close()
    writer.close()
    copy = _read_only_sqlite(target)
    try:
        with copy.connect() as connection:
            return check_log(connection, keys)
    finally:
        copy.dispose()


def _backup_postgres(engine: Engine, target: Path, keys: LogKeys) -> LogCheck:
    dsn, env = _libpq(engine.url)
    snapshotting = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with snapshotting as connection, connection.begin():
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        check = check_log(connection, keys)
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={target}",
                dsn,
            ],
            env,
        )
    return check


# --- restore ---------------------------------------------------------------------------------


def _kind(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"{path}: {exc.strerror}") from exc
    if magic.startswith(SQLITE_MAGIC):
        return "sqlite"
    if magic.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither a SQLite backup nor a pg_dump archive")


def _require_empty(engine: Engine) -> None:
    tables = inspect(engine).get_table_names()
    if tables:
        raise BackupError(
            f"the database already holds {len(tables)} tables; restore into a new, empty "
            "database and point EXCHANGE_DATABASE_URL at it"
        )


def restore(engine: Engine, path: Path, keys: LogKeys) -> LogCheck:
    """Restore `path` into the empty database of `engine`, if its log verifies."""
    kind = _kind(path)
    if kind != engine.dialect.name:
        raise BackupError(f"{path} is a {kind} backup; the database is {engine.dialect.name}")
    _require_empty(engine)
    if kind == "sqlite":
        return _restore_sqlite(path, _sqlite_path(engine.url), keys)
    return _restore_postgres(engine, path, keys)


def _restore_sqlite(backup_file: Path, target: Path, keys: LogKeys) -> LogCheck:
    copy = _read_only_sqlite(backup_file)
    try:
        with copy.connect() as connection:
            check = check_log(connection, keys)
    finally:
        copy.dispose()
    with (
        sqlite3.connect(f"file:{quote(str(backup_file.resolve()))}?mode=ro", uri=True) as reader,
        sqlite3.connect(target) as writer,
    ):
        reader.backup(writer)
    reader.close()
    writer.close()
    return check


@contextmanager
def _scratch_database(engine: Engine) -> Iterator[URL]:
    """A new database beside the target (needs CREATEDB), dropped afterwards."""
    name = f"{str(engine.url.database)[:40]}_restore_check_{uuid.uuid4().hex[:8]}"
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield engine.url.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_restore(url: URL, path: Path) -> None:
    dsn, env = _libpq(url)
    _run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={dsn}",
            str(path),
        ],
        env,
    )


def _restore_postgres(engine: Engine, path: Path, keys: LogKeys) -> LogCheck:
    with _scratch_database(engine) as scratch_url:
        _pg_restore(scratch_url, path)
        scratch = create_engine(scratch_url, poolclass=NullPool)
        try:
            with scratch.connect() as connection:
                check = check_log(connection, keys)
        finally:
            scratch.dispose()
    _pg_restore(engine.url, path)
    return check
