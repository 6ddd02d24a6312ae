"""The address a request came from, as the audit trail records it (docs/audit.md, "Addresses").

The client's own address is REMOTE_ADDR. Behind a reverse proxy REMOTE_ADDR is the proxy's, and the
client's is in X-Forwarded-For; but anybody can send that header, so it is read only when the
request came from a proxy named in TRUSTED_PROXIES, and then from the right, skipping the trusted
proxies: the first address left is the one the outermost trusted proxy saw."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def client_address(request) -> str | None:
    """The client's address, or None when the request has no readable one."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    remote = _address(meta.get("REMOTE_ADDR") or "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if remote is None or not _trusted(remote, networks):
        return str(remote) if remote else None
    forwarded = [_address(part) for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed(forwarded):
        if address is None:
            break  # a part that is no address: what lies left of it cannot be trusted
        if not _trusted(address, networks):
            return str(address)
    return str(remote)
