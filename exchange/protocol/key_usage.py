"""Which of an official's keys may be used for what: the rule, written once.

The server (authentication, statement checks, whom a record must be encrypted to, the
directory listing), the auditor replaying the log and the client choosing recipients all
ask this module, by purpose, instead of comparing status strings of their own.
"""

from dataclasses import dataclass
from enum import Enum

from schemas.enums import KeyStatus, KeyUse


class KeyPurpose(Enum):
    # Sign a new statement or client assertion, and be authenticated by it.
    SIGN = "sign"
    # Be encrypted to: receive new records.
    RECEIVE = "receive"
    # Verify a statement signed earlier, while the key was current.
    VERIFY_PAST = "verify-past"


@dataclass(frozen=True)
class KeyRule:
    use: KeyUse
    statuses: frozenset[KeyStatus]


_RULES = {
    KeyPurpose.SIGN: KeyRule(KeyUse.SIG, frozenset({KeyStatus.ACTIVE})),
    KeyPurpose.RECEIVE: KeyRule(KeyUse.ENC, frozenset({KeyStatus.ACTIVE})),
    KeyPurpose.VERIFY_PAST: KeyRule(KeyUse.SIG, frozenset({KeyStatus.ACTIVE, KeyStatus.RETIRED})),
}


def rule(purpose: KeyPurpose) -> KeyRule:
    """The key use and statuses that `purpose` accepts (for queries over many keys)."""
    return _RULES[purpose]


def usable(use: str, status: str, purpose: KeyPurpose) -> bool:
    """Whether a key of this `use` and `status` may serve `purpose`."""
    accepted = _RULES[purpose]
    return use == accepted.use and status in accepted.statuses


# Keys a directory lists: those that still do something (sign, receive, or verify).
LISTED_STATUSES = frozenset({KeyStatus.ACTIVE, KeyStatus.RETIRED})
