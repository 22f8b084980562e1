"""Witness policies: which witnesses a verifier trusts, and how many must cosign.

The text format is the one Sigsum and torchwood read (one statement a line, `#` comments),
with C2SP verifier keys:

    log <vkey> [<url>]                 the log's checkpoint key (type 0x01)
    witness <name> <vkey> [<url>]      a witness's cosignature/v1 key (type 0x04)
    group <name> <all|any|k> <member>...   k of the members (witnesses or earlier groups)
    quorum <name|none>                 the witness or group that must be satisfied

Names are unique; a group names only what was defined above it, so a policy has no cycle.
Parsing is strict: an unknown keyword, a duplicate, a threshold outside 1..members or a
missing quorum line refuses the whole file, with its line number.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from exchange.protocol import note
from exchange.protocol.checkpoint import Checkpoint, verify_checkpoint
from exchange.protocol.cosignature import WitnessKey, parse_witness_vkey, verify_cosignatures
from exchange.protocol.verification import VerificationError

QUORUM_NONE = "none"
MAX_POLICY_LINES = 10_000


class PolicyError(VerificationError):
    """A witness policy file is malformed."""


class QuorumError(VerificationError):
    """A checkpoint does not carry the cosignatures the witness policy requires."""


@dataclass(frozen=True)
class Witness:
    name: str  # the policy's name for it
    key: WitnessKey
    url: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class WitnessPolicy:
    log_keys: tuple[str, ...]
    log_urls: tuple[str, ...]
    witnesses: Mapping[str, Witness]
    groups: Mapping[str, Group]
    quorum: str
    _by_key_name: Mapping[str, str] = field(default_factory=dict)

    @property
    def witness_keys(self) -> list[WitnessKey]:
        return [w.key for w in self.witnesses.values()]

    def witness_for(self, cosigner_name: str) -> Witness | None:
        """The policy's witness whose key carries cosigner_name."""
        name = self._by_key_name.get(cosigner_name)
        return None if name is None else self.witnesses[name]

    def satisfied_by(self, cosigned: Iterable[str]) -> bool:
        """True if the witnesses (policy names) in `cosigned` satisfy the quorum."""
        if self.quorum == QUORUM_NONE:
            return True
        return self._satisfied(self.quorum, frozenset(cosigned))

    def _satisfied(self, name: str, cosigned: frozenset[str]) -> bool:
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        count = sum(1 for member in group.members if self._satisfied(member, cosigned))
        return count >= group.threshold


def _threshold(word: str, members: int, number: int) -> int:
    if word == "all":
        return members
    if word == "any":
        return 1
    if not word.isdigit() or word != str(int(word)):
        raise PolicyError(f"line {number}: threshold {word[:20]!r} is not all, any or a number")
    value = int(word)
    if not 1 <= value <= members:
        raise PolicyError(f"line {number}: threshold {value} is outside 1..{members}")
    return value


def parse_policy(text: str) -> WitnessPolicy:
    lines = text.splitlines()
    if len(lines) > MAX_POLICY_LINES:
        raise PolicyError(f"policy has more than {MAX_POLICY_LINES} lines")
    log_keys: list[str] = []
    log_urls: list[str] = []
    witnesses: dict[str, Witness] = {}
    groups: dict[str, Group] = {}
    by_key_name: dict[str, str] = {}
    quorum: str | None = None
    for number, raw in enumerate(lines, 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        keyword, args = words[0], words[1:]
        if keyword == "log" and len(args) in (1, 2):
            try:
                note.parse_verifier_key(args[0])
            except VerificationError as exc:
                raise PolicyError(f"line {number}: {exc}") from None
            log_keys.append(args[0])
            log_urls.extend(args[1:])
        elif keyword == "witness" and len(args) in (2, 3):
            name = args[0]
            if name in witnesses or name in groups or name == QUORUM_NONE:
                raise PolicyError(f"line {number}: name {name!r} is already defined")
            try:
                key = parse_witness_vkey(args[1])
            except VerificationError as exc:
                raise PolicyError(f"line {number}: {exc}") from None
            if key.name in by_key_name:
                raise PolicyError(f"line {number}: witness key name {key.name!r} appears twice")
            witnesses[name] = Witness(name, key, args[2] if len(args) == 3 else None)
            by_key_name[key.name] = name
        elif keyword == "group" and len(args) >= 3:
            name, word, members = args[0], args[1], tuple(args[2:])
            if name in witnesses or name in groups or name == QUORUM_NONE:
                raise PolicyError(f"line {number}: name {name!r} is already defined")
            if len(set(members)) != len(members):
                raise PolicyError(f"line {number}: group {name!r} names a member twice")
            for member in members:
                if member not in witnesses and member not in groups:
                    raise PolicyError(
                        f"line {number}: group member {member!r} is not defined above"
                    )
            groups[name] = Group(name, _threshold(word, len(members), number), members)
        elif keyword == "quorum" and len(args) == 1:
            if quorum is not None:
                raise PolicyError(f"line {number}: a second quorum line")
            if args[0] not in witnesses and args[0] not in groups and args[0] != QUORUM_NONE:
                raise PolicyError(f"line {number}: quorum {args[0]!r} is not defined above")
            quorum = args[0]
        else:
            raise PolicyError(f"line {number}: cannot read {raw.strip()[:60]!r}")
    if quorum is None:
        raise PolicyError("policy has no quorum line")
    return WitnessPolicy(tuple(log_keys), tuple(log_urls), witnesses, groups, quorum, by_key_name)


def require_quorum(signed_note: str, policy: WitnessPolicy) -> list[str]:
    """The policy names of the witnesses that validly cosigned signed_note, sorted, if they
    satisfy the policy's quorum; QuorumError naming who signed and what was needed if not.

    The log's own signature is checked elsewhere (checkpoint.verify_checkpoint); a forged
    cosignature by a pinned witness raises CosignatureSignatureError.
    """
    found = verify_cosignatures(signed_note, policy.witness_keys)
    cosigned = sorted(
        witness.name for name in found if (witness := policy.witness_for(name)) is not None
    )
    if not policy.satisfied_by(cosigned):
        signed = ", ".join(cosigned) or "no pinned witness"
        raise QuorumError(
            f"checkpoint lacks a witness quorum: cosigned by {signed};"
            f" the policy needs {describe_quorum(policy)}"
        )
    return cosigned


def describe_quorum(policy: WitnessPolicy) -> str:
    """A one-line rendering of what the quorum requires, e.g. "2 of (w1, w2, w3)"."""

    def render(name: str) -> str:
        if name in policy.witnesses:
            return name
        group = policy.groups[name]
        members = ", ".join(render(member) for member in group.members)
        return f"{group.threshold} of ({members})"

    return "nothing" if policy.quorum == QUORUM_NONE else render(policy.quorum)


@dataclass(frozen=True)
class WitnessedCheckpoint:
    checkpoint: Checkpoint
    witnesses: list[str]  # the policy names of the witnesses that cosigned it


def verify_witnessed(
    signed_note: str, log_keys: Sequence[str], origin: str, policy: WitnessPolicy
) -> WitnessedCheckpoint:
    """A checkpoint signed by the log and cosigned by a quorum of the policy's witnesses.

    The log's keys are `log_keys` and, if it names any, the policy's too: a checkpoint
    must be signed by one of each set that is given.
    """
    checkpoint = verify_checkpoint(signed_note, log_keys or policy.log_keys, origin)
    if log_keys and policy.log_keys:
        verify_checkpoint(signed_note, policy.log_keys, origin)
    return WitnessedCheckpoint(checkpoint, require_quorum(signed_note, policy))
