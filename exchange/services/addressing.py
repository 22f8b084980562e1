"""What the directory says of a handoff: its platform, its readers' keys, who is told.

A new case's addressing (the platform, its case handlers' keys, the route, the deadline
policy, whose inbox it reaches, which notification targets hear of it) is read before the
handoff waits for the log's write lock, in parallel with other requests, together with
the directory's version (migration 0007). Under the lock, one read of that version tells
whether the directory changed since: if not, the addressing stands; if so, it is read
again there. The lock is held only for what must be serialised.
"""

from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.errors import (
    ExchangeError,
    MissingRecipientKeysError,
    RecipientUnreachableError,
    UnapprovedRecipientKeysError,
    UnexpectedRecipientKeysError,
    WrongAddresseeError,
)
from exchange.protocol.deadline_policy import CaseFacts, DeadlinePolicy, LegalBasis
from exchange.protocol.envelope import Envelope, VerifiedStatement
from exchange.services import directory, inbox, notifications, policies
from exchange.services.caller import Caller
from exchange.services.notifications import Target
from exchange.storage.models import DirectoryVersion, Organisation, Route
from schemas.enums import OrgKind
from schemas.statement import CaseMeta

_ROW: Final = 1


def directory_version(session: Session) -> int:
    """The directory's version now: it moves with every change of a directory table."""
    version = session.scalar(select(DirectoryVersion.version).where(DirectoryVersion.id == _ROW))
    if version is None:
        raise LookupError("the directory version row is missing: run the migrations")
    return version


@dataclass(frozen=True)
class Opening:
    """A new case's addressing, as the directory stood at `version`.

    `refusal` is the error the case meets in the directory (misaddressed, or sealed to the
    wrong keys); it is raised where the handoff's checks reach it, after the checks that
    come first (a re-post, a taken id).
    """

    version: int
    refusal: ExchangeError | None = None
    platform_id: str = ""
    assignee_id: str | None = None
    policy: DeadlinePolicy | None = None
    inbox: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()


def opening(
    session: Session,
    version: int,
    fallback: DeadlinePolicy,
    caller: Caller,
    envelope: Envelope,
    statement: VerifiedStatement,
) -> Opening:
    """Address a new case in `session`, whose directory is at `version`."""
    signed = statement.statement
    meta = signed.meta_as(CaseMeta)
    try:
        platform = addressed_platform(session, signed.to)
        check_recipients(session, envelope, recipient=platform, sender_org_id=caller.org_id)
    except (
        WrongAddresseeError,
        RecipientUnreachableError,
        MissingRecipientKeysError,
        UnapprovedRecipientKeysError,
        UnexpectedRecipientKeysError,
    ) as refusal:
        return Opening(version, refusal)
    route = session.get(Route, (platform.id, meta.category))
    assignee = route.official_id if route else None
    facts = CaseFacts(
        meta.category, meta.priority, tuple(LegalBasis(*basis) for basis in meta.legal_basis)
    )
    readers = sorted(
        official
        for official in inbox.platform_handlers(session, platform.id, assignee)
        if official != caller.official_id
    )
    return Opening(
        version,
        platform_id=platform.id,
        assignee_id=assignee,
        policy=policies.for_case(session, facts, fallback),
        inbox=tuple(readers),
        # A case goes to the platform: its organisation-wide targets hear of it too.
        targets=tuple(notifications.targets(session, readers, platform.id)),
    )


def addressed_platform(session: Session, to: tuple[str, ...] | list[str]) -> Organisation:
    platform = session.get(Organisation, to[0]) if len(to) == 1 else None
    if platform is None or platform.kind != OrgKind.PLATFORM or not platform.active:
        raise WrongAddresseeError("a case is addressed to exactly one active platform")
    return platform


def check_recipients(
    session: Session, envelope: Envelope, recipient: Organisation, sender_org_id: str
) -> None:
    """The JWE must reach every case handler of the recipient, and nobody outside the case."""
    if envelope.jwe is None:
        return
    kids = {entry["header"]["kid"] for entry in envelope.jwe["recipients"]}
    handlers = directory.case_handling_encryption_kids(session, recipient.id, sender_org_id)
    required = handlers[recipient.id]
    if not required:
        raise RecipientUnreachableError(f"{recipient.id} has no enrolled case handler yet")
    missing = sorted(required - kids)
    if missing:
        raise MissingRecipientKeysError(
            f"encrypt to every active key of {recipient.id}'s case handlers",
            missing_kids=missing,
        )
    unexpected = sorted(kids - required - handlers[sender_org_id])
    unapproved = directory.unapproved_kids(session, unexpected) if unexpected else []
    if unapproved:
        raise UnapprovedRecipientKeysError(
            "encrypt only to officials their organisation's leads approved",
            unapproved_kids=unapproved,
        )
    if unexpected:
        raise UnexpectedRecipientKeysError(
            "encrypt only to the officials of the two organisations of the case",
            unexpected_kids=unexpected,
        )
