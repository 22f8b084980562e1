"""SQLite's writers take their turns first come, first served, across processes."""

import contextlib
import multiprocessing
import os
import select
import signal
import socket
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from exchange.storage.writers import SqliteWriters
from tests.helpers import databases

pytestmark = pytest.mark.skipif(databases.BACKEND != "sqlite", reason="SQLite's writers only")
_spawn = multiprocessing.get_context("spawn")


def _take_turn(path: str, name: str, journal: str, only_when_woken: bool = False) -> None:
    writers = SqliteWriters(path, timeout=30)
    if only_when_woken:  # it looks at the queue again only after an hour
        writers._POLL_NEXT = writers._POLL_BEHIND = 3600
    with writers.turn():
        with open(journal, "a") as out:
            out.write(f"{name}\n")
        time.sleep(0.02)


def _queue_until(writers: SqliteWriters, length: int) -> None:
    deadline = time.monotonic() + 30
    while writers.waiting() < length:
        assert time.monotonic() < deadline, f"the queue never reached {length}"
        time.sleep(0.005)


def _start(
    path: Path, name: str, journal: Path, only_when_woken: bool = False
) -> multiprocessing.process.BaseProcess:
    process = _spawn.Process(
        target=_take_turn, args=(str(path), name, str(journal), only_when_woken)
    )
    process.start()
    return process


def test_writers_take_their_turns_in_the_order_they_came(tmp_path):
    path, journal = tmp_path / "exchange.db", tmp_path / "journal"
    holder = SqliteWriters(str(path), timeout=30)
    children = []
    with ExitStack() as held:
        held.enter_context(holder.turn())
        for position, name in enumerate(["first", "second", "third", "fourth"], start=2):
            children.append(_start(path, name, journal))
            _queue_until(holder, position)  # this one took its ticket before the next starts
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    assert journal.read_text().split() == ["first", "second", "third", "fourth"]
    assert holder.waiting() == 0


def test_the_writer_whose_turn_ends_wakes_the_next_one(tmp_path):
    path, journal = tmp_path / "exchange.db", tmp_path / "journal"
    holder = SqliteWriters(str(path), timeout=30)
    with ExitStack() as held:
        held.enter_context(holder.turn())
        woken = _start(path, "woken", journal, only_when_woken=True)
        _queue_until(holder, 2)
    try:
        woken.join(30)
        assert woken.exitcode == 0
    finally:
        woken.kill()
    assert journal.read_text().split() == ["woken"]


def test_a_ticket_whose_writer_died_is_skipped(tmp_path):
    path, journal = tmp_path / "exchange.db", tmp_path / "journal"
    holder = SqliteWriters(str(path), timeout=30)
    with ExitStack() as held:
        held.enter_context(holder.turn())
        dead = _start(path, "dead", journal)
        _queue_until(holder, 2)
        os.kill(dead.pid, signal.SIGKILL)
        dead.join(30)
        alive = _start(path, "alive", journal)
        _queue_until(holder, 3)
    alive.join(30)
    assert alive.exitcode == 0
    assert journal.read_text().split() == ["alive"]


def test_a_writer_that_died_in_its_turn_hands_it_on(tmp_path):
    path, journal = tmp_path / "exchange.db", tmp_path / "journal"
    probe = SqliteWriters(str(path), timeout=30)
    stuck = _spawn.Process(target=_hold_forever, args=(str(path),))
    stuck.start()
    _queue_until(probe, 1)
    waiter = _start(path, "next", journal)
    _queue_until(probe, 2)
    os.kill(stuck.pid, signal.SIGKILL)
    stuck.join(30)
    waiter.join(30)
    assert waiter.exitcode == 0
    assert journal.read_text().split() == ["next"]


def _hold_forever(path: str) -> None:
    with SqliteWriters(path, timeout=30).turn():
        time.sleep(3600)


def _full_bell(writers: SqliteWriters, pid: int) -> socket.socket:
    """A bell for process `pid` whose queue of wakeups is full: nobody reads it."""
    files = writers._open()
    assert files is not None
    assert files.bell is not None
    bell = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    bell.bind(files.address + str(pid).encode())
    sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    with contextlib.suppress(BlockingIOError):
        while True:
            sender.sendto(b".", socket.MSG_DONTWAIT, bell.getsockname())
    sender.close()
    return bell


def test_a_writer_never_waits_for_room_in_the_next_ones_bell(tmp_path):
    writers = SqliteWriters(str(tmp_path / "exchange.db"), timeout=30)
    files = writers._open()
    assert files is not None
    with _full_bell(writers, 2**31 - 7) as bell:
        ringing = threading.Thread(target=files.ring, args=(2**31 - 7,), daemon=True)
        ringing.start()
        ringing.join(10)
        assert not ringing.is_alive(), "ring() blocked on a full bell"
        assert len(bell.recv(16)) == 1  # the queue was full, not empty


def test_a_waiter_takes_every_wakeup_that_came(tmp_path):
    writers = SqliteWriters(str(tmp_path / "exchange.db"), timeout=30)
    files = writers._open()
    assert files is not None
    assert files.bell is not None
    for _ in range(3):
        files.ring(os.getpid())
    files.listen(0)
    assert select.select([files.bell], [], [], 0)[0] == []
