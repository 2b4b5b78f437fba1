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
_pools: dict[int, object] = {}
_sessions_lock = threading.Lock()


def http_pool():
    """This worker process's urllib3 pool: keep-alive connections to the provider, as many as
    the sender's concurrency (one pool per process: after a fork the child makes its own).
    urllib3 (what requests is built on) directly: a send costs a quarter of the CPU it costs
    through requests' sessions (docs/benchmarks.md), and the sender makes thousands."""
    import certifi
    import urllib3

    pid = os.getpid()
    pool = _pools.get(pid)
    if pool is None:
        with _sessions_lock:
            pool = _pools.get(pid)
            if pool is None:
                _pools.clear()  # a parent's, inherited by fork: never shared
                pool = urllib3.PoolManager(
                    num_pools=4,
                    maxsize=max(1, settings.NOTIFICATION_SEND_CONCURRENCY),
                    retries=False,
                    ca_certs=certifi.where(),
                )
                _pools[pid] = pool
    return pool


def _failure(exc: Exception) -> str:
    """The name a failure is recorded by (the names requests gives the same failures; the
    sender treats ReadTimeout and ConnectionError as "the text may have gone out")."""
    from urllib3 import exceptions as e

    if isinstance(exc, e.NewConnectionError | e.ProtocolError):
        return "ConnectionError"
    if isinstance(exc, e.ConnectTimeoutError):
        return "ConnectTimeout"
    if isinstance(exc, e.ReadTimeoutError):
        return "ReadTimeout"
    if isinstance(exc, e.SSLError):
        return "SSLError"
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
        import urllib3

        login = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        headers = {"Authorization": f"Basic {login}", "Accept": "application/json"}
        options = {
            "headers": headers,
            "timeout": urllib3.Timeout(connect=self.timeout, read=self.timeout),
            "redirect": False,
            "retries": False,
        }
        try:
            if method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                response = http_pool().request(method, url, body=urlencode(fields), **options)
            else:
                response = http_pool().request(method, url, fields=fields, **options)
        except urllib3.exceptions.HTTPError as exc:
            raise TransientError(_failure(exc)) from exc
        if response.status == 429:
            raise Throttled("HTTP 429", _retry_after(response.headers.get("Retry-After")))
        if response.status >= 500:
            raise TransientError(f"HTTP {response.status}")
        if response.status >= 400:
            try:
                detail = json.loads(response.data)
                reason = f"{detail.get('code', '')} {detail.get('message', '')}".strip()
            except (ValueError, AttributeError):
                reason = ""
            raise PermanentError(f"HTTP {response.status} {reason}".strip()[:400])
        try:
            return json.loads(response.data)
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

    def _take(self, second: int) -> tuple[float, int]:
        """(the pause in force until, texts started in this second, this one included)."""
        client = self._redis()
        if client is not None:
            try:
                pipe = client.pipeline(transaction=False)
                pipe.get(self.key + ":pause")
                pipe.incr(f"{self.key}:{second}")
                pipe.expire(f"{self.key}:{second}", 5)
                pause, count, _ = pipe.execute()
                return float(pause or 0), int(count)
            except Exception:  # Redis down: keep the limit per process meanwhile
                logger.warning("the SMS rate is kept per process: Redis did not answer")
        with _sessions_lock:
            counts = _local_counts.setdefault(self.key, {})
            for old in [s for s in counts if s < second]:
                del counts[old]
            counts[second] = counts.get(second, 0) + 1
            return _local_pause.get(self.key, 0.0), counts[second]

    def acquire(self, deadline: float) -> bool:
        """Wait for a slot to send one text; False when none comes before `deadline`
        (time.time())."""
        while True:
            now = time.time()
            if now >= deadline:
                return False
            second = int(now)
            pause, count = self._take(second)
            if pause > now:
                if pause >= deadline:
                    return False
                time.sleep(pause - now)
                continue
            if self.rate <= 0 or count <= self.rate:
                return True
            time.sleep(max(second + 1 - time.time(), 0) + 0.001)

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
