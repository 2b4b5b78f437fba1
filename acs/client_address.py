"""Who is on the other end: the client's address, behind the reverse proxies we trust.

Behind a TLS proxy every connection comes from the proxy, so REMOTE_ADDR alone makes everyone
one client: one address's sign-in limit, one address in the audit trail. The proxy names the
client in `X-Forwarded-For`, but anyone can send that header, so it is believed only from
the proxies named in TRUSTED_PROXIES (addresses or networks; empty, the default, believes
nobody and the header is ignored).

`ClientAddressMiddleware`, first in MIDDLEWARE, puts the answer in REMOTE_ADDR once, so every
reader agrees: allauth's rate limits (ALLAUTH_TRUSTED_PROXY_COUNT = 0: it reads REMOTE_ADDR),
DRF's throttles (NUM_PROXIES = 0: the same), the audit trail (`acs.audit.client_ip`) and
anything else of Django's. gunicorn believes X-Forwarded-Proto from the same list
(`acs/gunicorn_conf.py`).

The header is read from the right: each proxy appends the address it saw. Walking back from
the connection, every address that is a trusted proxy is skipped, and the first one that is
not is the client; what lies to its left was written by the client and is never believed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Parse TRUSTED_PROXIES; ValueError on an entry that is not an address or a network.

    Strict, as gunicorn's forwarded_allow_ips is: "10.0.0.1/24" (host bits set) is a mistake
    for "10.0.0.0/24", and both must accept exactly the same list."""
    return tuple(ipaddress.ip_network(entry.strip()) for entry in entries if entry.strip())


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return trusted_networks(entries)


def _address(value: str) -> str | None:
    """An address as written in REMOTE_ADDR or X-Forwarded-For ("[::1]:443" and "1.2.3.4:80"
    included), normalized; None for anything else ("unknown", a name, garbage)."""
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _is_trusted(address: str | None, networks: tuple[Network, ...]) -> bool:
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip.version == net.version and ip in net for net in networks)


def address_in(address: str, entries: Iterable[str]) -> bool:
    """Whether `address` (a client's, as REMOTE_ADDR holds it) is in one of the networks of
    `entries` (addresses or networks, as TRUSTED_PROXIES is written)."""
    return _is_trusted(_address(address), _networks(tuple(entries)))


def client_address(meta: Mapping[str, Any]) -> str:
    """The client's address for a request's META (see the module's docstring)."""
    peer: str = meta.get("REMOTE_ADDR", "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    address = _address(peer)
    if address is None or not _is_trusted(address, networks):
        return peer
    forwarded: str = meta.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",")):
        hop_address = _address(hop)
        if hop_address is None:
            # A trusted proxy wrote something that is not an address: the last address
            # known to be real is that proxy's.
            break
        address = hop_address
        if not _is_trusted(address, networks):
            break
    return address


class ClientAddressMiddleware:
    """Sets REMOTE_ADDR to the client's address, before anything else reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request.META["REMOTE_ADDR"] = client_address(request.META)
        return self.get_response(request)
