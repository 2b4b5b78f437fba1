"""The client's address behind a reverse proxy (TRUSTED_PROXIES, acs/client_address.py).

Behind a proxy every connection comes from the proxy. Unless the proxy is trusted, its
X-Forwarded-For is ignored, and so is one sent by anyone else; when it is, the client it names
is the client for allauth's limits, DRF's throttles and the audit trail alike.

The sign-in tests go through allauth's real sign-in page. Like tests/acs/test_lockout.py, each
uses addresses and accounts of its own: the limits live in the real cache.
"""

import importlib
import uuid

import pytest
from allauth.account.adapter import get_adapter
from django.test import RequestFactory
from gunicorn.config import Config
from rest_framework.throttling import BaseThrottle

from acs.audit import client_ip
from acs.client_address import ClientAddressMiddleware, client_address
from acs.models import AuditAction, AuditEvent
from tests.acs.test_lockout import LOGIN_URL, REFUSED, WRONG, fresh_ip, fresh_user, signed_in
from tests.acs.test_settings import run_django
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

PROXIES = "10.20.0.0/16"


def fresh_proxy() -> str:
    """A proxy address of the test's own, inside PROXIES."""
    n = uuid.uuid4().int
    return f"10.20.{n % 250}.{(n >> 8) % 250 + 1}"


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXIES]


def sign_in(client, login, password, *, peer, forwarded_for):
    """A sign-in as the proxy sends it: from its own address, naming the client."""
    return client.post(
        LOGIN_URL,
        {"login": login, "password": password},
        REMOTE_ADDR=peer,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def fail_ten_times(client, *, peer, forwarded_for=fresh_ip):
    """Ten people (each from an address of their own) mistype their logins."""
    for n in range(10):
        response = sign_in(
            client,
            f"guess-{uuid.uuid4().hex[:6]}-{n}",
            WRONG,
            peer=peer,
            forwarded_for=forwarded_for(),
        )
        assert REFUSED not in response.content.decode()


def test_behind_a_trusted_proxy_ten_people_failing_do_not_lock_out_an_eleventh(
    client, behind_proxy
):
    proxy = fresh_proxy()
    fail_ten_times(client, peer=proxy)

    eleventh = fresh_user("eleventh")
    response = sign_in(
        client, eleventh.username, DEFAULT_PASSWORD, peer=proxy, forwarded_for=fresh_ip()
    )
    assert response.status_code == 302
    assert signed_in(client)


def test_behind_a_trusted_proxy_ten_failures_from_one_client_still_refuse_that_client(
    client, behind_proxy
):
    person = fresh_ip()
    fail_ten_times(client, peer=fresh_proxy(), forwarded_for=lambda: person)

    account = fresh_user("same-person")
    refused = sign_in(
        client, account.username, DEFAULT_PASSWORD, peer=fresh_proxy(), forwarded_for=person
    )
    assert REFUSED in refused.content.decode()
    assert not signed_in(client)


def test_behind_a_trusted_proxy_the_account_lock_still_holds_from_every_address(
    client, behind_proxy
):
    proxy = fresh_proxy()
    target = fresh_user("target")
    for _ in range(5):
        sign_in(client, target.username, WRONG, peer=proxy, forwarded_for=fresh_ip())

    locked = sign_in(client, target.email, DEFAULT_PASSWORD, peer=proxy, forwarded_for=fresh_ip())
    assert REFUSED in locked.content.decode()
    assert not signed_in(client)
    # Another account, through the same proxy, signs in.
    colleague = fresh_user("colleague")
    response = sign_in(
        client, colleague.username, DEFAULT_PASSWORD, peer=proxy, forwarded_for=fresh_ip()
    )
    assert response.status_code == 302


def test_behind_a_trusted_proxy_the_audit_trail_records_the_client_not_the_proxy(
    client, behind_proxy
):
    proxy, person = fresh_proxy(), fresh_ip()
    target = fresh_user("audited")

    sign_in(client, target.username, WRONG, peer=proxy, forwarded_for=person)

    event = AuditEvent.objects.get(target_id=target.public_id)
    assert event.action == AuditAction.SIGN_IN_FAILED
    assert event.ip_address == person


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, settings):
    assert settings.TRUSTED_PROXIES == []  # the default
    proxy = fresh_proxy()
    fail_ten_times(client, peer=proxy)

    # Everyone behind the unnamed proxy is one client: the eleventh is refused ...
    eleventh = fresh_user("eleventh")
    refused = sign_in(
        client, eleventh.username, DEFAULT_PASSWORD, peer=proxy, forwarded_for=fresh_ip()
    )
    assert REFUSED in refused.content.decode()
    # ... and the audit trail names the connection's address, not the header's.
    event = AuditEvent.objects.get(target_id=eleventh.public_id)
    assert event.ip_address == proxy


def test_a_client_that_is_not_a_trusted_proxy_cannot_choose_its_address(client, behind_proxy):
    attacker = fresh_ip()  # connects directly, outside PROXIES
    fail_ten_times(client, peer=attacker)  # each time naming another "client"

    account = fresh_user("attacker")
    refused = sign_in(
        client, account.username, DEFAULT_PASSWORD, peer=attacker, forwarded_for=fresh_ip()
    )
    assert REFUSED in refused.content.decode()
    event = AuditEvent.objects.get(target_id=account.public_id)
    assert event.ip_address == attacker


def test_addresses_a_client_writes_before_the_proxys_are_not_believed(client, behind_proxy):
    person, forged = fresh_ip(), fresh_ip()
    target = fresh_user("prefixed")

    # The client sent "X-Forwarded-For: <forged>"; the proxy appended the address it saw.
    sign_in(client, target.username, WRONG, peer=fresh_proxy(), forwarded_for=f"{forged}, {person}")

    assert AuditEvent.objects.get(target_id=target.public_id).ip_address == person


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # Untrusted peers: the header is ignored, whatever it says.
        ("198.51.100.7", "203.0.113.9", "198.51.100.7"),
        ("198.51.100.7", "10.20.0.1", "198.51.100.7"),
        # A trusted proxy names the client.
        ("10.20.0.5", "203.0.113.9", "203.0.113.9"),
        # Two trusted hops: the address the first of them saw.
        ("10.20.0.5", "203.0.113.9, 10.20.3.3", "203.0.113.9"),
        # What the client wrote itself, to the left, is not believed.
        ("10.20.0.5", "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        # Ports and brackets, IPv6.
        ("10.20.0.5", "203.0.113.9:53211", "203.0.113.9"),
        ("10.20.0.5", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.20.0.5", "2001:DB8::2", "2001:db8::2"),
        # No header, or something that is not an address next to the proxy: the proxy.
        ("10.20.0.5", "", "10.20.0.5"),
        ("10.20.0.5", "unknown", "10.20.0.5"),
        ("10.20.0.5", "203.0.113.9, garbage", "10.20.0.5"),
        # Every hop trusted: the farthest one known.
        ("10.20.0.5", "10.20.9.9, 10.20.8.8", "10.20.9.9"),
    ],
)
def test_the_client_is_the_first_address_from_the_right_that_is_not_a_trusted_proxy(
    behind_proxy, peer, forwarded_for, expected
):
    meta = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded_for}
    assert client_address(meta) == expected


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("10.20.0.5", "1.2.3.4, 203.0.113.9, 10.20.3.3", "203.0.113.9"),  # through the proxies
        ("198.51.100.7", "1.2.3.4, 203.0.113.9", "198.51.100.7"),  # straight to us, forged
    ],
)
def test_allauth_drf_and_the_audit_trail_read_the_same_address(
    behind_proxy, peer, forwarded_for, client
):
    request = RequestFactory().post(LOGIN_URL, REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded_for)
    ClientAddressMiddleware(lambda request: None)(request)

    assert request.META["REMOTE_ADDR"] == client
    assert get_adapter().get_client_ip(request) == client  # allauth's rate limits
    assert BaseThrottle().get_ident(request) == client  # DRF's throttles
    assert client_ip(request) == client  # the audit trail


def test_gunicorn_believes_forwarded_headers_from_the_same_proxies(settings):
    import acs.gunicorn_conf

    try:
        settings.TRUSTED_PROXIES = ["10.20.0.0/16", "192.0.2.7"]
        conf = importlib.reload(acs.gunicorn_conf)
        config = Config()
        config.set("forwarded_allow_ips", conf.forwarded_allow_ips)
        assert config.forwarded_allow_ips == ["10.20.0.0/16", "192.0.2.7"]

        settings.TRUSTED_PROXIES = []
        conf = importlib.reload(acs.gunicorn_conf)
        config.set("forwarded_allow_ips", conf.forwarded_allow_ips)
        assert config.forwarded_allow_ips == []  # off by default: gunicorn believes no one
    finally:
        importlib.reload(acs.gunicorn_conf)


def test_a_trusted_proxy_entry_that_is_not_an_address_or_network_refuses_to_start():
    result = run_django("pass", TRUSTED_PROXIES="10.20.0.1/16")  # host bits set: a typo

    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr
