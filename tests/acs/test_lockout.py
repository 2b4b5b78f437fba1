"""Sign-in throttling and lockout (allauth's ACCOUNT_RATE_LIMITS["login_failed"], by default
"10/m/ip,5/5m/key"), audited and logged without the password or the typed login.

Each test signs in from an address of its own and uses fresh usernames, so that the limits
(kept in the real cache, Redis in CI) never carry over between tests or runs.
"""

import logging
import time
import uuid

import pytest
from allauth.core.internal import ratelimit as allauth_ratelimit
from django.conf import settings

from acs.models import AuditAction, AuditEvent
from acs.signin import login_digest
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
REFUSED = "Too many failed login attempts"
WRONG = "Wrong-Password-Typed-1"


def fresh_ip() -> str:
    n = uuid.uuid4().int
    return f"203.0.{n % 250}.{(n >> 8) % 250 + 1}"


def fresh_user(prefix: str):
    return UserFactory(username=f"{prefix}-{uuid.uuid4().hex[:8]}")


def sign_in(client, login, password, ip):
    return client.post(LOGIN_URL, {"login": login, "password": password}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


LOCKOUT_SECONDS = 5 * 60


class RateLimitClock:
    """The clock allauth's rate limits read (`time.time()` in allauth.core.internal.ratelimit).

    The counts are lists of timestamps kept in the cache, and a timestamp stops counting once
    it is older than the window, so moving this clock forward is what the passing of time does
    to them (the cache entry's own expiry only tidies up). It ticks a millisecond per reading,
    as a real clock would: a successful sign-in takes back its own attempt by its timestamp, and
    a stopped clock would give every attempt the same one.
    """

    monotonic = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        self.now += 0.001
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def rate_limit_clock(monkeypatch) -> RateLimitClock:
    clock = RateLimitClock()
    monkeypatch.setattr(allauth_ratelimit, "time", clock)
    return clock


def test_the_limits_are_five_per_account_and_ten_per_address():
    assert settings.ACCOUNT_RATE_LIMITS["login_failed"] == "10/m/ip,5/5m/key"


def test_five_failures_lock_the_account_while_others_from_the_same_address_sign_in(client):
    ip = fresh_ip()
    target, colleague = fresh_user("target"), fresh_user("colleague")

    for _ in range(5):
        response = sign_in(client, target.username, WRONG, ip)
        assert response.status_code == 200 and REFUSED not in response.content.decode()

    # The right password is refused for that account while the window lasts ...
    locked = sign_in(client, target.username, DEFAULT_PASSWORD, ip)
    assert REFUSED in locked.content.decode()
    assert not signed_in(client)
    # ... by any spelling of it, and from any address.
    assert REFUSED in sign_in(client, target.email, DEFAULT_PASSWORD, fresh_ip()).content.decode()
    assert not signed_in(client)

    # Another account from the same address still signs in.
    response = sign_in(client, colleague.username, DEFAULT_PASSWORD, ip)
    assert response.status_code == 302
    assert signed_in(client)


def test_the_lock_still_holds_a_second_before_five_minutes_have_passed(client, rate_limit_clock):
    ip = fresh_ip()
    target = fresh_user("almost")
    locked_at = rate_limit_clock.now

    for _ in range(5):
        sign_in(client, target.username, WRONG, ip)

    rate_limit_clock.advance(LOCKOUT_SECONDS - 1)
    # From a fresh address, so that only the account's own lock can refuse.
    refused = sign_in(client, target.username, DEFAULT_PASSWORD, fresh_ip())
    assert rate_limit_clock.now < locked_at + LOCKOUT_SECONDS
    assert REFUSED in refused.content.decode()
    assert not signed_in(client)


def test_the_lock_lifts_after_five_minutes_and_the_failure_count_starts_over(
    client, rate_limit_clock
):
    ip = fresh_ip()
    target = fresh_user("lifted")

    for _ in range(5):
        sign_in(client, target.username, WRONG, ip)
    assert REFUSED in sign_in(client, target.username, DEFAULT_PASSWORD, ip).content.decode()
    assert not signed_in(client)

    rate_limit_clock.advance(LOCKOUT_SECONDS)
    response = sign_in(client, target.username, DEFAULT_PASSWORD, ip)
    assert response.status_code == 302
    assert signed_in(client)
    client.logout()

    # The five old failures no longer count: four new ones are only failures, and the right
    # password still signs in after them ...
    for _ in range(4):
        response = sign_in(client, target.email, WRONG, ip)
        assert response.status_code == 200 and REFUSED not in response.content.decode()
    assert sign_in(client, target.username, DEFAULT_PASSWORD, ip).status_code == 302
    assert signed_in(client)
    client.logout()

    # ... and a fifth new one locks the account again.
    sign_in(client, target.username, WRONG, ip)
    assert REFUSED in sign_in(client, target.username, DEFAULT_PASSWORD, ip).content.decode()
    assert not signed_in(client)


def test_ten_failures_from_one_address_refuse_that_address(client):
    ip = fresh_ip()
    account = fresh_user("victim")

    for n in range(10):
        response = sign_in(client, f"guess-{uuid.uuid4().hex[:6]}-{n}", WRONG, ip)
        assert REFUSED not in response.content.decode()

    refused = sign_in(client, account.username, DEFAULT_PASSWORD, ip)
    assert REFUSED in refused.content.decode()
    assert not signed_in(client)
    # The account itself is not locked: from another address it signs in.
    assert sign_in(client, account.username, DEFAULT_PASSWORD, fresh_ip()).status_code == 302
    assert signed_in(client)


def test_failures_and_the_lockout_are_audited_on_the_account_without_what_was_typed(client):
    ip = fresh_ip()
    target = fresh_user("audited")

    for _ in range(5):
        sign_in(client, target.username, WRONG, ip)
    sign_in(client, target.username, DEFAULT_PASSWORD, ip)

    events = AuditEvent.objects.filter(target_id=target.public_id).order_by("id")
    assert [e.action for e in events] == [AuditAction.SIGN_IN_FAILED] * 5 + [AuditAction.LOCKED_OUT]
    for event in events:
        assert event.target_type == "responders.user"
        assert event.actor is None
        assert event.ip_address == ip
        stored = f"{event.reason} {event.detail}"
        assert WRONG not in stored and DEFAULT_PASSWORD not in stored
        assert target.username not in stored


def test_logs_name_the_account_by_public_id_and_never_the_login_or_password(client, caplog):
    ip = fresh_ip()
    target = fresh_user("logged")
    typo = f"nobody-{uuid.uuid4().hex[:8]}"

    with caplog.at_level(logging.INFO):
        for _ in range(5):
            sign_in(client, target.username, WRONG, ip)
        sign_in(client, target.username, DEFAULT_PASSWORD, ip)
        sign_in(client, typo, WRONG, ip)

    text = caplog.text
    assert text.count(f"sign-in failed for account {target.public_id}") == 5
    assert f"sign-in refused for account {target.public_id}" in text
    # An unknown login appears only as a keyed digest, the same for the same login.
    assert f"sign-in failed for an unknown login (digest {login_digest(typo)})" in text
    assert login_digest(typo) == login_digest(typo.upper())
    for secret in (target.username, target.email, typo, WRONG, DEFAULT_PASSWORD):
        assert secret not in text
