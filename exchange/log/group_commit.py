"""Group commit: the concurrent handoffs of one process written in one log transaction.

A durable commit (an fsync on SQLite with `synchronous=FULL`, a WAL flush on PostgreSQL),
the log head, one checkpoint signature and the turn at the database's write lock are paid
once per transaction, not once per handoff. Requests that reach their write step while
another request of the same process holds the write lock queue here; when the lock is
free, one of them (the leader) takes every queued unit of work, runs each in a savepoint
of one transaction under one clock reading, signs one checkpoint over all their entries,
commits, and only then hands every request its own answer or its own error. No request
is answered before the batch that holds its entry is durable.

    committer.run(work, answer)

`work(session, now)` is the state change and its log appends (a service call); it may
raise, and then only its own savepoint is rolled back and the error is raised in its own
request. `answer(session, done)` runs after the batch is sealed, inside the same
transaction, and builds the response (a receipt from the batch's checkpoint).
Both run in the leader's thread: they must read no request-local state.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from exchange.log import batch, transaction
from exchange.log.keyring import LogSigner
from exchange.storage.database import Database

Done = TypeVar("Done")
Answer = TypeVar("Answer")


@dataclass(eq=False)
class _Job(Generic[Done, Answer]):
    work: Callable[[Session, datetime], Done]
    answer: Callable[[Session, Done], Answer]
    finished: bool = False
    done: Any = None
    outcome: Any = None
    error: Exception | None = None
    failed: bool = False

    def result(self) -> Answer:
        if self.error is not None:
            raise self.error
        answer: Answer = self.outcome
        return answer


class GroupCommit:
    """One process's queue of write units for one database, committed in batches."""

    def __init__(
        self,
        db: Database,
        signer: Callable[[], LogSigner],
        clock: Callable[[], datetime],
        observe: Callable[[int], None] | None = None,
    ) -> None:
        self._db = db
        self._signer = signer
        self._clock = clock
        self._observers: list[Callable[[int], None]] = [observe] if observe else []
        self._turn = threading.Condition()
        self._queue: list[_Job[Any, Any]] = []
        self._leading = False

    @property
    def queued(self) -> int:
        """Units waiting for the next batch."""
        with self._turn:
            return len(self._queue)

    def observe(self, observer: Callable[[int], None]) -> None:
        """Call `observer` with the number of units answered by every batch that commits."""
        self._observers.append(observer)

    def run(
        self, work: Callable[[Session, datetime], Done], answer: Callable[[Session, Done], Answer]
    ) -> Answer:
        """Run `work` in the next batch; return `answer`'s result once the batch committed."""
        job: _Job[Done, Answer] = _Job(work, answer)
        with self._turn:
            self._queue.append(job)
            while not job.finished and self._leading:
                self._turn.wait()
            if job.finished:
                return job.result()
            self._leading = True
        try:
            self._lead()
        except BaseException:
            # Failed before taking the queue (the database refused the transaction): this
            # request gets the error, and its unit must not run later in another batch.
            with self._turn:
                if job in self._queue:
                    self._queue.remove(job)
            raise
        finally:
            with self._turn:
                self._leading = False
                self._turn.notify_all()
        return job.result()

    def _lead(self) -> None:
        jobs: list[_Job[Any, Any]] = []
        try:
            with transaction.write(self._db, self._signer()) as session:
                # Taken only now that the write lock is ours: whoever queued while the
                # leader waited for it joins this batch.
                with self._turn:
                    jobs, self._queue = self._queue, []
                now = self._clock()
                if len(jobs) == 1:
                    jobs[0].done = jobs[0].work(session, now)
                else:
                    for job in jobs:
                        _run_in_savepoint(session, job, now)
                transaction.seal(session)
                for job in jobs:
                    if not job.failed:
                        job.outcome = job.answer(session, job.done)
        except BaseException as error:
            # The whole batch rolled back: every unit not already failed gets this error.
            shared = error if isinstance(error, Exception) else RuntimeError("batch interrupted")
            for job in jobs:
                if not job.failed:
                    job.error = shared
            self._finish(jobs, committed=False)
            if not jobs or not isinstance(error, Exception):
                raise
            return
        self._finish(jobs, committed=True)

    def _finish(self, jobs: list[_Job[Any, Any]], *, committed: bool) -> None:
        if committed:
            accepted = sum(1 for job in jobs if not job.failed)
            for observer in self._observers:
                observer(accepted)
        with self._turn:
            for job in jobs:
                job.finished = True
            self._turn.notify_all()


def _run_in_savepoint(session: Session, job: _Job[Any, Any], now: datetime) -> None:
    """Run one unit of a batch; if it fails, undo it alone and keep its error for its request."""
    mark = batch.mark(session)
    try:
        with session.begin_nested():
            job.done = job.work(session, now)
    except Exception as error:  # raised again in the request it belongs to
        batch.rewind(session, mark)
        job.error, job.failed = error, True
