"""Webhooks against a real local HTTP receiver: signed events, retries with backoff,
lapsed leases taken up again, endpoints disabled after repeated failure (and ACS told)."""

import json
import os
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from resources import services, webhooks
from resources.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from resources.tasks import alert_endpoint_disabled, sweep_webhooks
from tests.resources.referral_helpers import consenting_resident, referrable_service
from tests.resources.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def endpoint(agency_a, receiver):
    return webhooks.endpoint_create(organization=agency_a, url=receiver.url)


@pytest.fixture
def referral_sent(agency_a, case_manager, endpoint, django_capture_on_commit_callbacks):
    service, _ = referrable_service(agency_a)
    resident = consenting_resident(agency_a, recorded_by=case_manager)
    # The on-commit hook queues a task; these tests make the attempts themselves.
    with django_capture_on_commit_callbacks(execute=False):
        return services.referral_create(
            actor=case_manager, resident=resident, service=service, send=True
        )


def only_delivery() -> WebhookDelivery:
    return WebhookDelivery.objects.get()


def test_a_sent_referral_is_delivered_signed_and_verifiable(referral_sent, endpoint, receiver):
    delivery = only_delivery()
    assert delivery.event_type == "referral.sent"
    assert webhooks.deliver(delivery.pk) == DeliveryStatus.DELIVERED

    (hit,) = receiver.received
    assert hit.path == "/hooks/acs"
    assert hit.headers["ACS-Event-Id"] == str(delivery.public_id)
    assert hit.headers["ACS-Event-Type"] == "referral.sent"
    assert webhooks.verify(endpoint.secret, hit.headers["ACS-Signature"], hit.body)
    assert not webhooks.verify("whsec_wrong", hit.headers["ACS-Signature"], hit.body)
    assert not webhooks.verify(endpoint.secret, hit.headers["ACS-Signature"], hit.body + b" ")
    event = json.loads(hit.body)
    assert event["id"] == str(delivery.public_id)
    assert event["data"]["referral"]["id"] == str(referral_sent.public_id)
    assert event["data"]["referral"]["status"] == "sent"
    assert "Rosa" not in hit.body.decode()  # no personal data in events
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.last_status_code == 200
    # Done is done: a second task for the same row sends nothing.
    assert webhooks.deliver(delivery.pk) is None
    assert len(receiver.received) == 1


def test_an_old_signature_is_refused_by_verify(endpoint):
    body = b"{}"
    header = webhooks.sign(endpoint.secret, 1_000_000, body)
    assert not webhooks.verify(endpoint.secret, header, body)
    assert webhooks.verify(endpoint.secret, header, body, now=1_000_100)


def test_status_changes_by_the_partner_are_events_too(
    referral_sent, partner_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        services.referral_accept(actor=partner_a, referral=referral_sent)
    types = list(WebhookDelivery.objects.order_by("id").values_list("event_type", flat=True))
    assert types == ["referral.sent", "referral.status_changed"]


def test_failures_retry_with_backoff_then_succeed(referral_sent, receiver):
    receiver.statuses = [500, 503, 200]
    delivery = only_delivery()
    now = timezone.now()
    assert webhooks.deliver(delivery.pk, now=now) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    first_wait = delivery.next_attempt_at - now
    assert timedelta(seconds=15) <= first_wait <= timedelta(seconds=31)
    assert delivery.last_error == "HTTP 500" and delivery.attempts == 1
    # Not due yet: nothing happens.
    assert webhooks.deliver(delivery.pk, now=now) is None
    later = delivery.next_attempt_at + timedelta(seconds=1)
    assert webhooks.deliver(delivery.pk, now=later) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.next_attempt_at - timezone.now() >= timedelta(seconds=29)  # doubled
    assert webhooks.deliver(delivery.pk, now=delivery.next_attempt_at) == DeliveryStatus.DELIVERED
    assert len(receiver.received) == 3
    # The three attempts carried the same event id, for the receiver to deduplicate on.
    assert len({hit.headers["ACS-Event-Id"] for hit in receiver.received}) == 1
    assert WebhookEndpoint.objects.get().consecutive_failures == 0


def test_exhausted_retries_end_as_failed_with_the_reason(referral_sent, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.statuses = [500]
    delivery = only_delivery()
    webhooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert webhooks.deliver(delivery.pk, now=delivery.next_attempt_at) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error == "HTTP 500"


def test_an_unreachable_endpoint_is_a_failed_attempt_not_a_crash(referral_sent, receiver):
    receiver.stop()
    delivery = only_delivery()
    assert webhooks.deliver(delivery.pk) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.last_error in {"ConnectionError", "ConnectTimeout", "ReadTimeout"}


def test_repeated_failure_disables_the_endpoint_and_tells_acs(
    referral_sent, receiver, settings, partner_a, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    settings.ACS_ALERT_EMAILS = ["ops@acs.invalid"]
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=False):
        services.referral_accept(actor=partner_a, referral=referral_sent)
    first, second = WebhookDelivery.objects.order_by("id")
    webhooks.deliver(first.pk)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        webhooks.deliver(second.pk)
    endpoint = WebhookEndpoint.objects.get()
    assert not endpoint.active and "2 failed deliveries" in endpoint.disabled_reason
    assert callbacks, "the alert is queued once the change commits"
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        DeliveryStatus.CANCELLED
    }
    # The alert task (run here in-process) e-mails ACS.
    assert alert_endpoint_disabled(endpoint.pk) is True
    (message,) = mail.outbox
    assert "disabled" in message.subject and message.to == ["ops@acs.invalid"]
    assert "Rosa" not in message.body
    # Polling still shows every change: the feed does not depend on webhooks.
    assert referral_sent.events.count() == 3


def test_a_lapsed_lease_is_taken_up_again_but_a_live_one_is_not(referral_sent, receiver):
    delivery = only_delivery()
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=1, lease_until=now + timedelta(seconds=30)
    )
    assert webhooks.deliveries_sweep(now=now) == []
    assert webhooks.deliver(delivery.pk, now=now) is None
    later = now + timedelta(seconds=31)
    assert webhooks.deliveries_sweep(now=later) == [delivery.pk]
    assert webhooks.deliver(delivery.pk, now=later) == DeliveryStatus.DELIVERED
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_the_sweep_task_queues_due_rows_once_while_their_task_is_alive(
    referral_sent, monkeypatch, settings
):
    queued = []
    monkeypatch.setattr("resources.tasks.deliver_webhooks.delay", queued.append)
    assert sweep_webhooks() == 1
    assert queued == [[only_delivery().pk]]
    # A backlog does not grow the queue: the row is in a live batch task.
    assert sweep_webhooks() == 0 and len(queued) == 1
    # Its task presumed lost once the mark lapses: queued again.
    later = timezone.now() + timedelta(seconds=settings.NOTIFICATION_QUEUED_SECONDS + 1)
    WebhookDelivery.objects.update(queued_until=later - timedelta(days=1))
    assert sweep_webhooks() == 1 and len(queued) == 2


def queue_events(referral, count: int, django_capture_on_commit_callbacks) -> list[int]:
    with django_capture_on_commit_callbacks(execute=False):
        for _ in range(count):
            webhooks.event_queue(referral=referral, event_type="referral.updated")
    return list(WebhookDelivery.objects.order_by("id").values_list("pk", flat=True))


def test_a_batch_goes_to_each_endpoint_in_order_over_one_connection(
    referral_sent, agency_a, receiver, django_capture_on_commit_callbacks
):
    other = Receiver().start()
    try:
        webhooks.endpoint_create(organization=agency_a, url=other.url)
        pks = queue_events(referral_sent, 4, django_capture_on_commit_callbacks)
        assert len(pks) == 1 + 4 * 2

        statuses = webhooks.deliver_batch(pks)

        assert list(statuses.values()) == [DeliveryStatus.DELIVERED] * len(pks)
        for end in (receiver, other):
            sent = WebhookDelivery.objects.filter(endpoint__url=end.url).order_by("id")
            ids = [json.loads(hit.body)["id"] for hit in end.received]
            assert ids == [str(d.public_id) for d in sent]  # in event order
            assert end.connections == 1  # one keep-alive connection for the batch
            for hit in end.received:
                secret = sent[0].endpoint.secret
                assert webhooks.verify(secret, hit.headers["ACS-Signature"], hit.body)
    finally:
        other.stop()


def test_after_a_failure_an_endpoints_other_events_wait_uncounted(
    referral_sent, receiver, django_capture_on_commit_callbacks
):
    receiver.statuses = [503]
    pks = queue_events(referral_sent, 2, django_capture_on_commit_callbacks)

    statuses = webhooks.deliver_batch(pks)

    assert list(statuses.values()) == [DeliveryStatus.PENDING] * 3
    assert len(receiver.received) == 1  # no use sending the rest now
    first, *rest = WebhookDelivery.objects.order_by("id")
    assert (first.attempts, first.last_error, first.last_status_code) == (1, "HTTP 503", 503)
    for delivery in rest:
        assert (delivery.attempts, delivery.last_error) == (0, "")
        assert delivery.next_attempt_at == first.next_attempt_at  # they go with its retry
    first.endpoint.refresh_from_db()
    assert first.endpoint.consecutive_failures == 1


def test_disabled_endpoints_get_nothing_new(referral_sent, partner_a, endpoint):
    webhooks.endpoint_disable(endpoint=endpoint, reason="test")
    services.referral_accept(actor=partner_a, referral=referral_sent)
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 0


class TestEndpointAddresses:
    def test_production_refuses_http_and_private_addresses(self, agency_a, settings):
        settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
        from acs.errors import DomainError

        for url in ("http://example.com/hook", "https://127.0.0.1/hook", "https://10.1.2.3/x"):
            with pytest.raises(DomainError):
                webhooks.endpoint_create(organization=agency_a, url=url)

    def test_delivery_rechecks_the_address(self, referral_sent, receiver, settings):
        settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
        delivery = only_delivery()
        assert webhooks.deliver(delivery.pk) == DeliveryStatus.PENDING
        delivery.refresh_from_db()
        assert "https" in delivery.last_error
        assert receiver.received == []


@pytest.fixture
def role_groups(transactional_db):
    """A transactional test may follow another one's flush, which empties the role groups
    the data migration made: put them back."""
    from django.contrib.auth.models import Group

    from acs.roles import Role

    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.mark.redis
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_the_webhook(
    role_groups, agency_a, case_manager, receiver, tmp_path
):
    """From the referral service through Redis to a real Celery worker to the receiver."""
    from tests.workers import start_worker, wait_until, worker_database_url

    webhooks.endpoint_create(organization=agency_a, url=receiver.url)
    # The worker uses the test database, on a TCP host or the embedded server's socket folder.
    env = {**os.environ, "DATABASE_URL": worker_database_url()}
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        service, _ = referrable_service(agency_a)
        resident = consenting_resident(agency_a, recorded_by=case_manager)
        services.referral_create(actor=case_manager, resident=resident, service=service, send=True)
        assert wait_until(lambda: receiver.received, alive=worker.alive), worker.stop()
    finally:
        output = worker.stop()
    assert "resources.tasks.deliver_webhooks" in output
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_a_stalled_attempt_cannot_overwrite_the_next_ones_result(referral_sent, receiver):
    delivery = only_delivery()
    now = timezone.now()
    [stalled] = webhooks._claim_many([delivery.pk], now)  # the first worker takes it, stalls
    WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=now - timedelta(seconds=1))
    assert webhooks.deliver(delivery.pk, now=now) == DeliveryStatus.DELIVERED
    late = {stalled.pk: webhooks._failed(stalled, now, "ReadTimeout", None)}
    assert webhooks._record([stalled], late) == set()  # the stalled one wakes up: not written
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.last_error == ""


def test_the_lease_outlives_a_task(referral_sent, settings):
    delivery = only_delivery()
    now = timezone.now()
    [claimed] = webhooks._claim_many([delivery.pk], now)
    assert claimed.lease_until > now + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)


def test_failed_attempts_are_counted_for_the_metrics(
    referral_sent, receiver, settings, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    from acs.metrics import _event_key

    def count(outcome):
        return cache.get(_event_key("acs_webhook_delivery_failures", (outcome,)), 0)

    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.statuses = [500, 500]
    before = {o: count(o) for o in ("retrying", "failed")}
    delivery = only_delivery()
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.deliver(delivery.pk, now=delivery.next_attempt_at)

    assert count("retrying") == before["retrying"] + 1
    assert count("failed") == before["failed"] + 1
