"""The directory: whom a case goes to, and which keys to encrypt to."""

from typing import Any

from exchange import runtime
from exchange.api import views
from exchange.api.auth import authenticated
from exchange.api.blueprint import BEARER, Blueprint
from exchange.services import directory
from exchange.services.caller import Caller
from schemas.api import (
    DirectoryKeysQuerySchema,
    DirectoryKeysSchema,
    OfficialsSchema,
    OrganisationSchema,
    OrganisationsSchema,
)

blp = Blueprint("directory", __name__, url_prefix="/v1", description="Organisations and keys")


@blp.route("/orgs", methods=["GET"])
@authenticated()
@blp.response(200, OrganisationsSchema)
@blp.problems(401)
@blp.doc(security=BEARER)
def list_organisations(caller: Caller) -> dict[str, Any]:
    """Every organisation on the exchange."""
    with runtime.read() as session:
        return {"organisations": [views.organisation(o) for o in directory.organisations(session)]}


@blp.route("/orgs/<string:org_id>", methods=["GET"])
@authenticated()
@blp.response(200, OrganisationSchema)
@blp.problems(401, 404)
@blp.doc(security=BEARER)
def get_organisation(org_id: str, caller: Caller) -> dict[str, Any]:
    """One organisation: its kind (agency, platform or auditor), name and whether active."""
    with runtime.read() as session:
        return views.organisation(directory.organisation(session, org_id))


@blp.route("/orgs/<string:org_id>/officials", methods=["GET"])
@authenticated()
@blp.response(200, OfficialsSchema)
@blp.problems(401, 404)
@blp.doc(security=BEARER)
def list_officials(org_id: str, caller: Caller) -> dict[str, Any]:
    """The organisation's designated contacts: roles, categories, languages, contact."""
    with runtime.read() as session:
        return {"officials": [views.official(o) for o in directory.officials(session, org_id)]}


@blp.route("/orgs/<string:org_id>/keys", methods=["GET"])
@authenticated()
@blp.arguments(DirectoryKeysQuerySchema, location="query")
@blp.response(200, DirectoryKeysSchema)
@blp.problems(401, 404, 422)
@blp.doc(security=BEARER)
def list_keys(query: dict[str, Any], org_id: str, caller: Caller) -> dict[str, Any]:
    """The JWKS of the organisation's active keys, each naming its official and log index.

    `status=all` adds retired keys, to verify statements signed before a rotation.
    """
    with runtime.read() as session:
        directory.organisation(session, org_id)
        keys = directory.active_keys(session, org_id, with_retired=query["status"] == "all")
        return {"keys": [views.directory_key(key, owner) for key, owner in keys]}
