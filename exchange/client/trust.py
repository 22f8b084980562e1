"""What the client checks before it trusts the server: the log, and keys through the log.

A compromised server could hand out a key of its own for a platform. The client only
encrypts to keys whose registration it found in the log, included under a checkpoint it
verified with the key it pinned at enrollment, consistent with the last one it saw.

When the operator rotates the log key, checkpoints are signed by a key the client never
pinned. It trusts the new key only through a handover signed by a key it already trusts
(`exchange.protocol.handover`), proves that handover is the log's `log_key_rotated` entry, and
keeps the learned key in its state folder.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from exchange.client.errors import TrustError
from exchange.client.profile import write_private
from exchange.client.transport import Transport
from exchange.protocol import key_management, merkle
from exchange.protocol.checkpoint import Checkpoint, verify_checkpoint
from exchange.protocol.envelope.canonical import parse_canonical_object
from exchange.protocol.handover import Handover, HandoverError, verify_handover
from exchange.protocol.verification import VerificationError
from exchange.protocol.witness_policy import WitnessPolicy, require_quorum
from exchange.protocol.witnessed import WitnessedReceipt, verify_witnessed_receipt
from keys import InvalidJWKError, load_public_jwk
from keys.b64 import b64_decode
from schemas.keys import Enrollment, Rotation, load_enrollment, load_rotation

_KEY_EVENTS: dict[str, Callable[[Mapping[str, Any]], Enrollment | Rotation]] = {
    "official_enrolled": load_enrollment,
    "key_rotated": load_rotation,
}
_JWK_MEMBERS = ("kty", "crv", "x", "kid", "use", "alg")


@dataclass(frozen=True)
class VerifiedCheckpoint:
    checkpoint: Checkpoint
    note: str


class LogTrust:
    """The client's view of the log, anchored in the pinned verifier key(s)."""

    def __init__(
        self,
        transport: Transport,
        origin: str,
        verifier_keys: tuple[str, ...],
        state: Path,
        witness_policy: WitnessPolicy | None = None,
    ) -> None:
        self.transport = transport
        # With a policy, only checkpoints a quorum of its witnesses cosigned are trusted.
        self.witness_policy = witness_policy
        self.origin = origin
        self.state_file = state / "checkpoint"
        self.learned_keys_file = state / "log-verifier-keys"
        self.verifier_keys = tuple(dict.fromkeys((*verifier_keys, *self._learned())))
        self._current: VerifiedCheckpoint | None = None
        self.witnesses: list[str] = []  # who cosigned the current checkpoint, with a policy

    def checkpoint(self, refresh: bool = False) -> VerifiedCheckpoint:
        """The server's latest checkpoint, verified and consistent with the last one seen."""
        if self._current is not None and not refresh:
            return self._current
        path = "/v1/log/checkpoint" if self.witness_policy is None else "/checkpoint"
        note = self.transport.request("GET", path, auth=False)
        handed_over: list[tuple[int, str, Handover]] = []
        try:
            new = verify_checkpoint(note, list(self.verifier_keys), self.origin)
        except VerificationError as exc:
            new, handed_over = self._through_handovers(note, exc)
        if self.witness_policy is not None:
            try:
                self.witnesses = require_quorum(note, self.witness_policy)
            except VerificationError as exc:
                raise TrustError(f"the log checkpoint is not witnessed: {exc}") from exc
        old = self._saved()
        if old is not None:
            self._check_consistent(old, new)
        self._current = VerifiedCheckpoint(new, note)
        if handed_over:
            try:
                self._prove_on_record(handed_over)
            except TrustError:
                self._current = None
                raise
            self.verifier_keys += tuple(h.new_verifier_key for _, _, h in handed_over)
            write_private(self.learned_keys_file, "".join(k + "\n" for k in self.verifier_keys))
        write_private(self.state_file, note)
        return self._current

    def _learned(self) -> tuple[str, ...]:
        if not self.learned_keys_file.exists():
            return ()
        return tuple(self.learned_keys_file.read_text().split())

    def _through_handovers(
        self, note: str, refused: VerificationError
    ) -> tuple[Checkpoint, list[tuple[int, str, Handover]]]:
        """The checkpoint, verified with keys that trusted keys handed the log over to."""
        answer = self.transport.request("GET", "/v1/log/key", auth=False)
        offered = answer.get("handovers") if isinstance(answer, dict) else None
        if not isinstance(offered, list):
            raise TrustError(f"the log checkpoint does not verify with the pinned key: {refused}")
        trusted, used = list(self.verifier_keys), []
        for item in offered:
            try:
                index, signed = int(item["index"]), str(item["note"])
                handover = verify_handover(signed)
            except (HandoverError, KeyError, TypeError, ValueError) as exc:
                raise TrustError(f"the server offers a log key handover that fails: {exc}") from exc
            fresh = handover.new_verifier_key not in trusted
            if handover.origin == self.origin and handover.old_verifier_key in trusted and fresh:
                trusted.append(handover.new_verifier_key)
                used.append((index, signed, handover))
        try:
            return verify_checkpoint(note, trusted, self.origin), used
        except VerificationError:
            raise TrustError(
                f"the log checkpoint does not verify with the pinned key: {refused}"
            ) from refused

    def _prove_on_record(self, handed_over: list[tuple[int, str, Handover]]) -> None:
        """Each handover followed must be the log's own entry at the index it names."""
        for index, signed, handover in handed_over:
            entry = self.entry(index)
            details = entry.get("details") or {}
            if (
                entry.get("event") != "log_key_rotated"
                or details.get("handover") != signed
                or handover.tree_size != index
            ):
                raise TrustError(f"the log key handover is not log entry {index}")

    def _saved(self) -> Checkpoint | None:
        if not self.state_file.exists():
            return None
        try:
            return verify_checkpoint(
                self.state_file.read_text(), list(self.verifier_keys), self.origin
            )
        except VerificationError as exc:
            raise TrustError(f"the saved checkpoint {self.state_file} does not verify") from exc

    def _check_consistent(self, old: Checkpoint, new: Checkpoint) -> None:
        if new.size < old.size:
            raise TrustError(
                f"the log shrank from {old.size} to {new.size} entries: a fork or rollback"
            )
        if new.size == old.size:
            if new.root != old.root:
                raise TrustError(f"two different roots for size {new.size}: a forked log")
            return
        proof = self.transport.get("/v1/log/proof/consistency", old=old.size, new=new.size)
        try:
            merkle.verify_consistency(
                old.size, new.size, old.root, new.root, [b64_decode(p) for p in proof["proof"]]
            )
        except (VerificationError, ValueError) as exc:
            raise TrustError(f"the log is not consistent with what this client saw: {exc}") from exc

    def entry(self, index: int) -> dict[str, Any]:
        """Log entry `index`, proven included in the verified checkpoint."""
        tree = self.checkpoint().checkpoint
        if index >= tree.size:
            tree = self.checkpoint(refresh=True).checkpoint
        page = self.transport.get("/v1/log/entries", start=index, end=index + 1)["entries"]
        if len(page) != 1 or page[0]["index"] != index:
            raise TrustError(f"the server did not return log entry {index}")
        text = page[0]["entry"].encode("utf-8")
        proof = self.transport.get("/v1/log/proof/inclusion", index=index, tree_size=tree.size)
        try:
            merkle.verify_inclusion(
                merkle.leaf_hash(text),
                index,
                tree.size,
                [b64_decode(p) for p in proof["proof"]],
                tree.root,
            )
            entry = parse_canonical_object(text, "log entry")
        except (VerificationError, ValueError) as exc:
            raise TrustError(f"log entry {index} is not proven in the checkpoint: {exc}") from exc
        if entry.get("index") != index:
            raise TrustError(f"log entry {index} names index {entry.get('index')}")
        return entry

    def witnessed_receipt(self, index: int) -> WitnessedReceipt:
        """A receipt of entry `index` under the newest witnessed checkpoint, checked here
        as it will be offline (needs a witness policy; the entry must be cosigned already)."""
        if self.witness_policy is None:
            raise TrustError("a witnessed receipt needs a witness policy")
        current = self.checkpoint(refresh=True)
        tree = current.checkpoint
        if index >= tree.size:
            raise TrustError(
                f"log entry {index} is not witnessed yet (the witnessed checkpoint has"
                f" {tree.size} entries): ask again after the next cosigning round"
            )
        proof = self.transport.get("/v1/log/proof/inclusion", index=index, tree_size=tree.size)
        try:
            receipt = WitnessedReceipt(
                index,
                b64_decode(proof["leaf_hash"]),
                current.note,
                tuple(b64_decode(node) for node in proof["proof"]),
            )
            verify_witnessed_receipt(receipt, self.verifier_keys, self.origin, self.witness_policy)
        except (VerificationError, ValueError, KeyError, TypeError) as exc:
            raise TrustError(f"log entry {index} is not proven in the checkpoint: {exc}") from exc
        return receipt

    def check_key(self, key: dict[str, Any]) -> None:
        """The directory's key was registered for its official by a signed log entry."""
        index = key["registered_log_index"]
        entry = self.entry(index)
        load = _KEY_EVENTS.get(entry.get("event", ""))
        actor = entry.get("actor") or {}
        if load is None or actor.get("official") != key["official"]:
            raise TrustError(f"log entry {index} does not register a key of {key['official']}")
        wanted = {name: key[name] for name in _JWK_MEMBERS}
        registered = entry["details"].get("keys", [])
        if wanted not in [{n: k.get(n) for n in _JWK_MEMBERS} for k in registered]:
            raise TrustError(f"key {key['kid']} is not among those registered at log index {index}")
        # The registration is proven by the new signing key itself: the enrollment
        # statement, or a rotation's proof.
        token = entry["statement"] if entry["event"] == "official_enrolled" else None
        token = token or entry["details"].get("proof")
        sig_jwk = next((k for k in registered if k.get("use") == "sig"), None)
        try:
            public = load_public_jwk(sig_jwk or {}, use="sig")
            if not isinstance(public, Ed25519PublicKey) or not isinstance(token, str):
                raise TrustError(f"log entry {index} has no proof of possession")
            key_management.verify(token, {str(sig_jwk and sig_jwk["kid"]): public}, load)
        except (VerificationError, InvalidJWKError) as exc:
            raise TrustError(
                f"the registration at log index {index} is not validly signed"
            ) from exc

    def check_statement_logged(self, index: int, statement: str) -> None:
        """The handoff's statement is the one the log holds at `index`."""
        entry = self.entry(index)
        if entry.get("statement") != statement:
            raise TrustError(f"log entry {index} holds another statement than the handoff's")
