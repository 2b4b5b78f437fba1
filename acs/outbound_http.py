"""HTTP to an address someone outside gave us (partner webhook endpoints), pinned to the
address that was checked.

Checking that a name resolves to a public address and then letting the HTTP client resolve it
again leaves a gap: a DNS answer that changes in between (a short TTL, "DNS rebinding") sends
the request to this machine or the private network after all. So the name is resolved once,
every address it has is checked, and the connection goes to one of those addresses, while
the request still names the host: the Host header, the TLS server name (SNI) and the
certificate check are all for the name in the URL, as they would be without the pin.

How: a requests adapter whose connection pool is keyed by the checked address, with urllib3's
`server_hostname` set to the name (requests' documented hook for this,
`HTTPAdapter.build_connection_pool_key_attributes`). The session ignores proxy variables from
the environment: a proxy would resolve the name again. Redirects are never followed.

The `advocate` library did this for requests, but its last release (1.0.0, 2020) requires
urllib3 < 2 and pyOpenSSL, and we run urllib3 2; this is the same idea on requests' public hook.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

if TYPE_CHECKING:
    from requests import PreparedRequest
    from requests._types import CertType, VerifyType

DEFAULT_PORTS = {"https": 443, "http": 80}


class UnsafeAddress(Exception):
    """The URL is not one we send to (a bad scheme, or a host on a private network)."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]  # every address the name had, all of them checked

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def _parse(url: str, *, allow_private: bool) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_private and scheme == "http"):
        raise UnsafeAddress("The endpoint must use https.")
    if not parts.hostname:
        raise UnsafeAddress("The endpoint has no host.")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise UnsafeAddress("The endpoint's port is not a port.") from exc
    return scheme, parts.hostname, port


def check(url: str, *, allow_private: bool) -> None:
    """Refuse a URL we would not send to: not https, or a host with any address that is not
    public. With `allow_private`, http and every address are allowed, and the name need not
    resolve yet (a partner's staging box)."""
    if allow_private:
        _parse(url, allow_private=True)
    else:
        resolve(url, allow_private=False)


def resolve(url: str, *, allow_private: bool) -> Destination:
    """Resolve the URL's host once and check every address it has: public (globally routable)
    only, over https only, unless `allow_private` (then also http and any address)."""
    scheme, host, port = _parse(url, allow_private=allow_private)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeAddress(f"The host does not resolve ({exc.strerror or exc}).") from exc
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeAddress("The host does not resolve.")
    if not allow_private:
        for address in addresses:
            if not ipaddress.ip_address(address).is_global:
                raise UnsafeAddress("The host resolves to a private or local address.")
    return Destination(scheme=scheme, host=host, port=port, addresses=addresses)


class _PinnedAdapter(HTTPAdapter):
    """Connects to `address`; the URL's host stays the TLS server name and the name checked
    against the certificate."""

    def __init__(self, address: str, host: str) -> None:
        self._address, self._host = address, host
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(
        self, request: PreparedRequest, verify: VerifyType, cert: CertType = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        host_params["host"] = self._address
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = self._host
        return host_params, pool_kwargs


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the attempt failed before a connection was made (nothing was sent)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectTimeout) or isinstance(
        reason, NewConnectionError | ConnectTimeoutError
    )


class PinnedSession:
    """Requests to one URL's host over keep-alive connections to an address `resolve`
    checked (the name is resolved and checked once, when the session opens: a batch of
    deliveries to one endpoint shares both). Use as a context manager; `post` behaves as
    `post()` below does."""

    def __init__(self, url: str, *, allow_private: bool) -> None:
        self.destination = resolve(url, allow_private=allow_private)
        self._index = 0
        self._session: requests.Session | None = None

    def __enter__(self) -> PinnedSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _current(self) -> requests.Session:
        if self._session is None:
            session = requests.Session()
            session.trust_env = False  # no proxy from the environment: it would resolve again
            adapter = _PinnedAdapter(self.destination.addresses[self._index], self.destination.host)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._session = session
        return self._session

    def post(
        self,
        url: str,
        *,
        body: bytes,
        headers: dict[str, str],
        timeout: float,
        verify: bool | str = True,
    ) -> requests.Response:
        """POST to `url` (on the checked host); the next checked address only when the
        current one could not be connected to (nothing was sent)."""
        if urlsplit(url).hostname != self.destination.host:
            raise UnsafeAddress("The URL is not on the host this session checked.")
        headers = {**headers, "Host": self.destination.host_header}
        while True:
            try:
                return self._current().post(
                    url,
                    data=body,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                    verify=verify,
                )
            except requests.ConnectionError as exc:
                last = self._index == len(self.destination.addresses) - 1
                if last or not _never_connected(exc):
                    raise
                self.close()
                self._index += 1


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    allow_private: bool,
    verify: bool | str = True,
) -> requests.Response:
    """POST `body` to `url`, connecting only to an address `resolve` checked.

    The addresses are tried in the resolver's order, the next only when the previous one could
    not be connected to; requests' exceptions reach the caller as they would from
    `requests.post`, and UnsafeAddress when the URL is refused."""
    with PinnedSession(url, allow_private=allow_private) as session:
        return session.post(url, body=body, headers=headers, timeout=timeout, verify=verify)
