"""The queue of one SQLite database's writers: threads of this process, then processes.

SQLite's busy handler makes a blocked writer sleep in growing steps (up to 100 ms) before
it retries, so under load the lock sits free while writers sleep. Writers that queue here
take their turn within a fraction of a millisecond of the last commit instead.

The turn itself is an exclusive `flock` on `<database>.writers`, which the kernel releases
when its holder dies. A lock alone is not a queue, though: whichever waiter looks first
after a release wins, and under load a writer could lose several times in a row (the
slowest handoff in a hundred waited four times as long as the median). So waiters also
take a ticket from a counter shared by every process (`<database>.writers-queue`, mapped
into memory) and only try the lock once the tickets before theirs have been served, first
come, first served. The tickets only order the attempts: the lock alone keeps writers
apart, and SQLite's own lock (BEGIN IMMEDIATE) stays the guarantee under both. A ticket
whose writer died or gave up is skipped once the queue has not moved for `_STALLED`
seconds while the lock is free.
"""

import fcntl
import mmap
import os
import sqlite3
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError

# The shared counters: the next ticket to hand out, and the next ticket to serve.
_COUNTERS = struct.Struct("<QQ")


class SqliteWriters:
    # How often a waiter looks at the queue: often when it is next, so that the lock sits
    # free for as little as possible; seldom further back, where a turn (several
    # milliseconds) must pass first and every wakeup takes CPU from the writer.
    _POLL_NEXT = 0.0002
    _POLL_BEHIND = 0.001
    _STALLED = 0.05

    def __init__(self, database_path: str | None, timeout: float) -> None:
        self.timeout = timeout
        self._threads = threading.Lock()
        self._path = database_path
        self._pid = os.getpid()
        self._files: tuple[int, int, mmap.mmap] | None = None

    def _open(self) -> tuple[int, int, mmap.mmap] | None:
        if self._path is None:
            return None
        if self._files is None or self._pid != os.getpid():  # not inherited across a fork
            lock = os.open(f"{self._path}.writers", os.O_RDWR | os.O_CREAT, 0o600)
            queue = os.open(f"{self._path}.writers-queue", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(queue, fcntl.LOCK_EX)
            try:
                if os.fstat(queue).st_size < _COUNTERS.size:
                    os.ftruncate(queue, _COUNTERS.size)
            finally:
                fcntl.flock(queue, fcntl.LOCK_UN)
            self._files = (lock, queue, mmap.mmap(queue, _COUNTERS.size))
            self._pid = os.getpid()
        return self._files

    def waiting(self) -> int:
        """How many writers hold a ticket, the one whose turn it is included."""
        files = self._open()
        if files is None:
            return 0
        issued, serving = _COUNTERS.unpack_from(files[2])
        return max(0, int(issued) - int(serving))

    @contextmanager
    def turn(self) -> Iterator[None]:
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            raise _locked()
        try:
            files = self._open()
            if files is None:
                yield
                return
            lock, queue, counters = files
            ticket = _take_ticket(queue, counters)
            self._wait(lock, counters, ticket, deadline)
            try:
                yield
            finally:
                _serve_after(queue, counters, ticket)
                fcntl.flock(lock, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _wait(self, lock: int, counters: mmap.mmap, ticket: int, deadline: float) -> None:
        """Take the lock once every earlier ticket was served (or the queue stalled)."""
        seen, since = -1, time.monotonic()
        while True:
            serving = _COUNTERS.unpack_from(counters)[1]
            now = time.monotonic()
            if serving != seen:
                seen, since = serving, now
            if serving >= ticket or now - since > self._STALLED:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    pass
            if now > deadline:
                raise _locked()
            time.sleep(self._POLL_NEXT if ticket - serving <= 1 else self._POLL_BEHIND)


def _take_ticket(queue: int, counters: mmap.mmap) -> int:
    fcntl.flock(queue, fcntl.LOCK_EX)
    try:
        ticket, serving = _COUNTERS.unpack_from(counters)
        _COUNTERS.pack_into(counters, 0, ticket + 1, serving)
    finally:
        fcntl.flock(queue, fcntl.LOCK_UN)
    return int(ticket)


def _serve_after(queue: int, counters: mmap.mmap, ticket: int) -> None:
    """Call the ticket after `ticket`, and skip any earlier one nobody came for."""
    fcntl.flock(queue, fcntl.LOCK_EX)
    try:
        issued, serving = _COUNTERS.unpack_from(counters)
        _COUNTERS.pack_into(counters, 0, issued, max(serving, ticket + 1))
    finally:
        fcntl.flock(queue, fcntl.LOCK_UN)


def _locked() -> OperationalError:
    """The same error as SQLite's own busy timeout, so both are answered alike (503)."""
    busy = sqlite3.OperationalError("database is locked")
    # What sqlite3 sets on the errors SQLite raises; the problem mapping reads the code.
    busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
    busy.sqlite_errorname = "SQLITE_BUSY"
    return OperationalError("BEGIN IMMEDIATE", None, busy)
