"""Reading the directory: organisations, their designated officials, and their keys."""

from collections.abc import Iterable, Sequence
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import ColumnElement, and_, bindparam, select
from sqlalchemy.orm import Session

from exchange.errors import NotFoundError
from exchange.protocol.case_handlers import HANDLER_ROLES
from exchange.protocol.key_usage import LISTED_STATUSES, KeyPurpose, rule, usable
from exchange.services.caller import Caller
from exchange.storage.models import Official, OfficialKey, Organisation, table
from keys import load_public_jwk
from schemas.enums import KeyStatus


def _usable(purpose: KeyPurpose) -> ColumnElement[bool]:
    """`key_usage.usable` as a query condition on official_keys."""
    accepted = rule(purpose)
    return and_(OfficialKey.use == accepted.use, OfficialKey.status.in_(sorted(accepted.statuses)))


_OFFICIALS, _ORGANISATIONS, _KEYS = table(Official), table(Organisation), table(OfficialKey)
# Every request reads it: built once, in one statement (the official, their organisation
# and the key the token names), and as plain columns rather than three ORM objects.
_CALLER: Final = (
    select(
        _OFFICIALS.c.active,
        _OFFICIALS.c.approved,
        _OFFICIALS.c.role,
        _ORGANISATIONS.c.id.label("org_id"),
        _ORGANISATIONS.c.kind,
        _ORGANISATIONS.c.active.label("org_active"),
        _KEYS.c.use,
        _KEYS.c.status,
    )
    .join(_ORGANISATIONS, _ORGANISATIONS.c.id == _OFFICIALS.c.org_id)
    .outerjoin(_KEYS, (_KEYS.c.kid == bindparam("kid")) & (_KEYS.c.official_id == _OFFICIALS.c.id))
    .where(_OFFICIALS.c.id == bindparam("official_id"))
)


def active_caller(session: Session, official_id: str, kid: str | None) -> Caller | None:
    """The caller behind a token, or None if the official, their org or key is inactive."""
    if not kid:
        return None
    row = session.execute(_CALLER, {"official_id": official_id, "kid": kid}).first()
    if row is None:
        return None
    if not (row.active and row.approved and row.org_active):
        return None
    if row.use is None or not usable(row.use, row.status, KeyPurpose.SIGN):
        return None
    return Caller(official_id, row.org_id, row.kind, row.role, kid)


def organisations(session: Session) -> Sequence[Organisation]:
    return session.scalars(select(Organisation).order_by(Organisation.id)).all()


def organisation(session: Session, org_id: str) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFoundError(f"no organisation {org_id}")
    return org


def officials(session: Session, org_id: str, *, active_only: bool = True) -> Sequence[Official]:
    organisation(session, org_id)
    query = select(Official).where(Official.org_id == org_id).order_by(Official.id)
    if active_only:
        query = query.where(Official.active.is_(True))
    return session.scalars(query).all()


def active_keys(
    session: Session,
    org_id: str,
    roles: Iterable[str] | None = None,
    *,
    with_retired: bool = False,
) -> Sequence[tuple[OfficialKey, Official]]:
    """The active keys of an organisation's active officials (optionally of some roles).

    `with_retired` adds keys replaced by a rotation: they no longer sign or receive, but
    still verify what they signed while active. Revoked keys are never listed.
    """
    statuses = LISTED_STATUSES if with_retired else {KeyStatus.ACTIVE}
    query = (
        select(OfficialKey, Official)
        .join(Official, Official.id == OfficialKey.official_id)
        .where(
            Official.org_id == org_id,
            Official.active.is_(True),
            Official.approved.is_(True),
            OfficialKey.status.in_(sorted(statuses)),
        )
        .order_by(Official.id, OfficialKey.registered_log_index, OfficialKey.use)
    )
    if roles is not None:
        query = query.where(Official.role.in_(list(roles)))
    return [(key, official) for key, official in session.execute(query)]


def case_handling_encryption_kids(session: Session, *org_ids: str) -> dict[str, set[str]]:
    """The active encryption keys of each organisation's case handlers, in one query.

    A case handler is an active official with a handling role whom a current lead of the
    organisation approved (`services.membership`): the operator alone adds nobody.

    A sealed record for an organisation must be readable by every one of them. The roles
    that handle cases differ by kind of organisation, but each belongs to one kind only.
    """
    rows = session.execute(
        select(Official.org_id, OfficialKey.kid)
        .join(Official, Official.id == OfficialKey.official_id)
        .where(
            Official.org_id.in_(org_ids),
            Official.active.is_(True),
            Official.approved.is_(True),  # by a current lead of their organisation
            Official.role.in_(sorted(HANDLER_ROLES)),
            _usable(KeyPurpose.RECEIVE),
        )
    )
    found: dict[str, set[str]] = {org_id: set() for org_id in org_ids}
    for org_id, kid in rows:
        found[org_id].add(kid)
    return found


def unapproved_kids(session: Session, kids: Iterable[str]) -> list[str]:
    """Of these kids, the encryption keys of officials still awaiting a lead's approval."""
    return sorted(
        session.scalars(
            select(OfficialKey.kid)
            .join(Official, Official.id == OfficialKey.official_id)
            .where(OfficialKey.kid.in_(list(kids)), Official.approved.is_(False))
        )
    )


def signing_keys(session: Session, official_id: str) -> dict[str, Ed25519PublicKey]:
    """An official's active signing keys, by kid."""
    rows = session.scalars(
        select(OfficialKey).where(OfficialKey.official_id == official_id, _usable(KeyPurpose.SIGN))
    )
    keys: dict[str, Ed25519PublicKey] = {}
    for row in rows:
        key = load_public_jwk(row.jwk, use="sig")
        if isinstance(key, Ed25519PublicKey):
            keys[row.kid] = key
    return keys
