"""Membership statements: a lead of an organisation signing who belongs to it.

Each is the RFC 8785 JSON payload of a compact JWS with the key statements' header typ
(`hotline-keys+jws`, see `schemas.keys`) and its own payload `typ`, signed by a current
lead of the organisation and logged verbatim. Nobody becomes a recipient of an
organisation's cases, takes a handling role or categories, or gets routed cases, without
one; the operator only bootstraps the first lead, and replaces all leads only after a waiting
period in which a lead can object.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from marshmallow import ValidationError, validates_schema

from schemas.common import (
    Bool,
    BoundedList,
    Choice,
    Const,
    OfficialId,
    OrgId,
    StrictSchema,
    Text,
    UtcTimestamp,
    Uuid,
    parse_utc,
)
from schemas.enums import Category, Role

MEMBERSHIP_TYP = "hotline.membership/v1"


class MembershipAction(StrEnum):
    INVITE = "invite"  # create (or re-invite) an official, approved; returns a code
    APPROVE = "approve"  # approve an operator's invitation, or change role, categories, lead
    REMOVE = "remove"  # deactivate an official
    ROUTE = "route"  # new cases of `category` go to `official`
    OBJECT = "object"  # cancel the operator's pending replacement of all leads


# What each action must and must not name, beyond typ, statement_id, action, org, issued_at.
_REQUIRED: dict[str, frozenset[str]] = {
    MembershipAction.INVITE: frozenset({"official", "role", "categories", "lead"}),
    MembershipAction.APPROVE: frozenset({"official", "role", "categories", "lead"}),
    MembershipAction.REMOVE: frozenset({"official"}),
    MembershipAction.ROUTE: frozenset({"official", "category"}),
    MembershipAction.OBJECT: frozenset({"replacement"}),
}
_OPTIONAL = frozenset(
    {"official", "role", "categories", "lead", "category", "title", "replacement"}
)


class MembershipSchema(StrictSchema):
    typ = Const(MEMBERSHIP_TYP, required=True)
    statement_id = Uuid(required=True)
    action = Choice(MembershipAction, required=True)
    org = OrgId(required=True)
    official = OfficialId()
    role = Choice(Role)
    categories = BoundedList(Choice(Category), max_length=len(Category), unique=True)
    lead = Bool()
    category = Choice(Category)
    replacement = Uuid()  # the pending lead replacement an `object` cancels
    title = Text(min_length=0, max_length=200)
    issued_at = UtcTimestamp(required=True)

    @validates_schema
    def _fits_action(self, data: dict[str, Any], **kwargs: object) -> None:
        required = _REQUIRED[data["action"]]
        missing = sorted(name for name in required if name not in data)
        extra = sorted(name for name in _OPTIONAL - required if name in data)
        if data["action"] == MembershipAction.INVITE:
            extra = [name for name in extra if name != "title"]
        errors = {name: ["Missing data for required field."] for name in missing}
        errors |= {name: [f"Not allowed in a {data['action']} statement."] for name in extra}
        if errors:
            raise ValidationError(errors)


@dataclass(frozen=True, slots=True)
class Membership:
    statement_id: str
    action: MembershipAction
    org: str
    issued_at: datetime
    official: str | None = None
    role: str | None = None
    categories: tuple[str, ...] = ()
    lead: bool = False
    category: str | None = None
    replacement: str | None = None
    title: str = ""


_MEMBERSHIP = MembershipSchema()


def load_membership(document: Mapping[str, Any]) -> Membership:
    """Validate a membership statement's payload once; typed, or ValidationError."""
    data = _MEMBERSHIP.load(document)
    return Membership(
        statement_id=data["statement_id"],
        action=MembershipAction(data["action"]),
        org=data["org"],
        issued_at=parse_utc(data["issued_at"]),
        official=data.get("official"),
        role=data.get("role"),
        categories=tuple(sorted(data.get("categories", ()))),
        lead=data.get("lead", False),
        category=data.get("category"),
        replacement=data.get("replacement"),
        title=data.get("title", ""),
    )
