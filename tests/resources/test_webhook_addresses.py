"""A webhook goes to the address that was checked (acs/outbound_http.py), named as the URL
names it: Host header, TLS server name and certificate for the endpoint's host.

DNS is the edge faked here: `Resolver` answers for the test's host names and passes anything
else to the real resolver. The receivers are real servers on 127.0.0.1.
"""

import socket

import pytest

from resources import services, webhooks
from resources.models import DeliveryStatus, WebhookDelivery
from tests.resources.referral_helpers import consenting_resident, referrable_service
from tests.resources.webhook_receiver import Receiver, tls_for

pytestmark = pytest.mark.django_db

HOST = "hooks.partner.test"
# A globally routable address that no TCP connection can reach: a multicast group (Linux
# refuses the connect at once), so a test that reaches it sends nothing anywhere.
PUBLIC_LOOKING = "233.252.0.1"


class Resolver:
    """socket.getaddrinfo for `names`, answering each lookup with the next of `answers` (the
    last repeats); `lookups` counts them."""

    def __init__(self, names: set[str], answers: list[str]) -> None:
        self.names, self.answers, self.lookups = names, answers, 0
        self.real = socket.getaddrinfo

    def __call__(self, host, port, *args, **kwargs):
        if host not in self.names:
            return self.real(host, port, *args, **kwargs)
        address = self.answers[min(self.lookups, len(self.answers) - 1)]
        self.lookups += 1
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 0)))]


def resolving(monkeypatch, *answers: str, names=(HOST,)) -> Resolver:
    resolver = Resolver(set(names), list(answers))
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


@pytest.fixture
def tls_receiver(tmp_path, settings):
    """An HTTPS receiver on 127.0.0.1 with a certificate for HOST from a CA we trust."""
    context, ca_path = tls_for(HOST, tmp_path)
    settings.WEBHOOK_CA_BUNDLE = str(ca_path)
    receiver = Receiver(tls=context).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def delivery_to(agency_a, case_manager, django_capture_on_commit_callbacks):
    """A referral event waiting for delivery to an endpoint at `url` (registered under the
    tests' settings, which allow local receivers)."""

    def make(url: str) -> WebhookDelivery:
        webhooks.endpoint_create(organization=agency_a, url=url)
        service, _ = referrable_service(agency_a)
        resident = consenting_resident(agency_a, recorded_by=case_manager)
        # The on-commit hook queues a task; these tests make the attempt themselves.
        with django_capture_on_commit_callbacks(execute=False):
            services.referral_create(
                actor=case_manager, resident=resident, service=service, send=True
            )
        return WebhookDelivery.objects.select_related("endpoint").get()

    return make


def test_a_name_that_turns_into_loopback_after_the_check_never_reaches_it(
    delivery_to, tls_receiver, settings, monkeypatch
):
    """The first answer passes the check; every answer after it is 127.0.0.1, where a real
    receiver waits with a valid certificate for the name. Nothing may reach it."""
    delivery = delivery_to(f"https://{HOST}:{tls_receiver.port}/hooks/acs")
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False  # as in production, from here on
    resolver = resolving(monkeypatch, PUBLIC_LOOKING, "127.0.0.1")

    assert webhooks.deliver(delivery.pk) == DeliveryStatus.PENDING

    assert tls_receiver.connections == 0 and tls_receiver.received == []
    assert resolver.lookups == 1  # resolved once: the address checked is the one used
    delivery.refresh_from_db()
    assert delivery.last_error == "ConnectionError"  # the public address, unreachable here


def test_a_name_with_any_private_address_is_refused_before_connecting(
    delivery_to, tls_receiver, settings, monkeypatch
):
    delivery = delivery_to(f"https://{HOST}:{tls_receiver.port}/hooks/acs")
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False  # as in production, from here on
    resolver = resolving(monkeypatch, "127.0.0.1")

    assert webhooks.deliver(delivery.pk) == DeliveryStatus.PENDING

    assert tls_receiver.connections == 0
    assert resolver.lookups == 1
    delivery.refresh_from_db()
    assert delivery.last_error == "The host resolves to a private or local address."


def test_https_to_the_pinned_address_keeps_the_hosts_name_certificate_and_sni(
    delivery_to, tls_receiver, monkeypatch
):
    """Local receivers are allowed in tests (WEBHOOK_ALLOW_PRIVATE_HOSTS); the connection still
    goes to the resolved address, and the request names the host."""
    delivery = delivery_to(f"https://{HOST}:{tls_receiver.port}/hooks/acs")
    resolver = resolving(monkeypatch, "127.0.0.1")

    assert webhooks.deliver(delivery.pk) == DeliveryStatus.DELIVERED

    (hit,) = tls_receiver.received
    assert hit.headers["Host"] == f"{HOST}:{tls_receiver.port}"
    assert tls_receiver.server_names == [HOST]
    assert webhooks.verify(delivery.endpoint.secret, hit.headers["ACS-Signature"], hit.body)
    assert resolver.lookups == 1


def test_a_certificate_for_another_name_is_refused(delivery_to, tls_receiver, monkeypatch):
    """The receiver's certificate is for HOST; reached under another name that resolves to
    it, the certificate does not match and nothing is sent."""
    other = "other.partner.test"
    delivery = delivery_to(f"https://{other}:{tls_receiver.port}/hooks/acs")
    resolving(monkeypatch, "127.0.0.1", names=(other,))

    assert webhooks.deliver(delivery.pk) == DeliveryStatus.PENDING

    assert tls_receiver.received == []
    assert tls_receiver.server_names == [other]
    delivery.refresh_from_db()
    assert delivery.last_error == "SSLError"


def test_a_plain_receiver_named_by_a_host_name_gets_the_event_with_that_host(
    delivery_to, monkeypatch
):
    receiver = Receiver().start()
    try:
        delivery = delivery_to(f"http://{HOST}:{receiver.port}/hooks/acs")
        resolving(monkeypatch, "127.0.0.1")

        assert webhooks.deliver(delivery.pk) == DeliveryStatus.DELIVERED

        (hit,) = receiver.received
        assert hit.headers["Host"] == f"{HOST}:{receiver.port}"
    finally:
        receiver.stop()


def test_the_next_address_is_tried_only_when_the_first_cannot_be_connected_to(
    delivery_to, monkeypatch
):
    receiver = Receiver().start()
    try:
        delivery = delivery_to(f"http://{HOST}:{receiver.port}/hooks/acs")
        real = socket.getaddrinfo

        def two_addresses(host, port, *args, **kwargs):
            if host != HOST:
                return real(host, port, *args, **kwargs)
            return [
                (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, int(port)))
                for a in (PUBLIC_LOOKING, "127.0.0.1")
            ]

        monkeypatch.setattr(socket, "getaddrinfo", two_addresses)

        assert webhooks.deliver(delivery.pk) == DeliveryStatus.DELIVERED
        assert len(receiver.received) == 1
    finally:
        receiver.stop()
