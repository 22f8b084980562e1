"""The SQL a submit costs, statement by statement: a regression check, not a timing.

Issue 15 asks for fewer (one read of what the submit needs, one write transaction); until
then this list is the baseline, so that any statement added to the hot path is a visible,
deliberate change of this test.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from exchange import runtime
from exchange.log import batch
from exchange.storage import database
from exchange.storage.models import Checkpoint
from tests.exchange.api.support import submit
from tests.helpers.world import World


def statement_kind(statement: str) -> str:
    """`BEGIN`, or the verb and the table: `SELECT officials`, `INSERT INTO cases`."""
    words = statement.split()
    if words[0] in ("BEGIN", "COMMIT", "ROLLBACK"):
        return " ".join(words[:2]) if words[1:2] == ["IMMEDIATE"] else words[0]
    if words[0] == "SELECT" and "FROM" not in words:  # a function: the writers' queue
        return words[1].split("(")[0]
    if words[0] == "SELECT":
        return f"SELECT {words[words.index('FROM') + 1]}"
    if words[0] == "INSERT":
        return f"INSERT INTO {words[2]}"
    return f"{words[0]} {words[1]}"


@contextmanager
def recorded_statements(world: World) -> Iterator[list[str]]:
    """The kind of every SQL statement the block makes the app's engine run, in order."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement_kind(" ".join(statement.split())))

    with world.app.app_context():
        engine = runtime.get_database().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _statements_of_a_submit(world: World) -> list[str]:
    officer = world.officials["officer-1"]
    officer.headers()  # signed in beforehand: the token's own statements are not the submit's
    submit(world, officer)  # the first submit warms the process caches
    with recorded_statements(world) as seen:
        submit(world, officer)
    return seen


def test_a_submit_issues_exactly_these_statements(world):
    seen = _statements_of_a_submit(world)
    if not world.app.config["DATABASE_URL"].startswith("sqlite"):
        # PostgreSQL: transactions begin implicitly, and the writer first queues for its
        # turn, then locks (and so reads) the log head.
        lock = EXPECTED.index("BEGIN IMMEDIATE")
        expected = [s for s in EXPECTED[:lock] if s != "BEGIN"]
        expected += ["pg_advisory_xact_lock", "SELECT log_head"]
        expected += [s for s in EXPECTED[lock + 1 :] if s != "SELECT log_head"]
    else:
        expected = EXPECTED
    assert seen == expected


def test_a_batch_after_another_process_checkpoint_reads_no_checkpoint(world):
    """The directory line a batch carries over comes with the log head. With several
    processes writing in turn, the last checkpoint is often another's: this process has
    not seen it, and must neither read it separately nor carry over a wrong line."""
    officer = world.officials["officer-1"]
    officer.headers()
    submit(world, officer)
    with world.app.app_context(), database.read(runtime.get_database()) as session:
        # What this process would know had another process written the last checkpoint.
        database.shared(session).pop(batch._DIRECTORIES)
    with recorded_statements(world) as seen:
        submit(world, officer)
    assert "SELECT checkpoints" not in seen
    assert seen.count("SELECT log_head") == 1
    with world.app.app_context(), database.read(runtime.get_database()) as session:
        notes = session.scalars(select(Checkpoint.note).order_by(Checkpoint.size.desc()).limit(2))
        last, before = (note.split("\n\n")[0].splitlines()[3:] for note in notes)
    assert last == before  # no directory change in between: the same line, carried over
    assert len(last) == 1
    assert last[0].startswith("directory ")


EXPECTED = [
    # authentication: the caller, re-read on every request (official, organisation and key
    # in one statement), in the request's read transaction
    "BEGIN",
    "SELECT officials",
    # the check, outside the write lock and in the same read transaction: the directory's
    # version first, then replay; the sender's key and the new case's addressing are the
    # process's, read at that version by the first submit (below)
    "SELECT directory_version",
    "SELECT handoffs",
    # the write transaction: in one statement, the directory unchanged since the check (so
    # the addressing and the sender's key stand) and the handoff id, case id and reference
    # free; then the state change, its log entry and its checkpoint
    "BEGIN IMMEDIATE",
    "SELECT directory_version",
    "INSERT INTO cases",
    "SELECT log_head",
    "INSERT INTO handoffs",
    "UPDATE inbox_heads",  # every reader's head moved on at once, their seqs returned
    "INSERT INTO inbox_items",
    # the checkpoint: the head, the batch's entries and nodes, the signed checkpoint (the
    # directory line it carries over came with the log head, read above)
    "UPDATE log_head",
    "INSERT INTO log_entries",
    "INSERT INTO log_nodes",
    "INSERT INTO checkpoints",
    # and no more: the receipt is the transaction's own checkpoint and Merkle nodes
]


def test_the_first_submit_at_a_directory_version_reads_the_addressing(world):
    """What a submit reads of the directory (`services.addressing`) is kept per process
    for the directory's version: the next submit reads none of it, until the directory
    changes."""
    officer = world.officials["officer-1"]
    officer.headers()
    submit(world, officer)
    world.deactivate("officer-2")  # any change of the directory moves its version
    with recorded_statements(world) as seen:
        submit(world, officer)
    # The write transaction starts with BEGIN IMMEDIATE on SQLite, and with the writers'
    # queue on PostgreSQL.
    lock = seen.index("BEGIN IMMEDIATE" if "BEGIN IMMEDIATE" in seen else "pg_advisory_xact_lock")
    reads = seen[seen.index("SELECT directory_version") + 1 : lock]
    assert reads == [
        "SELECT handoffs",
        "SELECT official_keys",  # the sender's signing keys
        "SELECT organisations",  # the platform
        "SELECT official_keys",  # its case handlers' encryption keys
        "SELECT routes",
        "SELECT officials",  # whose inbox it reaches
        "SELECT deadline_policies",
        "SELECT subscriptions",
    ]
