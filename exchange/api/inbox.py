"""`GET /v1/inbox`: the handoffs addressed to you, in order, without gaps."""

from typing import Any

from flask import Response

from exchange import runtime
from exchange.api import views
from exchange.api.auth import authenticated
from exchange.api.blueprint import BEARER, Blueprint
from exchange.api.stored_json import json_response, stored
from exchange.runtime import now
from exchange.services import deliveries, inbox
from exchange.services.caller import Caller
from schemas.api import InboxPageSchema, InboxQuerySchema
from schemas.enums import Role

blp = Blueprint("inbox", __name__, url_prefix="/v1", description="Your inbox")


@blp.route("/inbox", methods=["GET"])
@authenticated(Role.AGENCY_OFFICER, Role.PLATFORM_OFFICIAL, Role.PLATFORM_LEAD)
@blp.arguments(InboxQuerySchema, location="query")
@blp.response(200, InboxPageSchema)
@blp.problems(401, 403, 422)
@blp.doc(security=BEARER)
def read_inbox(query: dict[str, Any], caller: Caller) -> Response:
    """Handoffs with seq > after. Each first fetch is logged as a delivery."""
    moment = now()
    with runtime.read() as session:
        rows = inbox.page(session, caller, query["after"], query["limit"])
        last_seq = inbox.last_seq(session, caller.official_id)
        first = deliveries.first_fetches(
            session, caller, deliveries.fetches(handoff for _, handoff, _ in rows)
        )
    # The page is read, and answered, outside the log's write lock: only first fetches
    # take it, to be recorded.
    if first:
        with runtime.write() as session:
            moved = deliveries.record(session, moment, caller, first)
        deliveries.show_moved((case for _, _, case in rows), moved, moment)
    return json_response(
        {
            "items": [
                {
                    "seq": seq,
                    "case": views.case_summary(case, moment),
                    "handoff": {
                        **views.timeline_entry(handoff, with_jwe=False),
                        "jwe": stored(handoff.jwe),
                    },
                }
                for seq, handoff, case in rows
            ],
            "last_seq": last_seq,
        }
    )
