"""The server's directory answers are hints: each is checked against the replica of the log.

`GET /v1/orgs/{id}/keys` says which keys an organisation has. The client computes the same
from its replica (`exchange.client.replica`) and refuses any difference, naming it: a key
the log never registered, a key of another organisation or official, a revoked, rotated or
deactivated key shown as current, an official no lead approved, a role the log does not
give, a key left out.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from exchange.auditor.directory import Directory
from exchange.client.errors import DirectoryMismatchError
from exchange.protocol.key_usage import LISTED_STATUSES

# The members of a public JWK that make it the key it is.
_PUBLIC_MEMBERS = ("kty", "crv", "x", "kid", "use", "alg")


def check_keys(directory: Directory, org: str, hint: Sequence[Mapping[str, Any]]) -> None:
    """Raise DirectoryMismatchError on the first way `hint` differs from the log's keys."""
    for key in sorted(hint, key=lambda k: str(k.get("kid"))):
        _check_listed(directory, org, key)
    shown = {str(key.get("kid")) for key in hint}
    for official, record in sorted(directory.officials.items()):
        # The server lists the keys of active officials that a lead of `org` approved.
        if record.org != org or not record.active or not record.approved:
            continue
        for kid in record.kids:
            held = directory.keys[kid]
            if held.status in LISTED_STATUSES and kid not in shown:
                raise DirectoryMismatchError(
                    f"the server's answer for {org} omits key {kid} of {official},"
                    f" registered at log entry {held.since}"
                )


def _check_listed(directory: Directory, org: str, key: Mapping[str, Any]) -> None:
    kid, official = key.get("kid"), key.get("official")
    record = directory.keys.get(str(kid))
    if record is None:
        raise DirectoryMismatchError(
            f"the server lists key {kid} for {org}, but the log registers no such key"
        )
    owner = directory.officials[record.official]
    if owner.org != org:
        raise DirectoryMismatchError(
            f"the server lists key {kid} for {org}, but the log registers it to"
            f" {record.official} of {owner.org}"
        )
    if official != record.official:
        raise DirectoryMismatchError(
            f"the server lists key {kid} as {official}'s, but the log registers it to"
            f" {record.official}"
        )
    registered = record.jwk or {}
    if any(key.get(name) != registered.get(name) for name in _PUBLIC_MEMBERS):
        raise DirectoryMismatchError(
            f"the server's key {kid} is not the key the log registers under that kid"
        )
    if not owner.active:
        raise DirectoryMismatchError(
            f"the server lists key {kid} of {official}, but the log deactivated"
            f" {official} at entry {owner.until}"
        )
    if not owner.approved:
        raise DirectoryMismatchError(
            f"the server lists key {kid} of {official}, whom no lead of {org} approved in the log"
        )
    if key.get("status") != record.status:
        raise DirectoryMismatchError(
            f"the server lists key {kid} of {official} as {key.get('status')}, but the log"
            f" has it {record.status} since entry {record.until}"
        )
    if key.get("role") != owner.role:
        raise DirectoryMismatchError(
            f"the server lists {official} as {key.get('role')}, but the log has them as"
            f" {owner.role}"
        )
    if key.get("registered_log_index") != record.since:
        raise DirectoryMismatchError(
            f"the server says key {kid} was registered at log entry"
            f" {key.get('registered_log_index')}, the log says {record.since}"
        )
