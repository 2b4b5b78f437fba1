"""The batched sender (#24): the sweep hands due rows to batch tasks without ever queueing a row
twice while its task waits, the provider's rate per second is kept across senders, and a 429
slows the senders down instead of failing texts."""

import logging
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from acs.celery import app
from acs.queues import REALTIME, queue_name
from cases import channels
from cases.local_sms import SmsReceiver
from cases.models import Consent, Notification
from cases.services.notifications import notification_schedule, notifications_send_batch
from cases.tasks import sweep_notifications
from tests.factories import ResidentFactory

pytestmark = [pytest.mark.redis, pytest.mark.django_db]
N = Notification


@pytest.fixture
def own_queue(settings):
    """A realtime queue of this test's own on the test Redis (the router reads the prefix at
    each send); its length, and nothing left behind."""
    settings.TASK_QUEUE_PREFIX = f"acs-test-batches-{uuid.uuid4().hex[:8]}-"
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    name = queue_name(REALTIME)
    yield lambda: client.llen(name)
    client.delete(name, *client.scan_iter(match=f"_kombu.binding.{name}*"))
    app.amqp.queues.pop(name, None)  # Celery added it to the app's queues when first used


@pytest.fixture
def sms(settings):
    receiver = SmsReceiver().start()
    for name, value in receiver.settings().items():
        setattr(settings, name, value)
    settings.QUIET_HOURS_START = settings.QUIET_HOURS_END = 0  # no hour is quiet
    yield receiver
    receiver.stop()


def due_texts(case_manager, count: int) -> list[Notification]:
    """`count` due texts to as many consenting residents. (In a test's transaction nothing is
    queued on commit: only the sweep queues them.)"""
    rows = []
    for i in range(count):
        resident = ResidentFactory(phone=f"+1505555{i:04d}", preferred_language="en")
        Consent.objects.create(
            resident=resident,
            scope=Consent.Scope.SMS,
            method=Consent.Method.VERBAL,
            recorded_by=case_manager,
        )
        rows.append(
            notification_schedule(
                template="checkin",
                channel="sms",
                resident=resident,
                due_at=timezone.now() - timedelta(seconds=5),
            )
        )
    return rows


def test_a_backlog_does_not_grow_the_queue(own_queue, case_manager, settings):
    settings.NOTIFICATION_BATCH_SIZE = 10
    rows = due_texts(case_manager, 25)

    # Beat runs the sweep every minute; nothing consumes (the workers are behind, or down).
    assert sweep_notifications() == 25
    assert own_queue() == 3  # one task per batch of 10, not one per row
    for _ in range(5):
        assert sweep_notifications() == 0  # each row is in a task presumed alive
    assert own_queue() == 3

    # A task lost with the broker's data: its rows are handed out again once their mark
    # lapses (NOTIFICATION_QUEUED_SECONDS), once.
    N.objects.filter(pk__in=[r.pk for r in rows[:10]]).update(
        queued_until=timezone.now() - timedelta(seconds=1)
    )
    assert sweep_notifications() == 10
    assert sweep_notifications() == 0
    assert own_queue() == 4


def test_the_providers_rate_is_kept(sms, case_manager, settings):
    settings.SMS_RATE_PER_SECOND = 3
    settings.NOTIFICATION_SEND_CONCURRENCY = 4
    rows = due_texts(case_manager, 9)
    started = time.monotonic()
    statuses = notifications_send_batch([r.pk for r in rows])
    took = time.monotonic() - started
    assert list(statuses.values()) == [N.Status.SENT] * 9
    assert len(sms.accepted) == 9
    # 3 a second: the 9 texts span at least three seconds of the clock (1 s and more
    # between the first and the last); without the limit they take a few milliseconds.
    assert took >= 1.0, took


def test_a_429_slows_the_senders_down_and_fails_nothing(sms, case_manager, settings, own_queue):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1  # a counted attempt would end it as failed
    sms.statuses = [429, 201]
    sms.retry_after = 2
    first, second = due_texts(case_manager, 2)

    assert notifications_send_batch([first.pk]) == {first.pk: N.Status.PENDING}
    first.refresh_from_db()
    assert first.attempts == 0 and first.in_flight_since is None  # not sent, not counted
    assert "429" in first.last_error
    wait = first.next_attempt_at - timezone.now()
    assert timedelta(seconds=1) < wait <= timedelta(seconds=2)
    assert own_queue() == 1  # queued again at once, to run when the pause is over

    # Every sender holds off for the pause the provider asked for, then goes on.
    started = time.monotonic()
    assert notifications_send_batch([second.pk]) == {second.pk: N.Status.SENT}
    assert time.monotonic() - started >= 1.0
    time.sleep(max(0, (first.next_attempt_at - timezone.now()).total_seconds()))
    assert notifications_send_batch([first.pk]) == {first.pk: N.Status.SENT}
    assert len(sms.accepted) == 2 and sms.requests == 3


def test_a_send_not_started_before_the_deadline_is_given_back_uncounted(
    sms, case_manager, settings, own_queue
):
    (row,) = due_texts(case_manager, 1)
    assert notifications_send_batch([row.pk], deadline=time.time() - 1) == {
        row.pk: N.Status.PENDING
    }
    row.refresh_from_db()
    assert row.attempts == 0 and row.in_flight_since is None and sms.requests == 0
    assert own_queue() == 1  # and handed to a task again at once


def test_the_rate_is_shared_through_redis(settings):
    settings.SMS_RATE_PER_SECOND = 2
    provider = channels.SmsProvider(
        base_url=f"http://rate-{uuid.uuid4().hex}",
        account_sid="AC",
        auth_token="t",
        from_number="+1",
    )
    one, other = channels.SendRate(provider), channels.SendRate(provider)  # two senders
    second = int(time.time())
    while int(time.time()) == second:  # start at the top of a second
        time.sleep(0.01)
    deadline = time.time() + 0.5
    assert one.acquire(deadline) and other.acquire(deadline)
    assert not one.acquire(deadline)  # the third in this second waits past the deadline


def test_slots_are_taken_a_few_at_a_time_and_never_past_the_rate(settings):
    settings.SMS_RATE_PER_SECOND = 5
    provider = channels.SmsProvider(
        base_url=f"http://slots-{uuid.uuid4().hex}",
        account_sid="AC",
        auth_token="t",
        from_number="+1",
    )
    one, other = channels.SendRate(provider), channels.SendRate(provider)
    second = int(time.time())
    while int(time.time()) == second:  # start at the top of a second
        time.sleep(0.01)
    deadline = time.time() + 0.5
    assert one.acquire(deadline, 3) == 3  # three slots in one round trip
    assert other.acquire(deadline, 3) == 2  # what is left of this second's five
    assert one.acquire(deadline, 1) == 0  # none before the deadline, inside this second


def test_a_429_seen_in_the_middle_of_a_share_holds_its_other_texts(sms, case_manager, settings):
    settings.NOTIFICATION_SEND_CONCURRENCY = 1  # one thread: its slots are taken together
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    sms.statuses = [201, 429, 201]
    sms.retry_after = 1
    rows = due_texts(case_manager, 3)
    started = time.monotonic()
    statuses = notifications_send_batch([r.pk for r in rows])
    # The second was refused and given back uncounted; the third, whose slot was taken
    # with the others', waited for the pause instead of going out at once.
    assert sorted(statuses.values()) == sorted([N.Status.SENT, N.Status.PENDING, N.Status.SENT])
    assert time.monotonic() - started >= 0.9
    assert len(sms.accepted) == 2 and sms.requests == 3


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_keeps_two_batches_in_flight(sms, case_manager, settings, own_queue):
    from acs.batches import in_flight_drain
    from cases.services.notifications import notifications_start_batch
    from tests.workers import wait_until

    settings.NOTIFICATION_BATCHES_IN_FLIGHT = 2
    # Ten at once per batch, not sized to the answers (SendPace): the process's threads, shared.
    settings.NOTIFICATION_SEND_CONCURRENCY = settings.NOTIFICATION_SEND_CONCURRENCY_MIN = 10
    sms.delay = 1.5  # each send takes a while
    rows = due_texts(case_manager, 15)
    batches = [[r.pk for r in rows[i : i + 5]] for i in range(0, 15, 5)]
    try:
        # The first two return once claimed: their sends go on in this process's threads.
        assert notifications_start_batch(batches[0]) == 5
        assert notifications_start_batch(batches[1]) == 5
        # Both batches' sends are at the provider at once (more than one batch's worth).
        assert wait_until(lambda: sms.requests - len(sms.accepted) > 5, timeout=10, every=0.01)
        # The third waits for a place: one of the two in flight is recorded first.
        assert notifications_start_batch(batches[2]) == 5
        assert N.objects.filter(status=N.Status.SENT).count() >= 5
    finally:
        assert in_flight_drain(30, close=True)
    assert N.objects.filter(status=N.Status.SENT).count() == 15
    assert len(sms.accepted) == 15 == sms.requests


@pytest.mark.django_db(transaction=True)
def test_a_batch_in_flight_that_fails_frees_its_place_and_keeps_its_lease(
    sms, case_manager, settings, monkeypatch, caplog
):
    import logging

    from acs.batches import in_flight_drain
    from cases.services.notifications import sending as notifications

    settings.NOTIFICATION_BATCHES_IN_FLIGHT = 1
    rows = due_texts(case_manager, 2)
    phone = rows[0].resident.phone

    def broken(results):
        # A driver's message may quote the statement's values: a number, a text's body.
        raise RuntimeError(f"the database went away writing {phone}: {results[0][1]['body']}")

    monkeypatch.setattr(notifications, "_record", broken)
    with caplog.at_level(logging.INFO):
        assert notifications.notifications_start_batch([rows[0].pk]) == 1
        assert in_flight_drain(10)  # its place is free again
    # The log says what failed and where, never the message.
    (failed,) = [r for r in caplog.records if r.getMessage().startswith("a batch in flight")]
    assert "builtins.RuntimeError at " in failed.getMessage()
    assert failed.exc_info is None and failed.exc_text is None
    assert phone not in caplog.text and "went away" not in caplog.text
    assert "Community Safety" not in caplog.text and phone[-4:] not in caplog.text
    row = N.objects.get(pk=rows[0].pk)
    # Left to its lease, marked in flight: whoever retakes it asks the provider first.
    assert row.status == N.Status.SENDING and row.in_flight_since is not None
    monkeypatch.undo()
    assert notifications.notifications_start_batch([rows[1].pk]) == 1
    assert in_flight_drain(10, close=True)
    assert N.objects.get(pk=rows[1].pk).status == N.Status.SENT


def test_a_batch_costs_the_same_queries_whatever_its_size(sms, case_manager, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.SMS_RATE_PER_SECOND = 0
    small, large = due_texts(case_manager, 3), []
    for i in range(3, 13):  # ten more, other numbers
        resident = ResidentFactory(phone=f"+1505555{i:04d}", preferred_language="en")
        Consent.objects.create(
            resident=resident,
            scope=Consent.Scope.SMS,
            method=Consent.Method.VERBAL,
            recorded_by=case_manager,
        )
        large.append(notification_schedule(template="checkin", channel="sms", resident=resident))
    counts = []
    for rows in (small, large):
        with CaptureQueriesContext(connection) as queries:
            statuses = notifications_send_batch([r.pk for r in rows])
        assert list(statuses.values()) == [N.Status.SENT] * len(rows)
        counts.append(len(queries))
    # Claim (with the in-flight mark), load, consents, opt-outs, results, early receipts: no
    # query per row.
    assert counts[0] == counts[1] <= 6, counts


def test_one_bad_row_does_not_hold_up_its_batch(sms, case_manager, monkeypatch, caplog):
    from cases.services.notifications import sending as notifications

    bad_check, bad_send, *good = due_texts(case_manager, 4)
    render = notifications.messages.render
    send = channels.SmsProvider.send
    bad_check_body = "a text that fails to render"

    def failing_render(template, language, context):
        if context.get("bad"):
            raise RuntimeError(bad_check_body)
        return render(template, language, context)

    def failing_send(self, *, to, body, status_callback=""):
        if to == bad_send.resident.phone:
            raise RuntimeError(f"not a channel error sending {body!r} to {to}")
        return send(self, to=to, body=body, status_callback=status_callback)

    N.objects.filter(pk=bad_check.pk).update(context={"bad": True})
    monkeypatch.setattr(notifications.messages, "render", failing_render)
    monkeypatch.setattr(channels.SmsProvider, "send", failing_send)

    with caplog.at_level(logging.INFO):
        statuses = notifications_send_batch([bad_check.pk, bad_send.pk, *[r.pk for r in good]])
    # Each failure is logged by its type and place, never by its message (a number, a body).
    assert caplog.text.count("builtins.RuntimeError at ") == 2, caplog.text
    assert all(r.exc_info is None for r in caplog.records)
    assert bad_check_body not in caplog.text and "not a channel error" not in caplog.text
    assert bad_send.resident.phone not in caplog.text
    assert statuses == {
        bad_check.pk: N.Status.PENDING,
        bad_send.pk: N.Status.PENDING,
        **{r.pk: N.Status.SENT for r in good},
    }
    bad_check.refresh_from_db()
    bad_send.refresh_from_db()
    assert bad_check.last_error == "Error: RuntimeError" and bad_check.in_flight_since is None
    # It may have gone out: the mark stays, so the next attempt asks the provider first.
    assert bad_send.last_error == "Error: RuntimeError" and bad_send.in_flight_since is not None
    assert len(sms.accepted) == 2


def test_the_sends_at_once_follow_the_providers_answer_time():
    from cases.services.notifications import SendPace

    # A provider tens of milliseconds away answers as fast with more sends at once: the pace
    # grows from the floor to the ceiling within a few batches.
    slow = SendPace(2, 16)
    sizes = []
    for _ in range(8):
        sizes.append(slow.threads())
        slow.note([0.080, 0.081, 0.079])
    assert sizes[0] == 2 and sizes == sorted(sizes) and slow.threads() == 16, sizes

    # A provider that answers in 0.4 ms when nothing queues, each send costing this process
    # 0.1 ms: past four at once every answer waits its turn (answer = threads x CPU), and
    # the pace settles near the answer time over the CPU (plus a little queue), not at the
    # ceiling.
    fast = SendPace(2, 16)
    for _ in range(30):
        threads = fast.threads()
        fast.note([max(0.0004, threads * 0.0001)] * 10)
    assert 4 <= fast.threads() <= 8, fast.threads()
    # Equal bounds: fixed.
    fixed = SendPace(10, 10)
    fixed.note([0.001])
    fixed.note([0.1])
    assert fixed.threads() == 10


def test_the_claim_reads_consent_opt_out_and_merges_when_the_batch_is_claimed(sms, case_manager):
    """The claim's statement reads each recipient with the rows it takes: a resident who
    texted STOP or withdrew consent after the text was queued gets none, and a record merged
    since goes to whom it was merged into, with their consent and number."""
    from cases.models import Resident, SmsOptOut

    stopped, withdrawn, merged, plain = due_texts(case_manager, 4)
    survivor = ResidentFactory(phone="+15055550199", preferred_language="en")
    Consent.objects.create(
        resident=survivor,
        scope=Consent.Scope.SMS,
        method=Consent.Method.VERBAL,
        recorded_by=case_manager,
    )
    # After queueing: a STOP, a withdrawn consent, a merge (the merged record keeps its own
    # consent and number, which no longer count).
    SmsOptOut.objects.create(
        phone=stopped.resident.phone, opted_out_at=timezone.now(), keyword="STOP"
    )
    Consent.objects.filter(resident=withdrawn.resident).update(revoked_at=timezone.now())
    Resident.objects.filter(pk=merged.resident_id).update(merged_into=survivor)

    statuses = notifications_send_batch([r.pk for r in (stopped, withdrawn, merged, plain)])

    assert statuses == {
        stopped.pk: N.Status.CANCELLED,
        withdrawn.pk: N.Status.CANCELLED,
        merged.pk: N.Status.SENT,
        plain.pk: N.Status.SENT,
    }
    errors = dict(N.objects.filter(pk__in=statuses).values_list("pk", "last_error"))
    assert errors[stopped.pk] == "The number texted STOP."
    assert errors[withdrawn.pk] == "No sms consent."
    assert sorted(m["to"] for m in sms.accepted) == sorted([survivor.phone, plain.resident.phone])
