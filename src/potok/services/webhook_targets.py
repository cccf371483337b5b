"""Whether Potok may call a receiver's address: receivers are outside, so the loopback,
private, link-local (cloud metadata), multicast and reserved ranges are refused unless a
setting allows them (local trials and tests)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL = 2000


def url_problem(url: str) -> str | None:
    """What is wrong with the URL's shape, or None."""
    if len(url) > MAX_URL:
        return f"must be at most {MAX_URL} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return "is not a URL"
    if parts.scheme not in {"http", "https"}:
        return "must start with https:// (or http://)"
    if not parts.hostname:
        return "names no host"
    if parts.username or parts.password:
        return "must not carry a user name or password; the signature proves who calls"
    return None


def address_problem(url: str, *, allow_private: bool) -> str | None:
    """Why Potok must not call this URL's host, or None. Names are resolved, and every
    address they resolve to must be public."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return f"host '{host}' does not resolve"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not allow_private and not _public(address):
            return (
                f"host '{host}' is a private, loopback or link-local address ({address}); "
                "receivers must be reachable on the internet"
            )
    return None


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
