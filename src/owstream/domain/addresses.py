"""Which addresses a webhook may reach: the public internet only, unless the owner allowed a receiver inside.

Pure (``ipaddress`` only): :mod:`owstream.services.webhooks` resolves the host and connects to an address
this module accepted. Refused, IPv4 and IPv6 alike: loopback, private (RFC 1918, unique local), link-local
(169.254.169.254, a cloud's metadata service, is one), site-local (fec0::/10), multicast, reserved,
unspecified, and whatever else is not globally routable (shared 100.64/10, documentation ranges, ...). An IPv6
address carrying an IPv4 one (``::ffff:127.0.0.1``, 6to4, Teredo, NAT64's ``64:ff9b::/96``) is judged by the
IPv4 address it carries: on an IPv6-only host behind NAT64, a public receiver's synthesized address passes.

The allow-list (``OWSTREAM_NOTIFY_ALLOW``) names receivers inside: host names (the URL's host, any address
it resolves to) and addresses or networks in CIDR form (``10.0.0.5``, ``192.168.1.0/24``, ``::1``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from owstream.errors import ConfigError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_KINDS: tuple[tuple[str, str], ...] = (
    ("is_unspecified", "an unspecified address"),
    ("is_loopback", "a loopback address"),
    ("is_link_local", "a link-local address (a cloud's metadata service lives there)"),
    ("is_site_local", "a site-local address"),  # IPv6 only (deprecated fec0::/10, still routed inside some sites)
    ("is_multicast", "a multicast address"),
    ("is_reserved", "a reserved address"),
    ("is_private", "a private address"),
)


@dataclass(frozen=True)
class Allowed:
    """Receivers inside that webhooks may reach anyway: host names and networks."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows(self, address: Address) -> bool:
        return any(address in network for network in self.networks if network.version == address.version)

    def __bool__(self) -> bool:
        return bool(self.hosts or self.networks)


NOTHING = Allowed()


def parse_allowed(text: str, variable: str = "OWSTREAM_NOTIFY_ALLOW") -> Allowed:
    """``10.0.0.5, 192.168.1.0/24, hooks.lan`` as an allow-list; ConfigError naming a bad entry."""
    hosts: set[str] = set()
    networks: list[Network] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = entry.lower().rstrip(".")
        if "/" in name or not all(label and _host_label(label) for label in name.split(".")):
            raise ConfigError(f"{variable}: {entry!r} is neither a host name nor an address or network (CIDR)")
        hosts.add(name)
    return Allowed(frozenset(hosts), tuple(networks))


def _host_label(label: str) -> bool:
    return len(label) <= 63 and all(ch.isalnum() or ch in "-_" for ch in label) and label.isascii()


def parse_address(text: str) -> Address | None:
    """``text`` as an IP address (``[::1]`` and a zone, ``fe80::1%eth0``, taken too), or None if it is not one
    (a host name)."""
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])  # the zone says nothing here
    except ValueError:
        return None


def address_kind(address: Address) -> str | None:
    """What keeps a webhook from ``address`` ("a loopback address", ...), or None for a public one."""
    judged = carried_ipv4(address) or address
    for attribute, kind in _KINDS:
        if getattr(judged, attribute, False):
            return kind
    return None if judged.is_global else "not a public internet address"


def address_problem(text: str) -> str | None:
    """Why a webhook may not reach the address ``text`` (e.g. "127.0.0.1 is a loopback address"), or None
    for a public one."""
    address = parse_address(text)
    if address is None:
        return f"{text!r} is not an IP address"
    kind = address_kind(address)
    return None if kind is None else f"{text} is {kind}"


def carried_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (v4-mapped, 6to4, Teredo's client, NAT64's), else None."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix: the IPv4 address in the last 32 bits


def refusal(host: str, addresses: list[str], allowed: Allowed = NOTHING) -> str | None:
    """Why a webhook on ``host`` (resolved to ``addresses``) may not be reached, or None. Every address must
    pass (a name answering a public and an inside address is refused: the inside one could be dialled)."""
    if allowed.allows_host(host):
        return None
    if not addresses:
        return f"{host} resolves to no address"
    for text in addresses:
        address = parse_address(text)
        if address is None:
            return f"{host} resolves to {text!r}, which is not an IP address"
        kind = address_kind(address)
        v4 = carried_ipv4(address)
        if kind is None or allowed.allows(address) or (v4 is not None and allowed.allows(v4)):
            continue
        said = f"{text} is {kind}" if text == host.strip("[]") else f"{host} resolves to {text}, {kind}"
        return f"{said}; webhooks reach only public addresses (OWSTREAM_NOTIFY_ALLOW lists receivers inside)"
    return None
