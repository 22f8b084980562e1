"""The SQL an inbox pull costs does not grow with the page: a regression check, not a timing.

A pull reads the page in one query and logs each first fetch as a `delivered` entry; those
entries are appended as one batch (one statement per table), so a page of 2 and a page of
6 new handoffs cost the same statements.
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


def test_a_pull_costs_the_same_statements_for_any_page(world):
    small = _statements_of_a_pull(world, 2)
    large = _statements_of_a_pull(world, 6)
    assert small == large
    expected = [
        # authentication: the caller (one statement: official, organisation and key)
        "BEGIN",
        "SELECT officials",
        # the pull: the page, which of it is new, and the deliveries as one batch
        "BEGIN IMMEDIATE",
        "SELECT inbox_items",
        "SELECT deliveries",
        "SELECT log_head",
        "UPDATE cases",
        "INSERT INTO deliveries",
        "SELECT inbox_heads",
        # the checkpoint: the head, the batch's entries and nodes, the signed checkpoint
        # (the directory line carried over from this process's last checkpoint)
        "UPDATE log_head",
        "INSERT INTO log_entries",
        "INSERT INTO log_nodes",
        "INSERT INTO checkpoints",
    ]
    if not world.app.config["DATABASE_URL"].startswith("sqlite"):
        # PostgreSQL: transactions begin implicitly, and the writer first queues for its
        # turn, then locks (and so reads) the log head.
        expected = [s for s in expected if not s.startswith("BEGIN") and s != "SELECT log_head"]
        expected[1:1] = ["pg_advisory_xact_lock", "SELECT log_head"]
    assert small == expected
