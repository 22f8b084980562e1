"""The witness's memory: per log origin, the latest size and root it cosigned.

One SQLite file, `synchronous=FULL`: a cosignature is answered only after the new state is
on disk, so a crash or kill -9 cannot make the witness forget what it signed. The check
of the old size and the write of the new state happen in one `BEGIN IMMEDIATE`
transaction, so two concurrent requests cannot roll the state back (the race the spec
describes), even across processes.
"""

import sqlite3
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
    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as connection:
            connection.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            yield connection
        finally:
            connection.close()

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
