"""Where a webhook may go. The host is resolved here, each address checked, and the
connection then made to the address checked (send.py pins it): a name that resolves to a
public address for the check and to an inner one for the connection (DNS rebinding)
cannot slip through.

Refused: loopback (127/8, ::1), unless DELIVERY_ALLOW_LOOPBACK (tests, the embedded
default), and even then never the service's own port; link-local (169.254/16, fe80::/10,
which hold the cloud metadata endpoints); known metadata addresses elsewhere
(100.100.100.200, fd00:ec2::254, Azure's 168.63.129.16); carrier-grade NAT (100.64/10)
and the IETF protocol block (192.0.0/24); unspecified, multicast and reserved addresses;
and the service itself (the addresses of SITE_URL's host). IPv6 addresses that carry an
IPv4 one (::ffff:a.b.c.d, 6to4 2002::/16, Teredo 2001::/32) are judged by the IPv4
address they reach. Private networks (10/8, 172.16/12,
192.168/16) are allowed: back-office systems of a local government live there.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from integrations.targets.base import DeliveryError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "100.100.100.200", "fd00:ec2::254", "168.63.129.16")
)
# Not private, not public: shared address space of carriers (RFC 6598) and the IETF
# protocol assignments (RFC 6890), neither a back office of a local government.
REFUSED_NETWORKS = (
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("192.0.0.0/24"),
)


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # as written in the URL (the Host header, TLS SNI and certificate name)
    port: int
    path: str  # path and query
    address: str  # the checked IP address the connection goes to


def destination_resolve(url: str) -> Destination:
    """Check `url` and resolve its host; raises DeliveryError (permanent for an address
    that is refused, worth a retry when the name does not resolve now)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError("bad_url", permanent=True)
    if parts.username or parts.password:
        raise DeliveryError("bad_url", permanent=True)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    site_host = (urlsplit(settings.SITE_URL).hostname or "").lower().rstrip(".")
    if parts.hostname.lower().rstrip(".") == site_host and not _loopback_name(site_host):
        raise DeliveryError("refused_address:self", permanent=True)
    addresses = _resolve(parts.hostname, port)
    for address in addresses:
        problem = address_problem(address, port, parts.hostname)
        if problem:
            raise DeliveryError(f"refused_address:{problem}", permanent=True)
    if parts.scheme == "http" and not all(a.is_loopback for a in addresses):
        # In clear text only on this machine (as the YAML check says of literal URLs).
        raise DeliveryError("refused_address:http_not_https", permanent=True)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Destination(parts.scheme, parts.hostname, port, path, str(addresses[0]))


def _loopback_name(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise DeliveryError("dns") from None
    found: list[IPAddress] = []
    for info in infos:
        address = _plain(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        if address not in found:
            found.append(address)
    if not found:
        raise DeliveryError("dns")
    return found


def _plain(address: IPAddress) -> IPAddress:
    """An IPv4 address carried in IPv6 is judged as the IPv4 one: mapped
    (::ffff:127.0.0.1), 6to4 (2002:7f00:1::) and Teredo (2001:0::, the client's address
    obfuscated in the last 32 bits)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]
    return address


def address_problem(address: IPAddress, port: int, host: str) -> str:
    """Why a connection to `address` is refused ("" when it is allowed)."""
    address = _plain(address)
    site = urlsplit(settings.SITE_URL)
    site_port = site.port or (443 if site.scheme == "https" else 80)
    if address in METADATA_ADDRESSES:
        return "metadata"
    if address.is_link_local:
        return "link_local"
    if address.is_loopback:
        if not settings.DELIVERY_ALLOW_LOOPBACK:
            return "loopback"
        if port == site_port and _is_site(address, host, site.hostname or ""):
            return "self"
        return ""
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "reserved"
    if any(address in network for network in REFUSED_NETWORKS):
        return "reserved"
    if _is_site(address, host, site.hostname or ""):
        return "self"
    return ""


def _is_site(address: IPAddress, host: str, site_host: str) -> bool:
    if not site_host:
        return False
    if host.lower().rstrip(".") == site_host.lower().rstrip("."):
        return True
    try:
        site_addresses = {
            _plain(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
            for info in socket.getaddrinfo(site_host, None, type=socket.SOCK_STREAM)
        }
    except (socket.gaierror, UnicodeError):
        return False
    return address in site_addresses
