"""Health and readiness (the docs page and `GET /` are `exchange.api.docs_page`)."""

from typing import Any

from flask import Blueprint, Response
from sqlalchemy.exc import SQLAlchemyError

from exchange import runtime
from exchange.api.problems import problem
from exchange.runtime import server_keys
from exchange.services import transparency
from exchange.storage import database, migrate
from exchange.storage.database import Database

blp = Blueprint("meta", __name__)


@blp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@blp.get("/readyz")
def readyz() -> Response | dict[str, Any]:
    """The database answers, its schema is current, and this process signs with the log's key.

    The last check catches an instance left running with the old key after
    `admin rotate-log-key` elsewhere: the newest checkpoint is then signed by a key this
    process does not know, and its checkpoints would not follow the log's key chain.
    """
    db = runtime.get_database()
    keys = server_keys()
    try:
        database.ping(db)
        current = migrate.current_revision(db.engine)
        signer = _newest_checkpoint_key(db) if current else None
    except SQLAlchemyError:
        return _not_ready("the database is unreachable", retry_after=5)
    head = migrate.head_revision(db.engine)
    if current != head:
        return _not_ready(f"schema at {current}, code needs {head}", retry_after=30)
    if signer is not None and signer not in keys.log_verifier_keys:
        return _not_ready(
            "the log's newest checkpoint is signed by a key this process does not hold: "
            "the log key was rotated; restart with the new server keys",
            retry_after=30,
        )
    return {"status": "ready", "schema": str(current), "log_key": keys.log.verifier_key}


def _newest_checkpoint_key(db: Database) -> str | None:
    with database.read(db) as session:
        newest = transparency.latest_checkpoint(session)
        return newest.key_name if newest else None


def _not_ready(detail: str, retry_after: int) -> Response:
    return problem(503, "not-ready", "Not ready", detail, headers={"Retry-After": str(retry_after)})
