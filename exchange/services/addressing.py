"""What the directory says of a handoff: its platform, its readers' keys, who is told.

A new case's addressing (the platform, its case handlers' keys, the route, the deadline
policy, whose inbox it reaches, which notification targets hear of it) is read before the
handoff waits for the log's write lock, in parallel with other requests, together with
the directory's version (migration 0007). Under the lock, one read of that version tells
whether the directory changed since: if not, the addressing stands; if so, it is read
again there. The lock is held only for what must be serialised.
"""

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
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
from exchange.protocol.deadline_policy import CaseFacts, DeadlinePolicy, LegalBasis, resolve
from exchange.protocol.envelope import Envelope, VerifiedStatement
from exchange.services import directory, inbox, notifications, policies
from exchange.services.caller import Caller
from exchange.services.notifications import Target
from exchange.storage import database
from exchange.storage.models import DirectoryVersion, Organisation, Route, table
from schemas.enums import OrgKind
from schemas.statement import CaseMeta

_ROW: Final = 1
_FACTS: Final = "exchange.services.addressing.facts"
T = TypeVar("T")
# Built once: every submit reads it twice, and building a statement costs several times
# what running it does.
VERSION: Final = select(table(DirectoryVersion).c.version).where(
    table(DirectoryVersion).c.id == _ROW
)


def directory_version(session: Session) -> int:
    """The directory's version now: it moves with every change of a directory table."""
    version: int | None = session.scalar(VERSION)
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


class DirectoryFacts:
    """What addressing reads of the directory, kept per process for one directory version.

    Every entry was read at the version it is kept under, and all are dropped as soon as a
    request sees another version. A request reads the version first; under the write
    lock, the handoff compares it again, so a fact that is stale by then is never used.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._version: int | None = None
        self._facts: dict[tuple[Hashable, ...], Any] = {}
        self._lock = threading.Lock()

    def fact(self, version: int, key: tuple[Hashable, ...], read: Callable[[], T]) -> T:
        with self._lock:
            if version == self._version and key in self._facts:
                found: T = self._facts[key]
                return found
        value = read()
        with self._lock:
            if version != self._version:
                self._version, self._facts = version, {}
            if len(self._facts) < self.capacity:
                self._facts[key] = value
        return value


def directory_facts(session: Session) -> DirectoryFacts:
    """The process's directory facts of the session's database."""
    facts: DirectoryFacts = database.shared(session).setdefault(_FACTS, DirectoryFacts())
    return facts


def signing_keys(session: Session, version: int, official_id: str) -> dict[str, Ed25519PublicKey]:
    """`directory.signing_keys` of an official, as of directory `version`."""
    return directory_facts(session).fact(
        version, ("signing_keys", official_id), lambda: directory.signing_keys(session, official_id)
    )


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
    known = directory_facts(session)

    def fact(key: tuple[Hashable, ...], read: Callable[[], T]) -> T:
        return known.fact(version, key, read)

    platform = fact(("platform", tuple(signed.to)), lambda: _platform(session, signed.to))
    if platform is None:
        return Opening(
            version, WrongAddresseeError("a case is addressed to exactly one active platform")
        )
    handlers = fact(
        ("handler_kids", platform, caller.org_id),
        lambda: directory.case_handling_encryption_kids(session, platform, caller.org_id),
    )
    try:
        check_recipients(session, envelope, platform, caller.org_id, handlers)
    except (
        RecipientUnreachableError,
        MissingRecipientKeysError,
        UnapprovedRecipientKeysError,
        UnexpectedRecipientKeysError,
    ) as refusal:
        return Opening(version, refusal)
    assignee = fact(
        ("route", platform, meta.category), lambda: _route(session, platform, meta.category)
    )
    readers = fact(
        ("readers", platform, assignee, caller.official_id),
        lambda: tuple(
            sorted(
                official
                for official in inbox.platform_handlers(session, platform, assignee)
                if official != caller.official_id
            )
        ),
    )
    facts = CaseFacts(
        meta.category, meta.priority, tuple(LegalBasis(*basis) for basis in meta.legal_basis)
    )
    return Opening(
        version,
        platform_id=platform,
        assignee_id=assignee,
        policy=resolve(fact(("policies",), lambda: policies.in_force(session)), facts, fallback),
        inbox=readers,
        # A case goes to the platform: its organisation-wide targets hear of it too.
        targets=fact(
            ("targets", readers, platform),
            lambda: tuple(notifications.targets(session, readers, platform)),
        ),
    )


def _platform(session: Session, to: Sequence[str]) -> str | None:
    """The one active platform a case is addressed to, or None."""
    platform = session.get(Organisation, to[0]) if len(to) == 1 else None
    if platform is None or platform.kind != OrgKind.PLATFORM or not platform.active:
        return None
    return platform.id


def _route(session: Session, platform: str, category: str) -> str | None:
    route = session.get(Route, (platform, category))
    return route.official_id if route else None


def check_recipients(
    session: Session,
    envelope: Envelope,
    recipient: str,
    sender_org_id: str,
    handlers: Mapping[str, set[str]] | None = None,
) -> None:
    """The JWE must reach every case handler of the recipient, and nobody outside the case.

    `handlers`: the two organisations' case handlers' keys, if already read."""
    if envelope.jwe is None:
        return
    kids = {entry["header"]["kid"] for entry in envelope.jwe["recipients"]}
    if handlers is None:
        handlers = directory.case_handling_encryption_kids(session, recipient, sender_org_id)
    required = handlers[recipient]
    if not required:
        raise RecipientUnreachableError(f"{recipient} has no enrolled case handler yet")
    missing = sorted(required - kids)
    if missing:
        raise MissingRecipientKeysError(
            f"encrypt to every active key of {recipient}'s case handlers",
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
