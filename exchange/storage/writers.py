"""The queue of one SQLite database's writers: threads of this process, then processes.

SQLite's busy handler makes a blocked writer sleep in growing steps (up to 100 ms) before
it retries, so under load the lock sits free while writers sleep. Writers that queue here
take their turn as soon as the last one commits instead.

The turn itself is an exclusive `flock` on `<database>.writers`, which the kernel releases
when its holder dies. A lock alone is not a queue, though: whichever waiter looks first
after a release wins, and under load a writer could lose several times in a row (the
slowest handoff in a hundred waited four times as long as the median). So waiters also
take a ticket from a counter shared by every process (`<database>.writers-queue`, mapped
into memory) and only try the lock once the tickets before theirs have been served, first
come, first served. A writer that ends its turn wakes the next one directly, through a
datagram to a socket of the waiting process; a waiter still looks at the queue every few
milliseconds in case a wakeup is lost. The tickets only order the attempts: the lock alone
keeps writers apart, and SQLite's own lock (BEGIN IMMEDIATE) stays the guarantee under
both. A ticket whose writer died or gave up is skipped once the queue has not moved for
`_STALLED` seconds while the lock is free.
"""

import fcntl
import hashlib
import mmap
import os
import select
import socket
import sqlite3
import struct
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError

# The shared counters (the next ticket to hand out, the next ticket to serve), then the
# process waiting with each ticket, by ticket modulo _SLOTS.
_COUNTERS = struct.Struct("<QQ")
_SLOT = struct.Struct("<I")
_SLOTS = 256
_QUEUE_BYTES = _COUNTERS.size + _SLOTS * _SLOT.size


@dataclass(frozen=True)
class _Files:
    pid: int
    lock: int
    queue: int
    shared: mmap.mmap
    # The datagram socket where this process is woken for its turn (None where abstract
    # sockets are missing: the waiter then only looks at the queue).
    bell: int | None
    address: bytes

    def take_ticket(self) -> int:
        fcntl.flock(self.queue, fcntl.LOCK_EX)
        try:
            ticket, serving = _COUNTERS.unpack_from(self.shared)
            _COUNTERS.pack_into(self.shared, 0, ticket + 1, serving)
            _SLOT.pack_into(self.shared, _slot(ticket), self.pid)
        finally:
            fcntl.flock(self.queue, fcntl.LOCK_UN)
        return int(ticket)

    def serve_after(self, ticket: int) -> int:
        """Call the ticket after `ticket` (skipping any earlier one nobody came for);
        return the process waiting with it, if one is."""
        fcntl.flock(self.queue, fcntl.LOCK_EX)
        try:
            issued, serving = _COUNTERS.unpack_from(self.shared)
            serving = max(serving, ticket + 1)
            _COUNTERS.pack_into(self.shared, 0, issued, serving)
            waiting = serving < issued
            pid: int = _SLOT.unpack_from(self.shared, _slot(serving))[0]
        finally:
            fcntl.flock(self.queue, fcntl.LOCK_UN)
        return pid if waiting else 0

    def ring(self, pid: int) -> None:
        if self.bell is None or not pid:
            return
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM, fileno=self.bell)
        try:
            # Never wait for room: a full bell blocked a writer that had ended its turn
            # until the waiter read its wakeups (py-spy: 0.7 s of a 10 s submit bench).
            sender.sendto(b".", socket.MSG_DONTWAIT, _address(self.address, pid))
        except OSError:  # gone, or its bell is full: it looks at the queue anyway
            pass
        finally:
            sender.detach()

    def listen(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for a wakeup, then take every wakeup that came:
        one left behind would end the next wait at once, for nothing."""
        assert self.bell is not None
        if select.select([self.bell], [], [], timeout)[0]:
            receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM, fileno=self.bell)
            try:
                while True:
                    receiver.recv(16, socket.MSG_DONTWAIT)
            except BlockingIOError:
                pass
            finally:
                receiver.detach()

    def close(self) -> None:
        self.shared.close()
        for fd in (self.lock, self.queue, self.bell):
            if fd is not None:
                os.close(fd)


def _slot(ticket: int) -> int:
    return _COUNTERS.size + (ticket % _SLOTS) * _SLOT.size


def _address(prefix: bytes, pid: int) -> bytes:
    return prefix + str(pid).encode()


def _bell(address: bytes) -> int | None:
    bell = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        bell.bind(address)
    except OSError:  # not Linux, or this process has a bell for this database already
        bell.close()
        return None
    return bell.detach()


class SqliteWriters:
    # How long a waiter sleeps between looks at the queue when no wakeup comes: briefly
    # when it is next (a wakeup may be lost), longer further back, where every wakeup
    # takes CPU from the writer.
    _POLL_NEXT = 0.002
    _POLL_BEHIND = 0.005
    _RETRY = 0.0002  # its turn, but the last writer has not let go of the lock yet
    _STALLED = 0.05

    def __init__(self, database_path: str | None, timeout: float) -> None:
        self.timeout = timeout
        self._threads = threading.Lock()
        self._path = database_path
        self._files: _Files | None = None

    def _open(self) -> _Files | None:
        if self._path is None:
            return None
        pid = os.getpid()
        if self._files is None or self._files.pid != pid:  # not inherited across a fork
            lock = os.open(f"{self._path}.writers", os.O_RDWR | os.O_CREAT, 0o600)
            queue = os.open(f"{self._path}.writers-queue", os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(queue, fcntl.LOCK_EX)
            try:
                if os.fstat(queue).st_size < _QUEUE_BYTES:
                    os.ftruncate(queue, _QUEUE_BYTES)
            finally:
                fcntl.flock(queue, fcntl.LOCK_UN)
            # An abstract socket (Linux): no file to clean up, gone when the process is.
            name = hashlib.sha256(os.path.realpath(self._path).encode()).hexdigest()[:32]
            prefix = f"\0hotline-writers/{name}/".encode()
            shared = mmap.mmap(queue, _QUEUE_BYTES)
            files = _Files(pid, lock, queue, shared, _bell(_address(prefix, pid)), prefix)
            self._files = files
            # What a fork inherited stays open in the child: its parent still uses it.
            weakref.finalize(self, files.close)
        return self._files

    def waiting(self) -> int:
        """How many writers hold a ticket, the one whose turn it is included."""
        files = self._open()
        if files is None:
            return 0
        issued, serving = _COUNTERS.unpack_from(files.shared)
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
            ticket = files.take_ticket()
            self._wait(files, ticket, deadline)
            try:
                yield
            finally:
                following = files.serve_after(ticket)
                fcntl.flock(files.lock, fcntl.LOCK_UN)
                files.ring(following)
        finally:
            self._threads.release()

    def _wait(self, files: _Files, ticket: int, deadline: float) -> None:
        """Take the lock once every earlier ticket was served (or the queue stalled)."""
        seen, since = -1, time.monotonic()
        while True:
            serving = _COUNTERS.unpack_from(files.shared)[1]
            now = time.monotonic()
            if serving != seen:
                seen, since = serving, now
            called = serving >= ticket
            if called or now - since > self._STALLED:
                try:
                    fcntl.flock(files.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    pass
            if now > deadline:
                raise _locked()
            if called:
                time.sleep(self._RETRY)
            elif files.bell is None:
                time.sleep(self._RETRY if ticket - serving <= 1 else self._POLL_BEHIND / 5)
            else:
                files.listen(self._POLL_NEXT if ticket - serving <= 1 else self._POLL_BEHIND)


def _locked() -> OperationalError:
    """The same error as SQLite's own busy timeout, so both are answered alike (503)."""
    busy = sqlite3.OperationalError("database is locked")
    # What sqlite3 sets on the errors SQLite raises; the problem mapping reads the code.
    busy.sqlite_errorcode = sqlite3.SQLITE_BUSY
    busy.sqlite_errorname = "SQLITE_BUSY"
    return OperationalError("BEGIN IMMEDIATE", None, busy)
