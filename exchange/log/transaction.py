"""The log's unit of work: one write transaction whose appends commit with their checkpoint.

    with transaction.write(db, signer) as session:
        service(session, ...)          # state changes and log.append(...)

On PostgreSQL, the transaction first queues for its turn on an advisory lock and then
locks the log head row, so writers take their turns in the log in the order they came
(SQLite's writers are already queued and serialised by `storage.database.write`). When the
block ends, the batch of appends is sealed into one signed checkpoint inside the same
transaction, which then commits; only after the commit are the new Merkle nodes kept in the
process's cache, as facts of the log. A block that answers with its own checkpoint (a
receipt) seals early with `seal`, still inside the transaction.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from exchange.log import batch, nodes
from exchange.log.keyring import LogSigner
from exchange.storage import database
from exchange.storage.database import Database

# PostgreSQL hands a row lock that comes free to whichever writer asks first, newcomers
# included, so under load a writer could wait out several turns at the log head (submit
# p99 about 3.2 times p50 in the bench). The waiters for an advisory lock queue in the
# lock manager in the order they came; the row lock stays the guarantee. The advisory lock
# ends with the transaction, and `lock_timeout` bounds the wait for it as for the row.
_POSTGRESQL_WRITERS_QUEUE = text("SELECT pg_advisory_xact_lock(7151730455261453649)")


@contextmanager
def write(
    db: Database, signer: LogSigner, *, handover_from: str | None = None
) -> Iterator[Session]:
    """A serialised transaction whose log appends are checkpointed by `signer` at commit.

    `handover_from` is set only by a log key rotation: the retiring key, which the log head
    may still name when the new key signs its first checkpoint.
    """
    with database.write(db) as session:
        head = None
        if not db.is_sqlite:
            session.execute(_POSTGRESQL_WRITERS_QUEUE)
            head = batch.read_head(session, lock=True)
        batch.open_batch(session, signer, handover_from, locked_head=head)
        yield session
        batch.seal(session)  # unless the block sealed early (`seal`)
    done = batch.sealed(session)
    if done is not None:  # committed: its nodes and checkpoint are now facts of the log
        nodes.remember(session, done.nodes)
        if done.directory is not None:
            batch.committed_directories(session).remember(done.size, done.directory)


def seal(session: Session) -> batch.Batch | None:
    """Sign this transaction's checkpoint now, before the block ends, so that the block can
    answer with it (a handoff's receipt) without a transaction of its own afterwards.

    Nothing more may be appended in the transaction. None when nothing was appended (or
    the transaction sealed already): the answer then reads the log as it is.
    """
    return batch.seal(session)


def sealed_so_far(session: Session) -> batch.Batch | None:
    """The checkpoint batch this transaction sealed already, if it did (a group commit seals
    once, then answers each of its handoffs from the same checkpoint)."""
    return batch.sealed_so_far(session)
