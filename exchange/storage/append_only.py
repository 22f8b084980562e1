"""The log tables are append-only, enforced in the ORM here and by database triggers.

The triggers (created by the migrations) stop anyone with SQL access; these listeners stop
the application's own code first, with a clear error, including bulk UPDATE/DELETE
statements that never load an object. `exchange.storage.database` installs them on every
session factory it makes, so every session of the running server is guarded.
"""

from typing import Any

from sqlalchemy import Delete, Update, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker

from exchange.storage.models import APPEND_ONLY_TABLES


class AppendOnlyError(RuntimeError):
    """Code tried to change or delete a log row."""


def _table_of(instance: object) -> str | None:
    table = getattr(instance, "__tablename__", None)
    return table if isinstance(table, str) else None


def _refuse_changes(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    for instance in session.deleted:
        if _table_of(instance) in APPEND_ONLY_TABLES:
            raise AppendOnlyError(f"{_table_of(instance)} rows are never deleted")
    for instance in session.dirty:
        if _table_of(instance) in APPEND_ONLY_TABLES and session.is_modified(instance):
            raise AppendOnlyError(f"{_table_of(instance)} rows are never updated")


def _refuse_bulk(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, Update | Delete):
        table = getattr(statement.table, "name", None)
        if table in APPEND_ONLY_TABLES:
            raise AppendOnlyError(f"{table} rows are never updated or deleted")


def guard(factory: sessionmaker[Session]) -> None:
    """Refuse, in every session `factory` makes, any change to a log row."""
    event.listen(factory, "before_flush", _refuse_changes)
    event.listen(factory, "do_orm_execute", _refuse_bulk)
