"""The witness's memory: per log origin, the latest size and root it cosigned.

One SQLite file, `synchronous=FULL`: a cosignature is answered only after the new state is
on disk, so a crash or kill -9 cannot make the witness forget what it signed. The check
of the old size and the write of the new state happen in one `BEGIN IMMEDIATE`
transaction, so two concurrent requests cannot roll the state back (the race the spec
describes), even across processes.
"""

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoints (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class Latest:
    size: int
    root: bytes


class WitnessState:
    """The state file, through one connection kept open and shared under a lock (requests
    to one witness serialise on the write anyway). Opening and closing a connection per
    request would checkpoint the WAL each time: several more fsyncs per cosignature
    (`make bench` measured 29 ms against 7 ms)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            path, timeout=30, isolation_level=None, check_same_thread=False
        )
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._connection

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def latest(self, origin: str) -> Latest | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT size, root FROM checkpoints WHERE origin = ?", (origin,)
            ).fetchone()
        return None if row is None else Latest(int(row[0]), bytes(row[1]))

    def advance(
        self,
        origin: str,
        decide: Callable[[Latest | None], tuple[int, bytes, str]],
    ) -> None:
        """Run decide(latest) and store what it returns, atomically.

        decide raises to refuse (nothing is written); otherwise it returns the new
        (size, root, note) to remember, which is committed before this returns.
        """
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute(
                    "SELECT size, root FROM checkpoints WHERE origin = ?", (origin,)
                ).fetchone()
                latest = None if row is None else Latest(int(row[0]), bytes(row[1]))
                size, root, note = decide(latest)
                connection.execute(
                    "INSERT INTO checkpoints (origin, size, root, note) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (origin) DO UPDATE SET"
                    " size = excluded.size, root = excluded.root, note = excluded.note",
                    (origin, size, root, note),
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
