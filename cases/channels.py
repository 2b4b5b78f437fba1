"""Channels behind one interface: SMS through a Twilio-compatible REST API, e-mail through
Django's e-mail backend.

`send(...)` returns the provider's message id or raises `TransientError` (worth retrying:
timeouts, 5xx, 429) or `PermanentError` (not: a bad number, a refused account). For SMS,
`find_sent(...)` asks the provider whether a message already went out, so that a lease taken
over from a dead worker does not text the same person twice.

The provider is configured by SMS_API_BASE_URL, SMS_ACCOUNT_SID, SMS_AUTH_TOKEN and
SMS_FROM_NUMBER: Twilio itself (https://api.twilio.com), a compatible provider, or a local
receiver in tests and development.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.dateparse import parse_datetime


class ChannelError(Exception):
    pass


class TransientError(ChannelError):
    """Try again later."""


class PermanentError(ChannelError):
    """Do not try again: record the reason."""


class Throttled(TransientError):
    """The provider asked us to slow down (HTTP 429): nothing was sent; try again after
    `retry_after` seconds, without counting an attempt."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


logger = logging.getLogger(__name__)
_local = threading.local()
_sessions_lock = threading.Lock()


class _Connection:
    """A sending thread's keep-alive connection to the provider. Each thread of a sender has
    its own, so they make a pool of keep-alive connections, as many as the sender's threads;
    after a fork the child makes its own.

    HTTP/1.1 written by hand, for a sender's CPU (docs/benchmarks.md, "Issue 24, fourth
    step"): a request is one write (http.client writes the headers and the body apart, and
    parses each answer's headers with the e-mail parser), with TCP_NODELAY, and the answer is
    read from one buffered reader kept with the connection. It reads what a provider's API
    answers: a status line, headers, and a body of Content-Length bytes, chunked, or up to the
    close; 1xx answers are skipped. Failures are OSError or http.client's exceptions, as
    before."""

    MAX_LINE = 65536
    MAX_HEADERS = 100

    def __init__(self, scheme: str, host: str, port: int | None, timeout: float):
        self.scheme, self.host, self.timeout = scheme, host, timeout
        self.port = port or (443 if scheme == "https" else 80)
        default = 443 if scheme == "https" else 80
        self.host_header = host if self.port == default else f"{host}:{self.port}"
        self.sock: Any = None  # a socket, or a TLS socket over one
        self.reader: Any = None  # its buffered reader
        self.pid = os.getpid()

    def connect(self) -> None:
        import socket

        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.scheme == "https":
                sock = _tls_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock, self.reader = sock, sock.makefile("rb")

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        if self.sock is not None:
            self.sock.close()
        self.sock = self.reader = None

    def stale(self) -> bool:
        """The provider closed it while idle (or sent what nobody asked for): not to be used,
        lest a request be lost on a connection already gone."""
        import select

        if self.sock is None:
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def request(self, method: str, target: str, body: str | None, headers: dict):
        """(status, headers with lower-case names, data) of one request; raises OSError or
        http.client's errors, the connection closed."""
        if self.stale():
            self.close()
        if self.sock is None:
            try:
                self.connect()
            except BaseException as exc:
                self.close()
                raise _NotConnected() from exc
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        data = body.encode() if body is not None else b""
        if body is not None:
            lines.append(f"Content-Length: {len(data)}")
        try:
            self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)
            status, answer_headers, answer, will_close = self._answer()
        except BaseException:
            self.close()
            raise
        if will_close:
            self.close()
        return status, answer_headers, answer

    def _line(self) -> bytes:
        import http.client

        line = self.reader.readline(self.MAX_LINE + 1)
        if len(line) > self.MAX_LINE:
            raise http.client.LineTooLong("header line")
        return line

    def _answer(self) -> tuple[int, dict[str, str], bytes, bool]:
        import http.client

        while True:
            line = self._line()
            if not line:
                raise http.client.RemoteDisconnected("The provider closed the connection.")
            parts = line.decode("latin-1").split(None, 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
                raise http.client.BadStatusLine(line[:80].decode("latin-1", "replace"))
            version, status = parts[0], int(parts[1])
            headers: dict[str, str] = {}
            for _ in range(self.MAX_HEADERS + 1):
                line = self._line()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            else:
                raise http.client.HTTPException("Too many headers.")
            if not 100 <= status < 200:
                break
        close = headers.get("connection", "").lower()
        will_close = close == "close" or (version == "HTTP/1.0" and close != "keep-alive")
        if status in (204, 304):
            return status, headers, b"", will_close
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return status, headers, self._chunked(), will_close
        length = headers.get("content-length")
        if length is None:
            return status, headers, self.reader.read(), True  # a body up to the close
        if not length.strip().isdigit():
            raise http.client.HTTPException("Bad Content-Length.")
        expected = int(length)
        data = self.reader.read(expected)
        if len(data) < expected:
            raise http.client.IncompleteRead(data, expected - len(data))
        return status, headers, data, will_close

    def _chunked(self) -> bytes:
        import http.client

        parts: list[bytes] = []
        while True:
            size_line = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise http.client.HTTPException("Bad chunk size.") from exc
            if size == 0:
                while self._line() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return b"".join(parts)
            chunk = self.reader.read(size)
            if len(chunk) < size:
                raise http.client.IncompleteRead(b"".join(parts) + chunk, size - len(chunk))
            parts.append(chunk)
            self._line()  # the CRLF after the chunk


_tls: list = []


def _tls_context():
    """One verifying TLS context for every connection (certifi's roots)."""
    if not _tls:
        import ssl

        import certifi

        _tls.append(ssl.create_default_context(cafile=certifi.where()))
    return _tls[0]


# Connections a sending thread keeps, one per provider address it sent to lately.
KEPT_CONNECTIONS = 4


class _NotConnected(Exception):
    """The connection could not be made: no request left (the cause says why)."""


def _connection(url: str, timeout: float) -> tuple[_Connection, str]:
    """This thread's connection to `url`'s host, and the request target for `url`."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    key = (parts.scheme, parts.hostname, parts.port, timeout)
    held = getattr(_local, "connections", None)
    if held is None or held.get("pid") != os.getpid():
        held = _local.connections = {"pid": os.getpid()}  # a parent's, inherited by fork
    connection = held.get(key)
    if connection is None:
        for old in [k for k in held if k != "pid"][: -(KEPT_CONNECTIONS - 1) or None]:
            held.pop(old).close()  # a provider no longer used (settings changed)
        connection = held[key] = _Connection(parts.scheme, parts.hostname, parts.port, timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return connection, target


def _failure(exc: BaseException, connected: bool) -> str:
    """The name a failure is recorded by (the names requests gives the same failures; the
    sender treats ReadTimeout and ConnectionError as "the text may have gone out")."""
    import ssl

    if isinstance(exc, ssl.SSLError):
        return "SSLError"
    if isinstance(exc, TimeoutError):
        return "ReadTimeout" if connected else "ConnectTimeout"
    return "ConnectionError"


class NotConfigured(PermanentError):
    pass


@dataclass(frozen=True)
class SmsProvider:
    base_url: str
    account_sid: str
    auth_token: str
    from_number: str
    timeout: float = 10.0

    @classmethod
    def from_settings(cls) -> SmsProvider:
        if not (settings.SMS_API_BASE_URL and settings.SMS_ACCOUNT_SID and settings.SMS_AUTH_TOKEN):
            raise NotConfigured("SMS is not configured (SMS_API_BASE_URL, SMS_ACCOUNT_SID, ...).")
        return cls(
            base_url=settings.SMS_API_BASE_URL.rstrip("/"),
            account_sid=settings.SMS_ACCOUNT_SID,
            auth_token=settings.SMS_AUTH_TOKEN,
            from_number=settings.SMS_FROM_NUMBER,
            timeout=settings.SMS_TIMEOUT_SECONDS,
        )

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def _request(self, method: str, url: str, fields: dict):
        import http.client

        login = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        headers = {"Authorization": f"Basic {login}", "Accept": "application/json"}
        body = None
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(fields)
        else:
            url = f"{url}?{urlencode(fields)}"
        connection, target = _connection(url, self.timeout)
        try:
            status, answer_headers, data = connection.request(method, target, body, headers)
        except _NotConnected as exc:
            raise TransientError(_failure(exc.__cause__, connected=False)) from exc
        except (OSError, http.client.HTTPException) as exc:
            # The request may have reached the provider: an answer that never came.
            raise TransientError(_failure(exc, connected=True)) from exc
        if status == 429:
            raise Throttled("HTTP 429", _retry_after(answer_headers.get("retry-after")))
        if status >= 500:
            raise TransientError(f"HTTP {status}")
        if status >= 400:
            try:
                detail = json.loads(data)
                reason = f"{detail.get('code', '')} {detail.get('message', '')}".strip()
            except (ValueError, AttributeError):
                reason = ""
            raise PermanentError(f"HTTP {status} {reason}".strip()[:400])
        try:
            return json.loads(data)
        except ValueError as exc:
            raise TransientError("The provider's answer was not JSON.") from exc

    def send(self, *, to: str, body: str, status_callback: str = "") -> str:
        data = {"To": to, "From": self.from_number, "Body": body}
        if status_callback:
            data["StatusCallback"] = status_callback
        answer = self._request("POST", self.messages_url, data)
        sid = answer.get("sid")
        if not sid:
            raise TransientError("The provider did not return a message id.")
        return str(sid)

    def find_sent(self, *, to: str, body: str, since: datetime) -> str | None:
        """The id of a message to `to` with this body created at or after `since`, if any."""
        # No DateSent filter: a message still queued at the provider has no send date yet.
        # The list comes newest first; one number gets few texts, so a page is enough.
        answer = self._request("GET", self.messages_url, {"To": to, "PageSize": 100})
        for message in answer.get("messages", []):
            created = _provider_time(message.get("date_created"))
            if message.get("body") == body and (created is None or created >= since):
                return str(message.get("sid"))
        return None


def _retry_after(value) -> float:
    """Seconds from a Retry-After header (seconds only; anything else: 1 s), at most 60."""
    try:
        return min(max(float(value), 0.1), 60.0)
    except (TypeError, ValueError):
        return 1.0


class SendRate:
    """The provider's limit of texts per second per sending number, shared by every worker
    through Redis: a counter per second (at most `rate` texts start in any one second), and a
    pause that a 429 sets for everyone. Without Redis (or when it fails) each process keeps
    the limit on its own."""

    def __init__(self, provider: SmsProvider, rate: int | None = None):
        self.rate = settings.SMS_RATE_PER_SECOND if rate is None else rate
        sender = f"{provider.base_url}|{provider.account_sid}|{provider.from_number}"
        self.key = "acs:sms-rate:" + hashlib.sha256(sender.encode()).hexdigest()[:16]

    def _redis(self):
        client = getattr(_local, "redis", None)
        if client is None and settings.REDIS_URL:
            import redis

            client = _local.redis = redis.Redis.from_url(
                settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
            )
        return client

    def _take(self, second: int, n: int = 1) -> tuple[float, int]:
        """(the pause in force until, texts started in this second, these `n` included)."""
        client = self._redis()
        if client is not None:
            try:
                pipe = client.pipeline(transaction=False)
                pipe.get(self.key + ":pause")
                pipe.incrby(f"{self.key}:{second}", n)
                pipe.expire(f"{self.key}:{second}", 5)
                pause, count, _ = pipe.execute()
                return float(pause or 0), int(count)
            except Exception:  # Redis down: keep the limit per process meanwhile
                logger.warning("the SMS rate is kept per process: Redis did not answer")
        with _sessions_lock:
            counts = _local_counts.setdefault(self.key, {})
            for old in [s for s in counts if s < second]:
                del counts[old]
            counts[second] = counts.get(second, 0) + n
            return _local_pause.get(self.key, 0.0), counts[second]

    def acquire(self, deadline: float, n: int = 1) -> int:
        """Wait for slots to send up to `n` texts, taken in one round trip to Redis; how many
        were granted (1 to `n`), or 0 when none comes before `deadline` (time.time()). A
        sender asks for a few at a time, so a text does not cost a round trip of its own."""
        while True:
            now = time.time()
            if now >= deadline:
                return 0
            second = int(now)
            pause, count = self._take(second, n)
            if pause > now:
                if pause >= deadline:
                    return 0
                time.sleep(pause - now)
                continue
            if self.rate <= 0:
                return n
            granted = min(n, self.rate - (count - n))
            if granted > 0:
                return granted
            time.sleep(max(second + 1 - time.time(), 0) + 0.001)

    def paused_here(self) -> bool:
        """Whether a 429 seen in this process asks every sender here to hold off now (read
        from memory, no round trip: between slots taken together)."""
        return _local_pause.get(self.key, 0.0) > time.time()

    def pause(self, seconds: float) -> None:
        """Everyone holds off for `seconds` (the provider answered 429)."""
        until = time.time() + seconds
        with _sessions_lock:
            _local_pause[self.key] = max(_local_pause.get(self.key, 0.0), until)
        client = self._redis()
        if client is not None:
            try:
                client.set(self.key + ":pause", until, px=max(int(seconds * 1000), 1))
            except Exception:
                logger.warning("the SMS pause is kept per process: Redis did not answer")


_local_counts: dict[str, dict[int, int]] = {}
_local_pause: dict[str, float] = {}


def _provider_time(value) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(str(value))
    if parsed is not None:
        return parsed
    from email.utils import parsedate_to_datetime  # Twilio writes RFC 2822 dates

    try:
        return parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None


def request_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by each POST
    parameter's name and value, sorted by name."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    mac = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def signature_valid(auth_token: str, url: str, params: dict[str, str], given: str) -> bool:
    if not (auth_token and given):
        return False
    return hmac.compare_digest(request_signature(auth_token, url, params), given)


def send_email(*, to: str, subject: str, body: str) -> str:
    """Send through Django's e-mail backend; returns a local id (SMTP gives none)."""
    try:
        sent = EmailMessage(subject=subject, body=body, to=[to]).send()
    except OSError as exc:  # SMTP down, refused, timed out
        raise TransientError(type(exc).__name__) from exc
    if not sent:
        raise TransientError("The e-mail backend sent nothing.")
    return ""
