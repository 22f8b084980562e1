"""The SQL an inbox pull costs does not grow with the page: a regression check, not a timing.

A pull reads the page in one query, in the request's read transaction, and only then, if
the page holds first fetches, takes the log's write lock to log each as a `delivered`
entry; those entries are appended as one batch (one statement per table), so a page of 2
and a page of 6 new handoffs cost the same statements. A pull with nothing new is a read.
"""

from tests.exchange.api.support import submit
from tests.exchange.api.test_submit_statements import recorded_statements
from tests.helpers.world import World


def _statements_of_a_pull(world: World, new_cases: int) -> list[str]:
    officer, lead = world.officials["officer-1"], world.officials["cs-lead"]
    lead.headers()
    lead.get("/v1/inbox")  # signed in, caches warm, nothing new left to deliver
    for _ in range(new_cases):
        submit(world, officer)
    with recorded_statements(world) as seen:
        response = lead.get("/v1/inbox?after=0&limit=100")
    assert response.status_code == 200
    return seen


READ = [
    # authentication: the caller (one statement: official, organisation and key)
    "BEGIN",
    "SELECT officials",
    # the page, in the same read transaction: its items, the inbox head, which are new
    "SELECT inbox_items",
    "SELECT inbox_heads",
    "SELECT deliveries",
]
RECORD = [
    # under the log's write lock, only the first fetches: which are still new, the states
    # of their cases, and the deliveries as one batch
    "BEGIN IMMEDIATE",
    "SELECT deliveries",
    "SELECT cases",
    "SELECT log_head",
    "UPDATE cases",
    "INSERT INTO deliveries",
    # the checkpoint: the head, the batch's entries and nodes, the signed checkpoint
    # (the directory line carried over from this process's last checkpoint)
    "UPDATE log_head",
    "INSERT INTO log_entries",
    "INSERT INTO log_nodes",
    "INSERT INTO checkpoints",
]


def _on_this_database(world: World, read: list[str], record: list[str]) -> list[str]:
    if world.app.config["DATABASE_URL"].startswith("sqlite"):
        return read + record
    # PostgreSQL: transactions begin implicitly, and the writer first queues for its turn,
    # then locks (and so reads) the log head.
    locked = ["pg_advisory_xact_lock", "SELECT log_head"] if record else []
    return (
        [s for s in read if s != "BEGIN"]
        + locked
        + [s for s in record if s not in ("BEGIN IMMEDIATE", "SELECT log_head")]
    )


def test_a_pull_costs_the_same_statements_for_any_page(world):
    small = _statements_of_a_pull(world, 2)
    large = _statements_of_a_pull(world, 6)
    assert small == large == _on_this_database(world, READ, RECORD)


def test_a_pull_with_nothing_new_is_a_read(world):
    lead = world.officials["cs-lead"]
    _statements_of_a_pull(world, 1)
    with recorded_statements(world) as seen:
        assert lead.get("/v1/inbox?after=0&limit=100").status_code == 200
    assert seen == _on_this_database(world, READ, [])
