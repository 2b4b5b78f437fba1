"""The outbox end to end: rows scheduled here, taken off real Redis by a real `celery -A acs
worker` on the test database, texted to the local SMS provider running in this process. What
counts is what the provider got: every text once, whatever happens to the broker or a worker.
"""

import os
import re
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from cases.local_sms import SmsReceiver
from cases.models import Consent, Notification
from cases.services.notifications import notification_schedule
from cases.tasks import send_notification, sweep_notifications
from tests.factories import ResidentFactory
from tests.workers import (
    celery_broker,
    private_redis_or_skip,
    restore_role_groups,
    start_worker,
    wait_until,
    worker_database_url,
)

pytestmark = [
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]
N = Notification
# With start == end no hour is quiet (quiet_hours_end: start <= hour < end never holds), so a
# test run at night still sends at once.
# A sweep the worker has finished, in its log (celery's own line at loglevel info).
SWEEP_DONE = re.compile(r"cases\.tasks\.sweep_notifications\[[^\]]+\] succeeded")
NEVER_QUIET = {"QUIET_HOURS_START": "0", "QUIET_HOURS_END": "0"}


@pytest.fixture
def role_groups(transactional_db):
    restore_role_groups()


@pytest.fixture
def sms(settings):
    receiver = SmsReceiver().start()
    for name, value in {**receiver.settings(), **NEVER_QUIET}.items():
        setattr(settings, name, int(value) if name.startswith("QUIET") else value)
    yield receiver
    receiver.stop()


@pytest.fixture
def residents(role_groups, case_manager):
    """Ten residents with their own numbers, each consenting to texts."""
    people = []
    for i in range(10):
        resident = ResidentFactory(phone=f"(505) 555-01{i:02d}", preferred_language="en")
        Consent.objects.create(
            resident=resident,
            scope=Consent.Scope.SMS,
            method=Consent.Method.VERBAL,
            recorded_by=case_manager,
        )
        people.append(resident)
    return people


def phone(resident) -> str:
    return "+1" + re.sub(r"\D", "", resident.phone)


def worker_env(sms: SmsReceiver, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        **sms.settings(),
        **NEVER_QUIET,
        **extra,
    }


def checkin(resident, **kwargs) -> Notification:
    return notification_schedule(template="checkin", channel="sms", resident=resident, **kwargs)


def texts_per_phone(sms: SmsReceiver) -> Counter:
    with sms.lock:
        return Counter(m["to"] for m in sms.accepted)


def all_sent(rows) -> bool:
    pks = [row.pk for row in rows]
    return N.objects.filter(pk__in=pks, status=N.Status.SENT).count() == len(pks)


def test_a_due_reminder_goes_out_exactly_once(sms, residents, tmp_path):
    resident = residents[0]
    worker = start_worker(worker_env(sms), tmp_path / "worker.log")
    try:
        worker.wait_ready()
        with transaction.atomic():
            row = checkin(resident)
            assert sms.accepted == []  # queued on commit, not before
        assert wait_until(lambda: sms.accepted, alive=worker.alive), worker.stop()
        assert wait_until(lambda: all_sent([row]), timeout=10), worker.stop()
        for _ in range(3):
            assert sweep_notifications() == 0  # nothing left to queue
            sweep_notifications.delay()  # nor in the worker
        # The worker has run all three sweeps (whatever they queued would be received first).
        assert wait_until(
            lambda: len(SWEEP_DONE.findall(worker.output())) == 3, alive=worker.alive
        ), worker.stop()
    finally:
        output = worker.stop()
    assert "cases.tasks.sweep_notifications" in output
    (text,) = sms.accepted
    row.refresh_from_db()
    assert text["to"] == phone(resident)
    assert text["body"].startswith("Albuquerque Community Safety checking in")
    assert row.provider_message_id == text["sid"] and row.attempts == 1
    assert sms.lookups == 0


def test_nothing_is_lost_while_the_broker_is_down(sms, residents, tmp_path):
    redis = private_redis_or_skip()
    worker = None
    try:
        with celery_broker(redis.url):
            worker = start_worker(worker_env(sms, REDIS_URL=redis.url), tmp_path / "worker.log")
            worker.wait_ready()
            redis.stop()

            started = time.monotonic()
            with transaction.atomic():
                rows = [checkin(resident) for resident in residents[:5]]
            queueing_failed_in = time.monotonic() - started
            assert queueing_failed_in < 15  # fails fast, and quietly: the commit stands
            assert N.objects.filter(status=N.Status.PENDING).count() == 5
            time.sleep(1)
            assert sms.accepted == []

            redis.start()
            # Wait for the worker to be back on the empty broker (it declares its queue
            # again), so that what the sweep queues has a consumer.
            assert wait_until(
                lambda: redis.client().keys("_kombu.binding.*"), timeout=40, alive=worker.alive
            ), worker.stop()
            assert sweep_notifications() == 5  # what beat runs every minute

            assert wait_until(lambda: all_sent(rows), timeout=30, alive=worker.alive), worker.stop()
            assert sweep_notifications() == 0
            time.sleep(1)
    finally:
        if worker:
            worker.stop()
        redis.stop()
    assert texts_per_phone(sms) == Counter(phone(r) for r in residents[:5])
    assert all(n == 1 for n in texts_per_phone(sms).values())


def test_a_worker_killed_mid_batch_leaves_nothing_unsent_and_nothing_twice(
    sms, residents, tmp_path
):
    sms.delay = 0.7  # each send takes a while: the kill lands in the middle of the batch
    redis = private_redis_or_skip()
    workers = []
    try:
        with celery_broker(redis.url):
            # Two sends at a time: the batch of ten is a few rounds long.
            env = worker_env(sms, REDIS_URL=redis.url, NOTIFICATION_SEND_CONCURRENCY="2")
            with transaction.atomic():
                rows = [checkin(resident) for resident in residents]  # one batch task queued
            first = start_worker(env, tmp_path / "first.log", name="first")
            workers.append(first)
            assert wait_until(
                lambda: len(sms.accepted) >= 3 and sms.requests > len(sms.accepted),
                timeout=30,
                every=0.02,
                alive=first.alive,
            ), first.stop()
            first.kill()
            # The provider finishes the requests the dead worker made: those texts went out.
            assert wait_until(lambda: len(sms.accepted) == sms.requests, timeout=5)
            sent_before = {m["to"]: m["sid"] for m in sms.accepted}
            # The batch was claimed and marked in flight as one: its results died with the
            # worker, so every row of it is an orphan, sent or not.
            orphans = list(N.objects.filter(status=N.Status.SENDING))
            assert len(orphans) == len(rows)
            assert all(o.in_flight_since is not None and o.attempts == 1 for o in orphans)

            second = start_worker(env, tmp_path / "second.log", name="second")
            workers.append(second)
            second.wait_ready()
            # The task died unacknowledged with the first worker; the sweep finds the rows
            # once their lease has lapsed (two minutes: moved into the past here).
            N.objects.filter(pk__in=[o.pk for o in orphans]).update(
                lease_until=timezone.now() - timedelta(seconds=1)
            )
            sweep_notifications.delay()
            assert wait_until(lambda: all_sent(rows), timeout=30, alive=second.alive), second.stop()
            time.sleep(1)
    finally:
        for worker in workers:
            worker.stop()
        redis.stop()
    assert 3 <= len(sent_before) < len(rows)  # the second worker had work left to do
    assert texts_per_phone(sms) == Counter(phone(r) for r in residents)  # each exactly once
    assert sms.requests == len(rows)  # not one send more than texts
    # Whoever retook a lease asked the provider first (find_sent, the only lookups of the
    # run): the texts the dead worker had sent were recorded, not sent again.
    assert sms.lookups == len(orphans)
    for row in N.objects.filter(pk__in=[r.pk for r in rows]).select_related("resident"):
        assert row.attempts == 2
        if phone(row.resident) in sent_before:
            assert row.provider_message_id == sent_before[phone(row.resident)]


def test_a_task_delivered_twice_sends_once(sms, residents, tmp_path):
    sms.delay = 1.5  # the second delivery arrives while the first is still sending
    resident = residents[0]
    later = timezone.now() + timedelta(hours=1)
    row = checkin(resident, due_at=later)  # not due: nothing queued on commit
    N.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    worker = start_worker(worker_env(sms), tmp_path / "worker.log", pool="prefork", concurrency=2)
    try:
        worker.wait_ready()
        send_notification.delay(row.pk)
        send_notification.delay(row.pk)
        assert wait_until(
            lambda: worker.output().count("cases.tasks.send_notification[") >= 4,
            timeout=20,
            alive=worker.alive,
        ), worker.stop()  # two received, two succeeded
    finally:
        output = worker.stop()
    # Worker log lines "<date> <time> INFO ... send_notification[<id>] succeeded in <s>s: <result>"
    finished = re.findall(
        r"^\s*(\S+ \S+) .*send_notification\[.*succeeded in .*: (\S+)$", output, re.M
    )
    assert sorted(result for _, result in finished) == ["'sent'", "None"], output
    # ... and the duplicate was turned away while the first delivery was still sending.
    assert [result for _, result in sorted(finished)] == ["None", "'sent'"], output
    (text,) = sms.accepted
    row.refresh_from_db()
    assert row.status == N.Status.SENT and row.attempts == 1
    assert row.provider_message_id == text["sid"]


@pytest.mark.parametrize("pool", ["prefork", "solo"])
def test_a_worker_stopped_warmly_finishes_its_batches_in_flight(sms, residents, tmp_path, pool):
    # A batch task returns once its rows are claimed; its sends and the record go on in the
    # worker process's threads (notifications_start_batch). A warm stop (SIGTERM, as
    # `docker compose stop` and a deploy do) lets them finish rather than leaving the rows to
    # their leases.
    sms.delay = 0.5
    env = worker_env(sms, NOTIFICATION_SEND_CONCURRENCY="2")
    worker = start_worker(env, tmp_path / "worker.log", pool=pool, concurrency=1)
    try:
        worker.wait_ready()
        with transaction.atomic():
            rows = [checkin(resident) for resident in residents]  # one batch task
        # The task has returned (claimed ten, sends going on) while the texts still go out.
        # (Its own line, with what it claimed: any other batch task claimed nothing.)
        claimed_ten = re.compile(r"send_notifications\[.*\] succeeded in \S+: 10$", re.M)
        assert wait_until(
            lambda: claimed_ten.search(worker.output()),
            timeout=30,
            every=0.02,
            alive=worker.alive,
        ), worker.stop()
        assert len(sms.accepted) < len(rows)
        statuses = Counter(N.objects.filter(pk__in=[r.pk for r in rows]).values_list("status"))
        assert (N.Status.SENDING,) in statuses, (statuses, worker.output())
        output = worker.stop()
    finally:
        worker.stop()
    assert worker.process.returncode == 0, output
    assert all_sent(rows), Counter(N.objects.values_list("status", flat=True))
    assert texts_per_phone(sms) == Counter(phone(r) for r in residents)
    assert "still in flight" not in output
