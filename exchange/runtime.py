"""What one running app holds, for its edges to hand to the services.

The database, the server's keys, the clock and the policies live in `app.extensions`. Only
the edges read them here (the API's routes, `flask admin` commands, the metrics scrape);
services take them as arguments. `write()` is the unit of work at the edge: one serialised
transaction whose log appends are checkpointed with this app's log key at commit.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from flask import Flask, current_app, g, has_request_context
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from exchange import config
from exchange.log import keyring, transaction
from exchange.log.group_commit import GroupCommit
from exchange.log.keyring import ServerKeys
from exchange.log.rotation import KeyDirectory
from exchange.protocol.envelope import Limits
from exchange.services import webhook_secrets
from exchange.services.destinations import DestinationPolicy
from exchange.services.handoffs import Policy
from exchange.storage import database
from exchange.storage.database import Database

_RUNTIME = "exchange.runtime"
_REQUEST_READ = "exchange_request_read"
_log = logging.getLogger(__name__)
Done = TypeVar("Done")
Answer = TypeVar("Answer")
Clock = Callable[[], datetime]


def _system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    database: Database
    key_directory: KeyDirectory
    keys: ServerKeys
    clock: Clock
    # This process's concurrent handoffs, committed together (exchange.log.group_commit).
    committer: GroupCommit = field(init=False)

    def __post_init__(self) -> None:
        # Through self: a key rotation replaces `keys`, and tests replace `clock`.
        self.committer = GroupCommit(self.database, lambda: self.keys.log, lambda: self.clock())


def init_app(app: Flask, clock: Clock | None = None) -> None:
    """Open the database and load the server's keys (creating them on first start)."""
    key_directory = KeyDirectory(
        Path(app.instance_path) / "keys", config.key_passphrase(app.config)
    )
    runtime = Runtime(
        database=database.make_database(
            app.config["DATABASE_URL"],
            app.config["SQLITE_BUSY_TIMEOUT_MS"],
            app.config["SQLITE_MMAP_BYTES"],
        ),
        key_directory=key_directory,
        keys=_load_keys(app, key_directory),
        clock=clock or _system_clock,
    )
    app.extensions[_RUNTIME] = runtime
    app.teardown_request(_close_request_read)


def _load_keys(app: Flask, key_directory: KeyDirectory) -> ServerKeys:
    return keyring.load(key_directory.path, key_directory.passphrase, app.config["LOG_ORIGIN"])


def reload_keys() -> ServerKeys:
    """Load this app's keys from its key directory again, after a rotation replaced them."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runtime = current()
    runtime.keys = _load_keys(app, runtime.key_directory)
    return runtime.keys


def current() -> Runtime:
    runtime: Runtime = current_app.extensions[_RUNTIME]
    return runtime


def get_database() -> Database:
    return current().database


def server_keys() -> ServerKeys:
    return current().keys


def now() -> datetime:
    """The server's time. Tests replace the clock; everything else reads it here."""
    return current().clock()


def write() -> AbstractContextManager[Session]:
    """The unit of work: a serialised transaction, its appends checkpointed at commit."""
    _end_request_read()
    runtime = current()
    return transaction.write(runtime.database, runtime.keys.log)


def write_together(
    work: Callable[[Session, datetime], Done], answer: Callable[[Session, Done], Answer]
) -> Answer:
    """`write()` for a handoff: `work` runs in one transaction with this process's other
    handoffs of the moment, under one clock reading and one checkpoint; `answer` builds the
    response from the sealed batch. Returns once the batch is durable; raises `work`'s own
    error, or the batch's."""
    _end_request_read()
    return current().committer.run(work, answer)


@contextmanager
def read() -> Iterator[Session]:
    """A read transaction. Within a request, the request's own: authentication, and then a
    handoff's check, read in one transaction (one pool checkout, one BEGIN) instead of one
    each. A write of the request ends it (`write`, `write_together`), so that what the
    request reads afterwards includes what it wrote; it is closed when the request ends.
    Outside a request, a transaction of its own."""
    if not has_request_context():
        with database.read(current().database) as session:
            yield session
        return
    shared: Session | None = g.get(_REQUEST_READ)
    if shared is None:
        shared = current().database.reads()
        setattr(g, _REQUEST_READ, shared)
    try:
        yield shared
    except BaseException:
        shared.close()  # as a transaction of its own would: nothing read after an error
        raise


def _end_request_read() -> None:
    """End the request's read transaction, if it has one (the session begins a new one if
    it is read from again)."""
    shared: Session | None = g.get(_REQUEST_READ) if has_request_context() else None
    if shared is not None:
        shared.close()


def _close_request_read(_error: BaseException | None) -> None:
    shared: Session | None = g.pop(_REQUEST_READ, None)
    if shared is None:
        return
    try:
        shared.close()  # read only: nothing to commit, the transaction is rolled back
    except SQLAlchemyError:
        # The request's answer is decided; a connection lost meanwhile is the pool's to
        # replace (pre-ping), and this one is discarded with the session.
        _log.warning("closing a request's read transaction failed", exc_info=True)


def seconds(name: str) -> timedelta:
    return timedelta(seconds=current_app.config[name])


def handoff_policy() -> Policy:
    settings = current_app.config
    return Policy(
        skew=seconds("CLOCK_SKEW_SECONDS"),
        limits=Limits(max_recipients=settings["MAX_RECIPIENTS"]),
        deadlines=config.deadline_table(settings),
    )


def token_endpoint() -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/v1/token"


def destination_policy() -> DestinationPolicy:
    """Where notifications may be sent (exchange.services.destinations)."""
    settings = current_app.config
    return DestinationPolicy.from_settings(
        settings["NOTIFY_ALLOW_HTTP"], settings["NOTIFY_ALLOWED_NETWORKS"]
    )


def secret_sealing_key() -> bytes:
    """The key that seals webhook secrets at rest, derived from the server's passphrase."""
    return webhook_secrets.sealing_key(config.key_passphrase(current_app.config))
