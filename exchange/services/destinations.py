"""Where the exchange may send: a guard against server-side request forgery.

A webhook target is an address a user chose, and the worker that calls it sits inside the
operator's network. A target must be https (http only where the operator allows it, for
development) and every address its host name resolves to must be public, unless the
operator lists the network explicitly (`NOTIFY_ALLOWED_NETWORKS`; the tests list loopback).
The check runs when a subscription is registered and again right before each send, and
the send connects to the address that was checked (`pinned`), with the host name kept for
the Host header and TLS (SNI and certificate): a name re-pointed at an internal address
(DNS rebinding) is refused, and cannot be switched between the check and the connection.
"""

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from exchange.errors import UnsafeDestinationError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeDestinationError(f"the host {host!r} does not resolve") from exc
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class DestinationPolicy:
    allow_http: bool = False
    allowed_networks: tuple[IpNetwork, ...] = ()
    resolve: Resolver = field(default=_resolve, compare=False)

    @classmethod
    def from_settings(cls, allow_http: bool, networks: Sequence[str]) -> "DestinationPolicy":
        return cls(allow_http, tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def allows(self, address: IpAddress) -> bool:
        if any(address in network for network in self.allowed_networks):
            return True
        return address.is_global and not address.is_multicast


def check_webhook(policy: DestinationPolicy, url: str) -> list[str]:
    """Refuse a URL the worker must not call; return the addresses it resolves to."""
    parts = urlsplit(url)
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeDestinationError(f"a webhook URL must use {' or '.join(schemes)}")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeDestinationError("a webhook URL names a host and no credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeDestinationError("the webhook URL's port is invalid") from exc
    addresses = policy.resolve(parts.hostname, port)
    if not addresses:
        raise UnsafeDestinationError(f"the host {parts.hostname!r} does not resolve")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if not policy.allows(address):
            raise UnsafeDestinationError(
                f"{parts.hostname} resolves to {address}, a non-public address"
            )
    return list(addresses)


@dataclass(frozen=True)
class Pinned:
    """A URL that connects to one checked address, and the host name it stands for."""

    url: str
    host_header: str
    server_name: str


def pinned(url: str, address: str) -> Pinned:
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host = parts.netloc.rpartition("@")[2]
    return Pinned(parts._replace(netloc=netloc).geturl(), host, hostname)
