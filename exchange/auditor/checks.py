"""The statement checks of an audit: inline, or on worker processes beside the replay.

Each handoff statement gets the full check of `statements.statement_problem`: the strict
JOSE policy, canonical payload, the statement schema, its kid, and the Ed25519 signature.
Those dominate an audit (the schema costs about two thirds of a signature check, the
signature itself the rest), and each statement's check is independent of every other,
so on a machine with several CPUs they run on worker processes, in batches, while the
main process parses the following entries and replays their meaning. Processes, not
threads: the checks are Python, and a thread would wait for the GIL between signatures.
Plain pipes, not a ProcessPoolExecutor: its feeder threads would compete with the replay
for the main process's GIL.

The first failure in log order is what counts: batches are collected in the order they
were sent, and the replay stops sending at its own first problem.
"""

import contextlib
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Sequence
from functools import lru_cache
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.auditor.signatures import statement_problem

# Below this many entries an audit takes well under a second: not worth starting workers.
PARALLEL_FROM = 2048
# Each batch costs a round trip (pickling, a wake-up of each process); on a 2-CPU machine
# 96 statements a batch checked 8-12 % more per second than 32 (measured in turn, 2,400
# statements). About 125 KiB of statements: within the socket pair's buffer (usually
# 208 KiB), so sending rarely waits.
BATCH = 96

Check = tuple[int, str, str, bytes]  # index, token, kid the actor claims, raw public key
Failure = tuple[int, str]  # index, why


@lru_cache(maxsize=4096)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def check_batch(batch: Sequence[Check]) -> Failure | None:
    """The first failing check of a batch, if any."""
    for index, token, kid, raw in batch:
        problem = statement_problem(token, kid, _public_key(raw))
        if problem is not None:
            return index, problem
    return None


def _serve(connection: Connection) -> None:
    """A worker: check batches until told to stop (None) or the pipe closes."""
    try:
        while (batch := connection.recv()) is not None:
            connection.send(check_batch(batch))
    except EOFError:
        pass


def default_workers(entries: int) -> int:
    """One worker per CPU for a large log; none for a small one or a single CPU."""
    cpus = os.cpu_count() or 1
    return min(cpus, 8) if cpus > 1 and entries >= PARALLEL_FROM else 0


def _context() -> ForkContext | SpawnContext:
    # fork starts a worker in milliseconds with everything already imported. It is unsafe
    # in a process that runs other threads (one may hold a lock the child inherits), and
    # missing on macOS and Windows: there, spawn re-imports, once per worker.
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class StatementChecks:
    """Queue checks in log order; learn the first that fails, in log order."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.count = 0
        self.failure: Failure | None = None
        self._batch: list[Check] = []
        self._sent = 0
        self._in_flight: deque[Connection] = deque()  # whose answer comes next, in order
        self._connections: list[Connection] = []
        self._processes: list[BaseProcess] = []
        context = _context()
        for _ in range(workers):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs,), daemon=True)
            process.start()
            theirs.close()
            self._connections.append(ours)
            self._processes.append(process)

    def add(self, index: int, token: str, kid: str, key: Ed25519PublicKey) -> None:
        self.count += 1
        if not self._connections:
            problem = statement_problem(token, kid, key)
            if problem is not None and self.failure is None:
                self.failure = (index, problem)
            return
        self._batch.append((index, token, kid, key.public_bytes_raw()))
        if len(self._batch) >= BATCH:
            self._send()

    def _send(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        # Round robin; at most two batches per worker in flight (one checked, one queued).
        while len(self._in_flight) >= 2 * len(self._connections) or (
            self._in_flight and self._in_flight[0].poll()
        ):
            self._receive()
        connection = self._connections[self._sent % len(self._connections)]
        self._sent += 1
        connection.send(batch)
        self._in_flight.append(connection)

    def _receive(self) -> None:
        try:
            failed: Failure | None = self._in_flight.popleft().recv()
        except EOFError as exc:  # a worker crashed: a bug, not a verdict on the log
            raise RuntimeError("a statement-check worker process died") from exc
        if failed is not None and self.failure is None:
            self.failure = failed

    def finish(self) -> Failure | None:
        """Wait for every queued check; the first failure in log order, if any."""
        if self._connections:
            self._send()
            while self._in_flight:
                self._receive()
        return self.failure

    def close(self) -> None:
        for connection in self._connections:
            with contextlib.suppress(OSError):  # a worker that died has nothing to stop
                connection.send(None)
            connection.close()
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
