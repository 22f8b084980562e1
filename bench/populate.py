"""Fill a database with many realistic cases quickly, for the stored-size benchmarks.

Sealing and posting 10^5 cases through HTTP would take the better part of an hour, so the
rows are written directly: a case, its handoff (the statement and a JWE of the real
size), two inbox items and its log entry through `exchange.log.append.append`, 5,000 cases per
transaction. Tables, indexes and the log then have the size the benchmark is about; the
statements are copies of one real one, which nothing in the submit path reads.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from exchange import log
from exchange.log import transaction
from exchange.log.keyring import LogSigner
from exchange.protocol.events import Event
from exchange.protocol.workflow import State
from exchange.storage import database
from exchange.storage.models import Case, Handoff, InboxHead, InboxItem

BATCH = 5000


def populate(
    db: database.Database,
    signer: LogSigner,
    count: int,
    template: dict[str, Any],
    recipients: list[str],
) -> None:
    """Add `count` submitted cases like `template` (a Handoff row's values) from its sender."""
    now = datetime.now(UTC)
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        with transaction.write(db, signer) as session:
            heads = {
                official: session.get(InboxHead, official)
                or InboxHead(official_id=official, last_seq=0)
                for official in recipients
            }
            for head in heads.values():
                session.add(head)
            cases, handoffs, items = [], [], []
            for _ in range(size):
                case_id, handoff_id = str(uuid.uuid4()), str(uuid.uuid4())
                appended = log.append(
                    session,
                    Event.CASE,
                    now,
                    actor=log.Actor(
                        template["sender_org"], template["sender_official"], template["kid"]
                    ),
                    case_id=case_id,
                    handoff_id=handoff_id,
                    statement=template["statement"],
                    jwe_sha256=template["jwe_sha256"],
                    details={"to": [template["platform"]], "state": "submitted"},
                )
                cases.append(_case(template, case_id, now))
                handoffs.append(
                    {
                        **_handoff(template),
                        "id": handoff_id,
                        "case_id": case_id,
                        "log_index": appended.index,
                        "envelope_sha256": handoff_id[:43].ljust(43, "x"),
                    }
                )
                for official, head in heads.items():
                    head.last_seq += 1
                    items.append(
                        {
                            "official_id": official,
                            "seq": head.last_seq,
                            "handoff_id": handoff_id,
                            "created_at": now,
                        }
                    )
            session.execute(insert(Case), cases)
            session.execute(insert(Handoff), handoffs)
            session.execute(insert(InboxItem), items)
        done += size
    # Statistics, as autovacuum would have them after such a load; without them the
    # PostgreSQL planner takes the 10^5 fresh rows for none and joins them in nested loops.
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def _case(template: dict[str, Any], case_id: str, now: datetime) -> dict[str, Any]:
    return {
        "id": case_id,
        "issuer_org": template["sender_org"],
        "issuer_official": template["sender_official"],
        "issuer_case_ref": f"BULK-{case_id}",
        "platform_org": template["platform"],
        "category": "sexual_deepfake",
        "priority": "urgent",
        "minor_involved": "no",
        "request_type": "removal_order",
        "item_count": 1,
        "state": str(State.SUBMITTED),
        "outcome": None,
        "assignee_id": template["assignee"],
        "submitted_at": now,
        "ack_due_at": now + timedelta(hours=1),
        "action_due_at": now + timedelta(hours=24),
        "acknowledged_at": None,
        "responded_at": None,
        "withdrawn_at": None,
        "closed_at": None,
        "updated_at": now,
    }


def _handoff(template: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "case",
        "sender_org": template["sender_org"],
        "sender_official": template["sender_official"],
        "kid": template["kid"],
        "in_reply_to": None,
        "issued_at": template["issued_at"],
        "received_at": template["issued_at"],
        "statement": template["statement"],
        "jwe": template["jwe"],
        "jwe_sha256": template["jwe_sha256"],
        "record_sha256": template["record_sha256"],
        "state_after": "submitted",
    }


def template_from(db: database.Database, handoff_id: str, assignee: str | None) -> dict[str, Any]:
    """The values of a real, accepted case handoff, to copy."""
    with database.read(db) as session:
        handoff = session.get(Handoff, handoff_id)
        case = session.get(Case, handoff.case_id) if handoff else None
        if handoff is None or case is None:
            raise LookupError(f"no handoff {handoff_id}")
        return {
            "sender_org": handoff.sender_org,
            "sender_official": handoff.sender_official,
            "kid": handoff.kid,
            "statement": handoff.statement,
            "jwe": handoff.jwe,
            "jwe_sha256": handoff.jwe_sha256,
            "record_sha256": handoff.record_sha256,
            "issued_at": handoff.issued_at,
            "platform": case.platform_org,
            "assignee": assignee,
        }


def case_count(db: database.Database) -> int:
    with database.read(db) as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)
