"""The SDK: everything an official does, with the cryptography on their own machine.

    client = Client.from_profile(passphrase=b"…")
    sent = client.submit(case_body, to="clipshare")
    for item in client.inbox():
        opened = client.open_case(item.case_id)

Every record is sealed here and opened here; the server only ever sees ciphertext and
signed statements. Who receives a case, and whose key signed a handoff, come from the
client's replica of the log's directory (replica.py); the server's directory answers are
only hints, refused when they differ (hints.py).
"""

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from exchange.auditor.directory import Directory
from exchange.client import authoring, hints
from exchange.client import profile as profiles
from exchange.client.errors import ClientError, DirectoryMismatchError, TrustError
from exchange.client.profile import Profile, write_private
from exchange.client.replica import DirectoryReplica
from exchange.client.transport import Transport
from exchange.client.trust import LogTrust
from exchange.protocol import envelope as env
from exchange.protocol.envelope.errors import EnvelopeError
from exchange.protocol.verification import VerificationError
from exchange.protocol.witness_policy import WitnessPolicy
from keys import Identity, load_key_dir, load_public_jwk
from schemas.common import format_utc
from schemas.enums import KeyUse, Kind
from schemas.statement import Statement

KEY_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Sent:
    """A handoff the server accepted, with the log receipt to keep."""

    case_id: str
    handoff_id: str
    kind: str
    state: str
    log: dict[str, Any]
    envelope: dict[str, Any]


@dataclass(frozen=True)
class OpenedHandoff:
    """One handoff of a case, verified: signatures, digests, and its entry in the log."""

    handoff_id: str
    kind: str
    sender: dict[str, str]
    statement: Statement
    record: dict[str, Any] | None
    record_sha256: str | None
    log_index: int
    received_at: str


@dataclass(frozen=True)
class OpenedCase:
    case: dict[str, Any]
    timeline: list[OpenedHandoff] = field(default_factory=list)


@dataclass(frozen=True)
class InboxEntry:
    seq: int
    case: dict[str, Any]
    handoff: dict[str, Any]

    @property
    def case_id(self) -> str:
        return str(self.case["case_id"])


class Client:
    def __init__(
        self,
        profile: Profile,
        identity: Identity,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        state_dir: Path | None = None,
        witness_policy: WitnessPolicy | None = None,
    ) -> None:
        self.profile = profile
        self.identity = identity
        self.clock = clock
        self.transport = Transport(
            profile.server, profile.official, identity, audience=profile.token_endpoint, clock=clock
        )
        self.state_dir = state_dir or profiles.state_dir(profile)
        self.log = LogTrust(
            self.transport,
            profile.log_origin,
            profile.log_verifier_keys,
            self.state_dir,
            witness_policy,
        )
        self.notifications = Notifications(self)
        self.replica = DirectoryReplica(self.log, self.state_dir)
        self._keys: dict[str, tuple[float, Directory, list[dict[str, Any]]]] = {}

    @classmethod
    def from_profile(cls, name: str | None = None, *, passphrase: bytes) -> "Client":
        profile = profiles.load(name)
        return cls(profile, load_key_dir(Path(profile.key_dir), passphrase))

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- the directory -------------------------------------------------------------------------

    def organisations(self) -> list[dict[str, Any]]:
        return list(self.transport.get("/v1/orgs")["organisations"])

    def organisation(self, org: str) -> dict[str, Any]:
        return dict(self.transport.get(f"/v1/orgs/{org}"))

    def officials(self, org: str) -> list[dict[str, Any]]:
        return list(self.transport.get(f"/v1/orgs/{org}/officials")["officials"])

    def whoami(self) -> dict[str, Any]:
        me = [o for o in self.officials(self.profile.org) if o["id"] == self.profile.official]
        if not me:
            raise ClientError(
                f"{self.profile.official} is not an active official of {self.profile.org}"
            )
        return {**me[0], "server": self.profile.server, "kid": self.identity.signing_kid}

    def keys(self, org: str) -> list[dict[str, Any]]:
        """The organisation's keys (active and retired), as the client's replica of the log
        has them: the server's answer must agree with it exactly (`hints.check_keys`)."""
        return list(self._checked(org)[1])

    def _checked(self, org: str) -> tuple[Directory, list[dict[str, Any]]]:
        cached = self._keys.get(org)
        if cached and time.monotonic() - cached[0] < KEY_CACHE_SECONDS:
            return cached[1], cached[2]
        keys = list(self.transport.get(f"/v1/orgs/{org}/keys", status="all")["keys"])
        replayed = self.replica.current()
        try:
            hints.check_keys(replayed.directory, org, keys)
        except DirectoryMismatchError:
            # The server may have moved on since the checkpoint this client holds: judge
            # the answer against the latest verified one before refusing it.
            replayed = self.replica.current(refresh=True)
            hints.check_keys(replayed.directory, org, keys)
        self._keys[org] = (time.monotonic(), replayed.directory, keys)
        return replayed.directory, keys

    def encryption_keys(self, *orgs: str) -> list[X25519PublicKey]:
        """The active encryption keys of the case handlers of `orgs` (self included), from
        the replica of the log's directory, never from the server's word."""
        found: dict[str, X25519PublicKey] = {}
        for org in orgs:
            directory, _ = self._checked(org)
            for jwks in directory.recipients(org).values():
                for jwk in jwks:
                    public = _jwk(jwk)
                    if isinstance(public, X25519PublicKey):
                        found[jwk["kid"]] = public
        return list(found.values())

    def signing_keys(self, org: str) -> dict[str, Ed25519PublicKey]:
        keys = {}
        for key in self.keys(org):
            public = _jwk(key)
            if key["use"] == KeyUse.SIG and isinstance(public, Ed25519PublicKey):
                keys[key["kid"]] = public
        return keys

    def sender_key(self, sender: Mapping[str, str], log_index: int) -> dict[str, Ed25519PublicKey]:
        """The sender's signing key, if the log shows it as theirs and active at `log_index`."""
        replayed = self.replica.current()
        if log_index >= replayed.checkpoint.size:
            replayed = self.replica.current(refresh=True)
        directory = replayed.directory
        kid, official, org = sender.get("kid"), sender.get("official"), sender.get("org")
        key = directory.keys.get(str(kid))
        owner = directory.officials.get(key.official) if key is not None else None
        if key is None or owner is None or (key.official, owner.org) != (official, org):
            raise DirectoryMismatchError(
                f"the sender's key {kid} is not a key of {official} of {org} in the log"
            )
        if key.public is None or not key.active_at(log_index):
            raise DirectoryMismatchError(
                f"the sender's key {kid} was not an active signing key of {official}"
                f" at log entry {log_index}"
            )
        return {key.kid: key.public}

    # --- membership (a lead's statements) and your own keys ------------------------------------

    def members(self, org: str | None = None) -> list[dict[str, Any]]:
        """Your organisation's officials, with pending invitations (approved or not)."""
        return list(self.transport.get(f"/v1/orgs/{org or self.profile.org}/members")["members"])

    def membership(self, action: str, **fields: Any) -> dict[str, Any]:
        """Sign a membership statement for your organisation as its lead, and send it.

        The answer's log receipt is checked: the entry holds exactly this statement.
        """
        org = self.profile.org
        statement = authoring.membership(
            self.identity.signing_key, org, action, self.clock(), **fields
        )
        answer: dict[str, Any] = self.transport.post_json(
            f"/v1/orgs/{org}/membership", {"statement": statement}
        )
        self.log.check_statement_logged(int(answer["log"]["index"]), statement)
        return answer

    def rotate_keys(self, new: Identity) -> dict[str, Any]:
        """Replace your keys with `new`: signed by your current key, proven by the new one."""
        statement, proof = authoring.rotation(
            self.identity.signing_key, new, self.profile.org, self.profile.official, self.clock()
        )
        answer: dict[str, Any] = self.transport.post_json(
            "/v1/keys/rotate", {"statement": statement, "proof": proof}
        )
        # The old key is retired: sign in with the new one from now on.
        self.transport.close()
        self.identity = new
        self.transport = Transport(
            self.profile.server,
            self.profile.official,
            new,
            audience=self.profile.token_endpoint,
            clock=self.clock,
        )
        self.log.transport = self.transport
        self.log.check_statement_logged(int(answer["log"]["index"]), statement)
        return answer

    def revoke_key(self, kid: str, reason: str) -> dict[str, Any]:
        """Revoke one of your keys (possibly the one signing this) with a signed statement."""
        statement = authoring.revocation(
            self.identity.signing_key,
            self.profile.org,
            self.profile.official,
            kid,
            reason,
            self.clock(),
        )
        answer: dict[str, Any] = self.transport.post_json(
            f"/v1/keys/{kid}/revoke", {"statement": statement}
        )
        self.log.check_statement_logged(int(answer["log"]["index"]), statement)
        return answer

    # --- sending -------------------------------------------------------------------------------

    def _fields(
        self, case_id: str, kind: str, to: list[str], in_reply_to: str | None
    ) -> dict[str, Any]:
        return {
            "handoff_id": str(uuid.uuid4()),
            "case_id": case_id,
            "kind": kind,
            "issued_at": format_utc(self.clock()),
            "sender": {
                "org": self.profile.org,
                "official": self.profile.official,
                "kid": self.identity.signing_kid,
            },
            "to": to,
            "in_reply_to": in_reply_to,
        }

    def _post(self, path: str, sealed: env.Envelope) -> Sent:
        # Transport retries re-send these same bytes; the server answers a repeat with
        # the original result, so a retry after a lost response is safe.
        answer = self.transport.post_json(path, sealed.to_json())
        return Sent(
            answer["case_id"],
            answer["handoff_id"],
            answer["kind"],
            answer["state"],
            answer["log"],
            sealed.to_json(),
        )

    def submit(self, body: Mapping[str, Any], to: str, *, case_id: str | None = None) -> Sent:
        """Seal a new case to `to`'s case handlers and your own organisation's; send it."""
        fields = self._fields(case_id or str(uuid.uuid4()), Kind.CASE, [to], None)
        sealed = self._seal({**fields, "body": dict(body)}, to)
        return self._post("/v1/cases", sealed)

    def _seal(self, record: dict[str, Any], to: str) -> env.Envelope:
        recipients = self.encryption_keys(to, self.profile.org)
        try:
            return env.seal(record, self.identity.signing_key, recipients)
        except env.SealError as exc:
            raise ClientError(str(exc)) from exc

    def _continue(
        self,
        case: Mapping[str, Any],
        kind: str,
        in_reply_to: str,
        body: Mapping[str, Any] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Sent:
        mine_is_agency = case["issuer_org"] == self.profile.org
        counterpart = case["platform_org"] if mine_is_agency else case["issuer_org"]
        to = case["platform_org"] if kind == Kind.ASSIGNMENT else counterpart
        fields = self._fields(case["case_id"], kind, [to], in_reply_to)
        path = f"/v1/cases/{case['case_id']}/handoffs"
        if body is None:
            try:
                sealed = env.sign_statement(
                    {**fields, "meta": dict(meta or {})}, self.identity.signing_key
                )
            except env.SealError as exc:
                raise ClientError(str(exc)) from exc
            return self._post(path, sealed)
        return self._post(path, self._seal({**fields, "body": dict(body)}, counterpart))

    def acknowledge(self, case_id: str) -> Sent:
        """Sign a receipt for what awaits acknowledgement: the case, or its withdrawal.

        The receipt binds the SHA-256 of the record you decrypted, so a sender who showed
        different recipients different contents is caught.
        """
        opened = self.open_case(case_id)
        pending = "withdrawal" if opened.case["state"] == "withdrawn" else "case"
        target = [h for h in opened.timeline if h.kind == pending][-1:]
        if not target:
            raise ClientError(f"case {case_id} has no {pending} to acknowledge")
        handoff = target[0]
        meta = {
            "handoff_id": handoff.handoff_id,
            "record_sha256": handoff.record_sha256,
            "received_at": format_utc(self.clock()),
        }
        return self._continue(opened.case, Kind.RECEIPT, handoff.handoff_id, meta=meta)

    def _reply(self, case_id: str, kind: str, body: Mapping[str, Any]) -> Sent:
        case = self.case(case_id)
        return self._continue(case, kind, self._answering(case), body=body)

    def respond(self, case_id: str, body: Mapping[str, Any]) -> Sent:
        return self._reply(case_id, Kind.RESPONSE, body)

    def ask(self, case_id: str, body: Mapping[str, Any]) -> Sent:
        return self._reply(case_id, Kind.QUESTION, body)

    def supplement(self, case_id: str, body: Mapping[str, Any]) -> Sent:
        return self._reply(case_id, Kind.SUPPLEMENT, body)

    def withdraw(self, case_id: str, body: Mapping[str, Any]) -> Sent:
        return self._reply(case_id, Kind.WITHDRAWAL, body)

    def close_case(self, case_id: str, body: Mapping[str, Any]) -> Sent:
        return self._reply(case_id, Kind.CLOSURE, body)

    def assign(self, case_id: str, official: str) -> Sent:
        case = self.case(case_id)
        first = case["timeline"][0]["handoff_id"]
        return self._continue(case, Kind.ASSIGNMENT, first, meta={"assignee": official})

    def _answering(self, case: Mapping[str, Any]) -> str:
        """What a new handoff replies to: the other side's latest, else the case itself."""
        theirs = [h for h in case["timeline"] if h["sender"]["org"] != self.profile.org]
        return str((theirs or case["timeline"])[-1]["handoff_id"])

    # --- reading -------------------------------------------------------------------------------

    def case(self, case_id: str) -> dict[str, Any]:
        return dict(self.transport.get(f"/v1/cases/{case_id}"))

    def cases(self, **filters: Any) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            page = self.transport.get("/v1/cases", cursor=cursor, **filters)
            yield from page["cases"]
            cursor = page["next_cursor"]
            if not cursor:
                return

    def open_case(self, case_id: str) -> OpenedCase:
        """Fetch a case and open every handoff: decrypt, verify, and check the log."""
        case = self.case(case_id)
        return OpenedCase(case, [self.open_handoff(h) for h in case["timeline"]])

    def open_handoff(self, handoff: Mapping[str, Any]) -> OpenedHandoff:
        sender = handoff["sender"]
        sealed = env.Envelope(handoff["statement"], handoff.get("jwe"))
        keys = self.sender_key(sender, handoff["log_index"])
        try:
            if sealed.jwe is None:
                statement = env.verify_statement(sealed, keys)
                record, digest = None, None
            else:
                opened = env.open(sealed, self.identity.encryption_key, keys, self.profile.org)
                statement, record, digest = opened.statement, opened.record, opened.record_sha256
        except (EnvelopeError, VerificationError) as exc:
            raise TrustError(f"handoff {handoff['handoff_id']} does not verify: {exc}") from exc
        self.log.check_statement_logged(handoff["log_index"], handoff["statement"])
        return OpenedHandoff(
            handoff["handoff_id"],
            handoff["kind"],
            dict(sender),
            statement.statement,
            record,
            digest,
            handoff["log_index"],
            handoff["received_at"],
        )

    # --- the inbox -----------------------------------------------------------------------------

    @property
    def _cursor_file(self) -> Path:
        return self.state_dir / "inbox-cursor"

    def inbox_cursor(self) -> int:
        try:
            return int(self._cursor_file.read_text())
        except (FileNotFoundError, ValueError):
            return 0

    def save_inbox_cursor(self, seq: int) -> None:
        write_private(self._cursor_file, f"{seq}\n")

    def inbox(
        self, *, after: int | None = None, limit: int = 50, advance: bool = True
    ) -> Iterator[InboxEntry]:
        """New inbox items from the persisted cursor; the cursor advances as you iterate."""
        position = self.inbox_cursor() if after is None else after
        while True:
            page = self.transport.get("/v1/inbox", after=position, limit=limit)
            for item in page["items"]:
                yield InboxEntry(item["seq"], item["case"], item["handoff"])
                position = item["seq"]
                if advance:
                    self.save_inbox_cursor(position)
            if not page["items"] or position >= page["last_seq"]:
                return


class Notifications:
    """Your notification targets and their delivery log (`client.notifications`)."""

    def __init__(self, client: "Client") -> None:
        self.client = client

    def add(
        self,
        channel: str,
        target: str,
        *,
        events: Sequence[str],
        priorities: Sequence[str],
        scope: str = "own",
    ) -> dict[str, Any]:
        """Register a target; the answer holds a webhook's secret (shown this once), and
        its log receipt is checked against the pinned log key before it is believed."""
        profile, identity = self.client.profile, self.client.identity
        statement = authoring.subscription(
            identity.signing_key,
            profile.org,
            profile.official,
            subscription_id=authoring.new_id(),
            channel=channel,
            target=target,
            scope=scope,
            events=events,
            priorities=priorities,
            now=self.client.clock(),
        )
        created: dict[str, Any] = self.client.transport.post_json(
            "/v1/subscriptions", {"statement": statement, "target": target}
        )
        self.client.log.check_statement_logged(created["log"]["index"], statement)
        return created

    def targets(self) -> list[dict[str, Any]]:
        return list(self.client.transport.get("/v1/subscriptions")["subscriptions"])

    def remove(self, subscription_id: str) -> dict[str, Any]:
        profile = self.client.profile
        statement = authoring.subscription_removal(
            self.client.identity.signing_key,
            profile.org,
            profile.official,
            subscription_id,
            self.client.clock(),
        )
        removed: dict[str, Any] = self.client.transport.post_json(
            f"/v1/subscriptions/{subscription_id}/remove", {"statement": statement}
        )
        self.client.log.check_statement_logged(removed["log_index"], statement)
        return removed

    def test(self, subscription_id: str) -> dict[str, Any]:
        queued: dict[str, Any] = self.client.transport.post_json(
            f"/v1/subscriptions/{subscription_id}/test", {}
        )
        return queued

    def log(self, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.client.transport.get("/v1/notifications", limit=limit)["notifications"])


def _jwk(key: Mapping[str, Any]) -> Any:
    members = {name: key[name] for name in ("kty", "crv", "x", "kid", "use", "alg")}
    return load_public_jwk(members)


def write_record(path: Path, record: Mapping[str, Any]) -> None:
    """Plaintext leaves the official's machine never; on it, only owner-readable files."""
    write_private(path, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
