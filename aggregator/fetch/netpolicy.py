"""Which network addresses the fetcher may connect to, and the dialer that enforces it.

Feed URLs come from configuration and from redirects chosen by remote servers, so a
feed could point us at the machine's own services or the internal network (SSRF).
By default only public, unicast addresses are allowed. The check is made on the
resolved address actually connected to, not on the URL's host name, so DNS tricks
cannot get around it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(OSError):
    """A connection was refused by the address policy before it was attempted."""

    def __init__(self, host: str, address: IPAddress, kind: str) -> None:
        self.host = host
        self.address = address
        self.kind = kind
        if host == str(address):
            super().__init__(f"{address} is {kind}")
        else:
            super().__init__(f"{host} resolves to {address}, {kind}")


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """`allow_private` lets everything through (tests, the demo, intranet deployments).

    `exceptions` are exact addresses let through although they are not public: it lets a
    test allow its own server at 127.0.0.1 while still proving that 127.0.0.2 is refused.
    """

    allow_private: bool = False
    exceptions: frozenset[IPAddress] = frozenset()

    @classmethod
    def build(cls, *, allow_private: bool, exceptions: Collection[str] = ()) -> AddressPolicy:
        return cls(allow_private, frozenset(ipaddress.ip_address(a) for a in exceptions))

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be connected to, or None when it may."""
        if self.allow_private or address in self.exceptions:
            return None
        return non_public_kind(address)


def non_public_kind(address: IPAddress) -> str | None:
    """Describe what kind of non-public address this is, or None for a public one."""
    for candidate in _addresses_to_judge(address):
        kind = _kind(candidate)
        if kind is not None:
            return kind
    return None


def _addresses_to_judge(address: IPAddress) -> list[IPAddress]:
    # An IPv6 address can carry an IPv4 one that is what really gets reached.
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return [address.ipv4_mapped]
        if address.sixtofour is not None:
            return [address, address.sixtofour]
    return [address]


# Deprecated site-local addresses: `is_global` and `is_private` both miss them.
_SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")


def _kind(address: IPAddress) -> str | None:
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if isinstance(address, ipaddress.IPv6Address) and address in _SITE_LOCAL:
        return "a site-local address"
    if not address.is_global:
        return "a non-public address"
    return None


AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]


def allowed_addresses(host: str, port: int, policy: AddressPolicy) -> list[AddressInfo]:
    """Resolve `host`; the addresses the policy allows, in the resolver's order.

    Every resolved address is judged before any connection is attempted, and only allowed
    ones are returned: a name that resolves to a mix of public and private addresses (DNS
    rebinding) can only ever reach the public ones.
    """
    allowed: list[AddressInfo] = []
    first_refusal: AddressRefused | None = None
    for candidate in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(candidate[4][0])
        refusal = policy.refusal(address)
        if refusal is None:
            allowed.append(candidate)
        elif first_refusal is None:
            first_refusal = AddressRefused(host, address, refusal)
    if not allowed:
        raise first_refusal or OSError(f"{host} has no address to connect to")
    return allowed


def machine_of(addresses: Collection[AddressInfo]) -> str:
    """One name for the machine behind `addresses`, whatever the URL called it:
    `localhost`, `127.1`, `2130706433` and `0x7f000001` all resolve to 127.0.0.1."""
    return str(min((ipaddress.ip_address(a[4][0]) for a in addresses), key=_ipv4_first))


def _ipv4_first(address: IPAddress) -> tuple[int, int]:
    return address.version, int(address)


def connect_first(addresses: list[AddressInfo], timeout: float | None) -> socket.socket:
    """Connect to the first of `addresses` (from `allowed_addresses`) that answers."""
    last_error: OSError | None = None
    for family, kind, protocol, _, sockaddr in addresses:
        sock = socket.socket(family, kind, protocol)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
        except OSError as error:
            sock.close()
            last_error = error
        else:
            return sock
    assert last_error is not None  # allowed_addresses gives at least one
    raise last_error
