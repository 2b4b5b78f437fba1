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
    """A sending thread's keep-alive connection to the provider (http.client: a send costs
    about half the CPU it costs through urllib3's pool, and two thirds less than through
    requests; docs/benchmarks.md). Each thread of a sender has its own, so they make a pool
    of keep-alive connections, as many as the sender's threads; after a fork the child makes
    its own."""

    def __init__(self, scheme: str, host: str, port: int | None, timeout: float):
        import http.client

        if scheme == "https":
            import ssl

            import certifi

            context = ssl.create_default_context(cafile=certifi.where())
            self.http = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        else:
            self.http = http.client.HTTPConnection(host, port, timeout=timeout)
        self.pid = os.getpid()

    def stale(self) -> bool:
        """The provider closed it while idle (or sent what nobody asked for): not to be used,
        lest a request be lost on a connection already gone."""
        import select

        sock = self.http.sock
        if sock is None:
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def request(self, method: str, target: str, body: str | None, headers: dict):
        """(status, headers, data) of one request; raises OSError or http.client's errors,
        the connection closed."""
        if self.stale():
            self.http.close()
        if self.http.sock is None:
            try:
                self.http.connect()
            except BaseException as exc:
                self.http.close()
                raise _NotConnected() from exc
        try:
            self.http.request(method, target, body=body, headers=headers)
            response = self.http.getresponse()
            data = response.read()
        except BaseException:
            self.http.close()
            raise
        if response.will_close:
            self.http.close()
        return response.status, response.headers, data


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
            held.pop(old).http.close()  # a provider no longer used (settings changed)
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
            raise Throttled("HTTP 429", _retry_after(answer_headers.get("Retry-After")))
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
