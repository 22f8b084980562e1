"""`/v1/orgs/{org_id}/membership`: an organisation's leads sign who belongs to it."""

from typing import Any

from exchange import runtime
from exchange.api import views
from exchange.api.auth import authenticated
from exchange.api.blueprint import BEARER, Blueprint
from exchange.errors import ForbiddenError
from exchange.runtime import now, seconds
from exchange.services import membership, transparency
from exchange.services.caller import Caller
from schemas.api import MembershipChangeSchema, MembershipRequestSchema, MembersSchema

blp = Blueprint("membership", __name__, url_prefix="/v1", description="Membership signed by leads")


@blp.route("/orgs/<string:org_id>/members", methods=["GET"])
@authenticated()
@blp.response(200, MembersSchema)
@blp.problems(401, 403, 404)
@blp.doc(security=BEARER)
def list_members(org_id: str, caller: Caller) -> dict[str, Any]:
    """Every official of your organisation, with invitations still awaiting a lead."""
    if caller.org_id != org_id:
        raise ForbiddenError("only an organisation's own officials list its members")
    with runtime.read() as session:
        return {"members": [views.member(o) for o in membership.members(session, org_id)]}


@blp.route("/orgs/<string:org_id>/membership", methods=["POST"])
@authenticated()
@blp.arguments(MembershipRequestSchema)
@blp.response(201, MembershipChangeSchema)
@blp.problems(400, 401, 403, 404, 409, 413, 415, 422)
@blp.doc(security=BEARER)
def change_membership(body: dict[str, Any], org_id: str, caller: Caller) -> dict[str, Any]:
    """Invite, approve or remove an official, or route a category: signed by a lead.

    The statement says what changes; it is logged verbatim with its signer, once.
    """
    with runtime.write() as session:
        change = membership.apply(
            session,
            now(),
            seconds("CLOCK_SKEW_SECONDS"),
            seconds("ENROLLMENT_CODE_TTL_SECONDS"),
            caller,
            org_id,
            body["statement"],
        )
        member = views.member(change.official)
    with runtime.read() as session:
        receipt = transparency.receipt(session, change.log_index).to_json()
    return {"event": str(change.event), "member": member, "code": change.code, "log": receipt}
