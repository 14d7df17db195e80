"""Address safety: which IP addresses a check may connect to.

:func:`address_problem` says why an address must not be fetched (private, loopback, ...,
including IPv4 addresses embedded in IPv6 ones); ``allow_networks`` lifts it per network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_networks(items: Sequence[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return None


def address_problem(ip: IPAddress, allowed: Sequence[IPNetwork] = ()) -> str | None:
    """Why ``ip`` must not be fetched (``"private"``, ``"loopback"``, ...), or None when it may."""
    candidates: list[IPAddress] = [ip]
    inner = _embedded_v4(ip)
    if inner is not None:
        candidates.append(inner)
    for cand in candidates:
        if any(cand.version == net.version and cand in net for net in allowed):
            return None
    for cand in reversed(candidates):  # judge the embedded IPv4 address first
        if cand.is_loopback:
            return "loopback"
        if cand.is_link_local:
            return "link-local"
        if cand.is_multicast:
            return "multicast"
        if cand.is_unspecified:
            return "unspecified"
        if cand.is_reserved:
            return "reserved"
        if cand.is_private:
            return "private"
        if not cand.is_global:
            return "non-public"
    return None


def ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None
