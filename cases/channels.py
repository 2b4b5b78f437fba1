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
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.dateparse import parse_datetime


class ChannelError(Exception):
    pass


class TransientError(ChannelError):
    """Try again later."""


class PermanentError(ChannelError):
    """Do not try again: record the reason."""


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

    def _request(self, method: str, url: str, **kwargs):
        import requests

        try:
            response = requests.request(
                method,
                url,
                auth=(self.account_sid, self.auth_token),
                timeout=self.timeout,
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise TransientError(type(exc).__name__) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            try:
                detail = response.json()
                reason = f"{detail.get('code', '')} {detail.get('message', '')}".strip()
            except ValueError:
                reason = ""
            raise PermanentError(f"HTTP {response.status_code} {reason}".strip()[:400])
        try:
            return response.json()
        except ValueError as exc:
            raise TransientError("The provider's answer was not JSON.") from exc

    def send(self, *, to: str, body: str, status_callback: str = "") -> str:
        data = {"To": to, "From": self.from_number, "Body": body}
        if status_callback:
            data["StatusCallback"] = status_callback
        answer = self._request("POST", self.messages_url, data=data)
        sid = answer.get("sid")
        if not sid:
            raise TransientError("The provider did not return a message id.")
        return str(sid)

    def find_sent(self, *, to: str, body: str, since: datetime) -> str | None:
        """The id of a message to `to` with this body created at or after `since`, if any."""
        # No DateSent filter: a message still queued at the provider has no send date yet.
        # The list comes newest first; one number gets few texts, so a page is enough.
        answer = self._request("GET", self.messages_url, params={"To": to, "PageSize": 100})
        for message in answer.get("messages", []):
            created = _provider_time(message.get("date_created"))
            if message.get("body") == body and (created is None or created >= since):
                return str(message.get("sid"))
        return None


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
