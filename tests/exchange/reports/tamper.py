"""Editing the log's table behind the application's back, as someone with database access
could: the append-only triggers are bypassed (dropped on SQLite, disabled for the session
by a superuser on PostgreSQL)."""

from __future__ import annotations

import re

from sqlalchemy import create_engine, text


def rewrite_leaf(database_url: str, index: int, old: str, new: str) -> None:
    """Replace `old` by `new` in entry `index`'s stored leaf, triggers notwithstanding."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                triggers = connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                ).all()
                for name, _ in triggers:
                    assert re.fullmatch(r"[a-z_]+", name)
                    connection.execute(text(f"DROP TRIGGER {name}"))
            else:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                triggers = []
            leaf = connection.scalar(
                text('SELECT leaf FROM log_entries WHERE "index" = :i'), {"i": index}
            )
            assert old in leaf
            connection.execute(
                text('UPDATE log_entries SET leaf = :leaf WHERE "index" = :i'),
                {"leaf": leaf.replace(old, new, 1), "i": index},
            )
            for _, sql in triggers:
                connection.execute(text(sql))
    finally:
        engine.dispose()
