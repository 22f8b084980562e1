"""The log's unit of work: one write transaction whose appends commit with their checkpoint.

    with transaction.write(db, signer) as session:
        service(session, ...)          # state changes and log.append(...)

On PostgreSQL, the transaction first locks the log head row, so writers take their turn in
the log (SQLite's writers are already serialised by `storage.database.write`). When the
block ends, the batch of appends is sealed into one signed checkpoint inside the same
transaction, which then commits; only after the commit are the new Merkle nodes kept in the
process's cache, as facts of the log.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.log import batch, nodes
from exchange.log.keyring import LogSigner
from exchange.storage import database
from exchange.storage.database import Database
from exchange.storage.models import LogHead


@contextmanager
def write(
    db: Database, signer: LogSigner, *, handover_from: str | None = None
) -> Iterator[Session]:
    """A serialised transaction whose log appends are checkpointed by `signer` at commit.

    `handover_from` is set only by a log key rotation: the retiring key, which the log head
    may still name when the new key signs its first checkpoint.
    """
    with database.write(db) as session:
        if not db.is_sqlite:
            session.execute(select(LogHead).where(LogHead.id == 1).with_for_update())
        batch.open_batch(session, signer, handover_from)
        yield session
        sealed = batch.seal(session)
    if sealed is not None:  # committed: its nodes are now facts of the log
        nodes.remember(session, sealed.nodes)
