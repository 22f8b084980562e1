"""What every adversarial test asserts besides the answer: that nothing was stored or logged.

`unchanged(world)` snapshots every row of every table (the log and its checkpoints, cases,
handoffs, inbox items and heads, deliveries, keys, used client assertions, ...) and
asserts, when the block ends, that the database holds exactly the same rows. A refused
request must leave no trace at all, not merely no new log entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from exchange import runtime
from exchange.storage.models import Base
from tests.helpers.world import World


def snapshot(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in a stable order, read in one transaction."""
    with world.app.app_context(), runtime.read() as session:
        return {
            table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


@contextmanager
def unchanged(world: World) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """Assert that the block changes nothing in the database (log, cases, inboxes, keys)."""
    before = snapshot(world)
    yield before
    after = snapshot(world)
    changed = {
        name: (len(before[name]), len(after[name]))
        for name in before
        if before[name] != after[name]
    }
    assert not changed, f"tables changed (rows before, after): {changed}"
    assert world.log_size() == len(before["log_entries"])


def signed_in(world: World) -> World:
    """Every official holds a token already: logging in is a write (the assertion's jti)."""
    for person in world.officials.values():
        if person.active:
            person.headers()
    return world
