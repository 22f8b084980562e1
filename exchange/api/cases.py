"""Cases and handoffs: submit, continue, list, read."""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from exchange import runtime
from exchange.api import views
from exchange.api.auth import authenticated
from exchange.api.blueprint import BEARER, Blueprint
from exchange.api.documents import EnvelopeDocument
from exchange.protocol.envelope import Envelope
from exchange.runtime import handoff_policy, now
from exchange.services import cases, deliveries, handoffs, transparency
from exchange.services.caller import Caller
from exchange.services.cases import CaseFilters
from schemas.api import (
    AcceptedHandoffSchema,
    CaseDetailSchema,
    CaseListSchema,
    CasesQuerySchema,
)
from schemas.common import parse_utc
from schemas.enums import Role

blp = Blueprint("cases", __name__, url_prefix="/v1", description="Cases and their handoffs")

_HANDLERS = (Role.AGENCY_OFFICER, Role.PLATFORM_OFFICIAL, Role.PLATFORM_LEAD)


def _handed_over(caller: Caller, envelope: Envelope, case_id: str | None) -> dict[str, Any]:
    """Check the handoff in parallel with other requests, then accept it in this process's
    next group commit (`runtime.write_together`): answered once its batch is durable."""
    policy = handoff_policy()
    with runtime.read() as session:
        checked = handoffs.check(session, policy, caller, envelope, case_id)

    def accept(session: Session, moment: datetime) -> handoffs.Accepted:
        return handoffs.accept(session, moment, policy, caller, checked)

    return runtime.write_together(accept, _accepted)


def _accepted(session: Session, result: handoffs.Accepted) -> dict[str, Any]:
    """The answer, with the receipt signed in the same transaction as the handoff."""
    receipt = transparency.sealed_receipt(session, result.handoff.log_index).to_json()
    return {
        "handoff_id": result.handoff.id,
        "case_id": result.handoff.case_id,
        "kind": result.handoff.kind,
        "state": result.handoff.state_after,
        "log": receipt,
    }


@blp.route("/cases", methods=["POST"])
@authenticated(Role.AGENCY_OFFICER)
@blp.arguments(EnvelopeDocument)
@blp.response(201, AcceptedHandoffSchema)
@blp.problems(400, 401, 403, 409, 413, 415, 422)
@blp.doc(security=BEARER)
def submit_case(envelope: Envelope, caller: Caller) -> dict[str, Any]:
    """Submit a new case: an envelope of kind `case`, sealed to the platform's officials.

    Re-posting the same bytes returns the original answer; other content under the same
    handoff_id, case_id or issuer_case_ref is a 409 naming the existing case.
    """
    return _handed_over(caller, envelope, None)


@blp.route("/cases/<string:case_id>/handoffs", methods=["POST"])
@authenticated(*_HANDLERS)
@blp.arguments(EnvelopeDocument)
@blp.response(201, AcceptedHandoffSchema)
@blp.problems(400, 401, 403, 404, 409, 413, 415, 422)
@blp.doc(security=BEARER)
def post_handoff(envelope: Envelope, case_id: str, caller: Caller) -> dict[str, Any]:
    """Continue a case: receipt, response, question, supplement, withdrawal, closure,
    assignment."""
    return _handed_over(caller, envelope, case_id)


@blp.route("/cases", methods=["GET"])
@authenticated()
@blp.arguments(CasesQuerySchema, location="query")
@blp.response(200, CaseListSchema)
@blp.problems(401, 422)
@blp.doc(security=BEARER)
def list_cases(query: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """The cases you may see, oldest change first; follow next_cursor for more."""
    filters = CaseFilters(
        state=query.get("state"),
        category=query.get("category"),
        priority=query.get("priority"),
        overdue=query.get("overdue"),
        updated_since=parse_utc(query["updated_since"]) if "updated_since" in query else None,
    )
    moment = now()
    with runtime.read() as session:
        page, cursor = cases.list_cases(
            session, caller, moment, filters, query["limit"], query.get("cursor")
        )
        return {"cases": [views.case_summary(c, moment) for c in page], "next_cursor": cursor}


@blp.route("/cases/<string:case_id>", methods=["GET"])
@authenticated()
@blp.response(200, CaseDetailSchema)
@blp.problems(401, 404)
@blp.doc(security=BEARER)
def get_case(case_id: str, caller: Caller) -> dict[str, Any]:
    """A case's metadata, state, deadlines and timeline. Fetching its handoffs is on record."""
    moment = now()
    with runtime.read() as session:
        case = cases.get_case(session, caller, case_id)
        timeline = cases.timeline(session, case)
        first = deliveries.first_fetches(session, caller, deliveries.fetches(timeline))
    if first:  # only a first fetch takes the log's write lock, to be recorded
        with runtime.write() as session:
            moved = deliveries.record(session, moment, caller, first)
        deliveries.show_moved([case], moved, moment)
    return {
        **views.case_summary(case, moment),
        "timeline": [views.timeline_entry(h, with_jwe=not caller.is_auditor) for h in timeline],
    }
