"""Where a batch may call back: public HTTPS hosts only, never this cloud's own network.

A callback URL is checked twice: as written, when the batch is submitted, and as resolved, when the
webhook is sent (a name may resolve elsewhere by then: DNS rebinding). Both use `address_problem`.
"""

import ipaddress
import re
from urllib.parse import urlsplit

# Names that reach a cloud's internal services (instance metadata above all) whatever they resolve to.
_INTERNAL_NAMES = ("metadata", "instance-data")
_INTERNAL_SUFFIXES = (".internal", ".local", ".localhost", ".localdomain", ".home.arpa")
_LOOPBACK_NAMES = ("localhost",)
# Hosts that resolvers read as IPv4 although they are not dotted quads: 2130706433, 0x7f.1, 017.0.0.1.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$")


def address_problem(address: str, allow_loopback: bool) -> str | None:
    """Why a webhook may not go to this IP address, or None for a public one (or loopback, when allowed)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_loopback else "must not be a loopback address"
    if not ip.is_global or ip.is_multicast:
        return "must be a public address (not private, link-local, reserved or metadata)"
    return None


def _host_problem(host: str, allow_loopback: bool) -> str | None:
    try:
        return address_problem(host, allow_loopback)
    except ValueError:
        pass  # a name, not an address literal
    name = host.rstrip(".")
    if _NUMERIC_HOST.match(name):
        return "must be a host name or a plain IP address"
    if name in _LOOPBACK_NAMES:
        return None if allow_loopback else "must not be a loopback host"
    if "." not in name or name in _INTERNAL_NAMES or name.endswith(_INTERNAL_SUFFIXES):
        return "must be a public host name"
    return None


def callback_problem(url: str, allow_loopback_http: bool) -> str | None:
    """Why a callback URL is not acceptable, or None: https to a public host; http to loopback if allowed."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("http", "https"):
        return "must be an absolute https URL"
    if "@" in parts.netloc:
        return "must not contain credentials"
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError:
        return "has an invalid port"
    problem = _host_problem(host, allow_loopback_http)
    if problem:
        return problem
    if parts.scheme == "https" or (allow_loopback_http and is_loopback_host(host)):
        return None
    return "must be an https URL" + (" (or http to a loopback host)" if allow_loopback_http else "")


def is_loopback_host(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
