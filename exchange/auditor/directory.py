"""Who held which key at every index, replayed from the log's own directory events.

Organisations and officials come from the operator's events; keys from the officials'
enrollment, rotation and revocation statements, each verified as the server verified it
(`exchange.protocol.key_management.verify`). A statement later in the log is then checked against
the keys valid for its actor at that index, never against today's directory.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.auditor import membership
from exchange.auditor.entries import Actor, Entry
from exchange.auditor.errors import (
    DirectoryEventError,
    KeyEventError,
    MembershipEventError,
    SignerKeyError,
)
from exchange.protocol import key_management
from exchange.protocol.case_handlers import HANDLER_ROLES
from exchange.protocol.envelope.errors import EnvelopeError
from exchange.protocol.events import Event
from exchange.protocol.handover import Handover, HandoverError, verify_handover
from exchange.protocol.key_usage import KeyPurpose, usable
from keys import InvalidJWKError, load_public_jwk
from schemas.enums import KeyStatus, OrgKind
from schemas.keys import (
    Enrollment,
    Rotation,
    load_enrollment,
    load_revocation,
    load_rotation,
)
from schemas.subscriptions import (
    Subscription,
    SubscriptionRemoval,
    load_subscription,
    load_subscription_removal,
)

T = TypeVar("T")


@dataclass(slots=True)
class KeyRecord:
    kid: str
    official: str
    use: str
    public: Ed25519PublicKey | None  # signing keys only
    status: KeyStatus = KeyStatus.ACTIVE
    since: int = 0
    until: int | None = None
    jwk: dict[str, Any] | None = None  # the public JWK as the log registered it

    def active_at(self, index: int) -> bool:
        """Whether the key was active when entry `index` was appended."""
        return self.since < index and (self.until is None or index < self.until)


@dataclass(slots=True)
class OfficialRecord:
    org: str
    role: str
    active: bool = True
    since: int = 0
    until: int | None = None
    kids: list[str] = field(default_factory=list)
    # Approved by a current lead of `org` (or its bootstrapped first lead): only then does
    # the official receive the organisation's cases or sign for it. See auditor.membership.
    approved: bool = False
    lead: bool = False
    categories: tuple[str, ...] = ()

    @property
    def receives_cases(self) -> bool:
        """The one rule for whether this official's keys must receive the org's cases.

        Mirrors `exchange.services.directory.case_handling_encryption_kids`: an active
        official in a case-handling role, approved by a lead of their organisation.
        """
        return self.active and self.approved and self.role in HANDLER_ROLES


def _text(entry: Entry, name: str) -> str:
    value = entry.details.get(name)
    if not isinstance(value, str):
        raise DirectoryEventError(f"{entry.event} details.{name} is not a string", entry.index)
    return value


def _no_actor(entry: Entry) -> None:
    if entry.actor is not None or entry.statement is not None:
        raise DirectoryEventError(
            f"{entry.event} is the operator's: no actor or statement", entry.index
        )


class Directory:
    """Organisations, officials and keys as of the last replayed entry."""

    def __init__(self) -> None:
        self.orgs: dict[str, str] = {}
        self.officials: dict[str, OfficialRecord] = {}
        self.keys: dict[str, KeyRecord] = {}
        self.handovers: list[Handover] = []  # of the log key, in log order
        self.led: set[str] = set()  # organisations that have had a lead: no second bootstrap
        self.membership_statements: dict[str, int] = {}  # statement_id → its entry
        self.changes: list[membership.Change] = []  # membership and keys, in log order
        self.replacements: dict[str, membership.Replacement] = {}  # of all leads, by id
        self._apply: dict[str, Callable[[Entry], None]] = {
            Event.ORGANISATION_CREATED: self._organisation_created,
            Event.OFFICIAL_INVITED: self._official_invited,
            Event.OFFICIAL_ENROLLED: self._official_enrolled,
            Event.OFFICIAL_DEACTIVATED: self._official_deactivated,
            Event.KEY_ROTATED: self._key_rotated,
            Event.KEY_REVOKED: self._key_revoked,
            Event.ROUTING_CHANGED: self._routing_changed,
            Event.LOG_KEY_ROTATED: self._log_key_rotated,
            Event.SUBSCRIPTION_ADDED: self._subscription_changed,
            Event.SUBSCRIPTION_REMOVED: self._subscription_changed,
            Event.LEAD_BOOTSTRAPPED: partial(membership.lead_bootstrapped, self),
            Event.LEAD_REPLACEMENT_STARTED: partial(membership.replacement_started, self),
            Event.LEAD_REPLACEMENT_COMPLETED: partial(membership.replacement_completed, self),
            **{
                event: partial(membership.membership_signed, self)
                for event in membership.EVENT_OF_ACTION.values()
            },
        }

    def handles(self, event: str) -> bool:
        return event in self._apply

    def apply(self, entry: Entry) -> None:
        self._apply[entry.event](entry)

    def enlist(self, official: str, org: str, role: str, index: int) -> None:
        """Invite `official` to `org` (or re-invite them: reactivated, approval withdrawn)."""
        record = self.officials.get(official)
        if record is None:
            self.officials[official] = OfficialRecord(org, role, since=index)
        else:
            record.role, record.active, record.until = role, True, None
            record.approved = False

    def record_change(
        self,
        entry: Entry,
        org: str,
        official: str,
        signer: str | None,
        authorised: bool,
        summary: str,
    ) -> None:
        self.changes.append(
            membership.Change(entry.index, org, entry.event, official, signer, authorised, summary)
        )

    def _log_key_rotated(self, entry: Entry) -> None:
        """The handover both log keys signed, naming this entry as the first of the new key."""
        _no_actor(entry)
        try:
            handover = verify_handover(_text(entry, "handover"))
        except HandoverError as exc:
            raise DirectoryEventError(f"the log key handover: {exc}", entry.index) from exc
        if handover.tree_size != entry.index:
            raise DirectoryEventError(
                f"the log key handover is for entry {handover.tree_size}", entry.index
            )
        if (handover.old_verifier_key, handover.new_verifier_key) != (
            _text(entry, "old_verifier_key"),
            _text(entry, "new_verifier_key"),
        ):
            raise DirectoryEventError("the handover names other keys than the entry", entry.index)
        self.handovers.append(handover)

    # --- what statements are checked against -------------------------------------------

    def official(self, actor: Actor, index: int) -> OfficialRecord:
        """The actor as an active official of their organisation at this index."""
        record = self.officials.get(actor.official)
        if record is None:
            raise SignerKeyError(f"{actor.official} is not an official in the log", index)
        if record.org != actor.org:
            raise SignerKeyError(
                f"{actor.official} is an official of {record.org}, not {actor.org}", index
            )
        if not record.active:
            raise SignerKeyError(f"{actor.official} was deactivated at entry {record.until}", index)
        if not record.approved:
            raise SignerKeyError(
                f"{actor.official} was not approved by a lead of {actor.org}", index
            )
        return record

    def signing_key(self, actor: Actor, kid: str | None, index: int) -> Ed25519PublicKey:
        """The key `kid` if it was an active signing key of the actor at this index."""
        self.official(actor, index)
        key = self.keys.get(kid) if kid is not None else None
        if key is None or key.official != actor.official:
            raise SignerKeyError(f"key {kid} was never registered to {actor.official}", index)
        if key.status != KeyStatus.ACTIVE:
            raise SignerKeyError(
                f"key {kid} of {actor.official} was {key.status} at entry {key.until}", index
            )
        if key.public is None:
            raise SignerKeyError(f"key {kid} of {actor.official} is not a signing key", index)
        return key.public

    def _active_signing_keys(self, official: str) -> dict[str, Ed25519PublicKey]:
        record = self.officials[official]
        return {
            kid: key.public
            for kid in record.kids
            if usable((key := self.keys[kid]).use, key.status, KeyPurpose.SIGN)
            and key.public is not None
        }

    # --- the operator's events ----------------------------------------------------------

    def _organisation_created(self, entry: Entry) -> None:
        _no_actor(entry)
        org, kind = _text(entry, "org"), _text(entry, "kind")
        if org in self.orgs:
            raise DirectoryEventError(f"organisation {org} is created twice", entry.index)
        if kind not in set(OrgKind):
            raise DirectoryEventError(f"organisation kind {kind!r} is unknown", entry.index)
        self.orgs[org] = kind

    def _official_invited(self, entry: Entry) -> None:
        _no_actor(entry)
        org, official, role = _text(entry, "org"), _text(entry, "official"), _text(entry, "role")
        if org not in self.orgs:
            raise DirectoryEventError(
                f"{official} is invited to unknown organisation {org}", entry.index
            )
        record = self.officials.get(official)
        if record is not None and record.org != org:
            raise DirectoryEventError(f"{official} belongs to {record.org}, not {org}", entry.index)
        # A re-invitation (a new device, lost keys) reactivates, pending a lead's approval.
        self.enlist(official, org, role, entry.index)
        self.record_change(
            entry, org, official, None, False, f"{official} invited by the operator alone ({role})"
        )

    def _official_deactivated(self, entry: Entry) -> None:
        _no_actor(entry)
        official = _text(entry, "official")
        record = self.officials.get(official)
        if record is None or not record.active or record.org != _text(entry, "org"):
            raise DirectoryEventError(
                f"{official} is not an active official to deactivate", entry.index
            )
        record.active, record.approved, record.until = False, False, entry.index
        self.record_change(
            entry, record.org, official, None, False, f"{official} deactivated by the operator"
        )

    def _routing_changed(self, entry: Entry) -> None:
        """The operator's routing, from before routing took a lead's statement: refused."""
        _no_actor(entry)
        raise MembershipEventError(
            f"{_text(entry, 'platform')}'s routing changed by the operator alone:"
            " routing takes a lead's signed statement",
            entry.index,
        )

    # --- the officials' key statements --------------------------------------------------

    def _key_event_actor(self, entry: Entry) -> Actor:
        if entry.actor is None or entry.statement is None:
            raise KeyEventError(f"{entry.event} needs its actor and signed statement", entry.index)
        record = self.officials.get(entry.actor.official)
        if record is None or record.org != entry.actor.org or not record.active:
            raise KeyEventError(
                f"{entry.actor.official} is not an active official of {entry.actor.org}",
                entry.index,
            )
        return entry.actor

    def _new_keys(self, entry: Entry) -> list[dict[str, Any]]:
        jwks = entry.details.get("keys")
        if not isinstance(jwks, list) or not jwks or not isinstance(jwks[0], dict):
            raise KeyEventError(f"{entry.event} details.keys must list the new keys", entry.index)
        return jwks

    def _proven(
        self,
        token: str,
        keys: dict[str, Ed25519PublicKey],
        load: Callable[[Mapping[str, Any]], T],
        entry: Entry,
        what: str,
    ) -> T:
        try:
            return key_management.verify(token, keys, load)
        except EnvelopeError as exc:
            raise KeyEventError(f"the {what} does not verify: {exc}", entry.index) from exc

    def _new_signing_key(
        self, jwks: list[dict[str, Any]], entry: Entry
    ) -> dict[str, Ed25519PublicKey]:
        try:
            key = load_public_jwk(jwks[0], use="sig")
        except InvalidJWKError as exc:
            raise KeyEventError(f"the new signing key is invalid: {exc}", entry.index) from exc
        if not isinstance(key, Ed25519PublicKey):
            raise KeyEventError("the new signing key is not Ed25519", entry.index)
        return {str(jwks[0].get("kid")): key}

    def _check_names(
        self, signed: Enrollment | Rotation, actor: Actor, jwks: list[dict[str, Any]], entry: Entry
    ) -> None:
        if (signed.org, signed.official) != (actor.org, actor.official):
            raise KeyEventError(
                f"the statement is for {signed.official}, the entry for {actor.official}",
                entry.index,
            )
        if signed.jwks.documents != jwks:
            raise KeyEventError(
                "the logged keys are not the keys the statement registers", entry.index
            )

    def _replace_keys(self, official: str, jwks: list[dict[str, Any]], entry: Entry) -> None:
        """Retire the official's active keys, as the log says, and register the new ones."""
        record = self.officials[official]
        active = sorted(kid for kid in record.kids if self.keys[kid].status == KeyStatus.ACTIVE)
        if entry.details.get("retired") != active:
            raise KeyEventError(
                f"the entry retires {entry.details.get('retired')},"
                f" but {official}'s active keys were {active}",
                entry.index,
            )
        for old in active:
            self.keys[old].status, self.keys[old].until = KeyStatus.RETIRED, entry.index
        for jwk in jwks:
            kid = jwk.get("kid")
            try:
                key = load_public_jwk(jwk)
            except InvalidJWKError as exc:
                raise KeyEventError(f"new key {kid} is invalid: {exc}", entry.index) from exc
            if not isinstance(kid, str) or kid in self.keys:
                raise KeyEventError(f"key {kid} is missing or registered twice", entry.index)
            public = key if isinstance(key, Ed25519PublicKey) else None
            self.keys[kid] = KeyRecord(
                kid, official, str(jwk.get("use")), public, since=entry.index, jwk=dict(jwk)
            )
            record.kids.append(kid)

    def _official_enrolled(self, entry: Entry) -> None:
        actor = self._key_event_actor(entry)
        jwks = self._new_keys(entry)
        new_key = self._new_signing_key(jwks, entry)
        if actor.kid not in new_key:
            raise KeyEventError(
                "an enrollment is signed by the new signing key itself", entry.index
            )
        assert entry.statement is not None  # checked by _key_event_actor
        enrollment = self._proven(
            entry.statement, new_key, load_enrollment, entry, "enrollment statement"
        )
        self._check_names(enrollment, actor, jwks, entry)
        if entry.details.get("role") != self.officials[actor.official].role:
            raise KeyEventError(
                "the enrollment names another role than the invitation", entry.index
            )
        self._replace_keys(actor.official, jwks, entry)
        self._key_change(entry, actor.org, actor.official, actor.official, "enrolled keys")

    def _key_rotated(self, entry: Entry) -> None:
        actor = self._key_event_actor(entry)
        jwks = self._new_keys(entry)
        current = self._active_signing_keys(actor.official)
        if actor.kid not in current:
            raise SignerKeyError(
                f"key {actor.kid} was not an active key of {actor.official}", entry.index
            )
        assert entry.statement is not None
        rotation = self._proven(
            entry.statement,
            {actor.kid: current[actor.kid]},
            load_rotation,
            entry,
            "rotation statement",
        )
        proof = entry.details.get("proof")
        if not isinstance(proof, str):
            raise KeyEventError("a rotation carries the new key's proof", entry.index)
        if (
            self._proven(
                proof,
                self._new_signing_key(jwks, entry),
                load_rotation,
                entry,
                "proof of the new key",
            )
            != rotation
        ):
            raise KeyEventError("the proof signs another rotation than the statement", entry.index)
        self._check_names(rotation, actor, jwks, entry)
        self._replace_keys(actor.official, jwks, entry)
        self._key_change(entry, actor.org, actor.official, actor.official, "rotated keys")

    def _key_revoked(self, entry: Entry) -> None:
        official, kid = _text(entry, "official"), _text(entry, "kid")
        key = self.keys.get(kid)
        record = self.officials.get(official)
        if (
            key is None
            or record is None
            or key.official != official
            or record.org != _text(entry, "org")
        ):
            raise KeyEventError(f"{kid} is not a key of {official}", entry.index)
        if key.status == KeyStatus.REVOKED:
            raise KeyEventError(f"key {kid} was already revoked at entry {key.until}", entry.index)
        if entry.actor is not None:  # else the operator revoked it, on the log's authority
            actor = self._key_event_actor(entry)
            current = self._active_signing_keys(official)
            if actor.official != official or actor.kid not in current:
                raise SignerKeyError(
                    f"key {actor.kid} was not an active key of {official}", entry.index
                )
            assert entry.statement is not None
            revocation = self._proven(
                entry.statement,
                {actor.kid: current[actor.kid]},
                load_revocation,
                entry,
                "revocation statement",
            )
            revoked = (revocation.org, revocation.official, revocation.kid, revocation.reason)
            if revoked != (
                record.org,
                official,
                kid,
                entry.details.get("reason"),
            ):
                raise KeyEventError("the statement revokes another key than the entry", entry.index)
        elif entry.statement is not None:
            raise KeyEventError("an operator's revocation carries no statement", entry.index)
        key.status, key.until = KeyStatus.REVOKED, entry.index
        signer = entry.actor.official if entry.actor is not None else None
        by = "" if signer else " by the operator"
        self._key_change(entry, record.org, official, signer, f"key {kid} revoked{by}")

    def _key_change(
        self, entry: Entry, org: str, official: str, signer: str | None, what: str
    ) -> None:
        """An official's own key statement is theirs to make; the operator's is reported."""
        self.record_change(entry, org, official, signer, signer is not None, f"{official} {what}")

    # --- the officials' notification targets ------------------------------------------------

    def _subscription_changed(self, entry: Entry) -> None:
        """Registered or removed by the official's own statement, signed with an active key."""
        actor = self._key_event_actor(entry)
        current = self._active_signing_keys(actor.official)
        if actor.kid not in current:
            raise SignerKeyError(
                f"key {actor.kid} was not an active key of {actor.official}", entry.index
            )
        assert entry.statement is not None  # checked by _key_event_actor
        signed: Subscription | SubscriptionRemoval
        if entry.event == Event.SUBSCRIPTION_ADDED:
            signed = self._proven(
                entry.statement,
                {actor.kid: current[actor.kid]},
                load_subscription,
                entry,
                "subscription statement",
            )
        else:
            signed = self._proven(
                entry.statement,
                {actor.kid: current[actor.kid]},
                load_subscription_removal,
                entry,
                "subscription removal statement",
            )
        if (signed.org, signed.official, signed.subscription_id) != (
            actor.org,
            actor.official,
            entry.details.get("subscription"),
        ):
            raise KeyEventError(
                "the statement names another official or subscription than the entry", entry.index
            )

    # --- who receives a case --------------------------------------------------------------

    def recipients(self, org: str) -> dict[str, list[dict[str, Any]]]:
        """The encryption JWKs a record for `org` must reach, by official, as of now.

        Who counts is `OfficialRecord.receives_cases`; which keys, `key_usage.usable`.
        """
        found: dict[str, list[dict[str, Any]]] = {}
        for official, record in sorted(self.officials.items()):
            if record.org != org or not record.receives_cases:
                continue
            jwks = [
                key.jwk
                for kid in record.kids
                if usable((key := self.keys[kid]).use, key.status, KeyPurpose.RECEIVE)
                and key.jwk is not None
            ]
            if jwks:
                found[official] = jwks
        return found
