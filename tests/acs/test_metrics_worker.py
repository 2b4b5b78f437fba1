"""/metrics follows the real system (#23): with the real Redis and a real Celery worker, a text
queued in a request shows as outbox backlog 1 and one task waiting on the realtime queue; once
the worker has sent it the backlog and the queue are 0 and the realtime queue's succeeded tasks
went up. The worker logs JSON (LOG_FORMAT=json) and its line for the task carries the request
id of the request that queued it."""

import json
import os
import uuid

import pytest
from django.db import transaction

from acs import request_id
from acs.queues import KINDS, queue_name
from cases.local_sms import SmsReceiver
from cases.models import Consent, Notification
from cases.services.notifications import notification_schedule
from tests.acs.metrics_scrape import TOKEN, scrape, value
from tests.factories import ResidentFactory
from tests.workers import restore_role_groups, start_worker, wait_until, worker_database_url

pytestmark = [pytest.mark.redis, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

NEVER_QUIET = {"QUIET_HOURS_START": "0", "QUIET_HOURS_END": "0"}


@pytest.fixture
def sms(settings):
    receiver = SmsReceiver().start()
    for name, value_ in {**receiver.settings(), **NEVER_QUIET}.items():
        setattr(settings, name, int(value_) if name.startswith("QUIET") else value_)
    yield receiver
    receiver.stop()


def test_metrics_show_the_outbox_and_the_queue_filling_then_draining(
    transactional_db, sms, case_manager, settings, client, tmp_path
):
    restore_role_groups()
    settings.METRICS_TOKEN = TOKEN
    resident = ResidentFactory(phone="(505) 555-0177", preferred_language="en")
    Consent.objects.create(
        resident=resident,
        scope=Consent.Scope.SMS,
        method=Consent.Method.VERBAL,
        recorded_by=case_manager,
    )
    # Tasks that earlier tests of this process queued with no worker to take them (texts
    # scheduled on commit) are not this test's: its queues start empty.
    import redis

    redis.Redis.from_url(settings.REDIS_URL).delete(*(queue_name(kind) for kind in KINDS))
    before = scrape(client)
    assert value(before, "acs_outbox_notifications", status="pending") == 0
    assert all(value(before, "acs_celery_queue_length", queue=k) == 0 for k in KINDS)
    succeeded_before = value(
        before, "acs_celery_tasks_total", queue="realtime", outcome="succeeded"
    )

    # Queued as a request would: with its request id current.
    rid = uuid.uuid4().hex
    token = request_id.current.set(rid)
    try:
        with transaction.atomic():
            notification_schedule(template="checkin", channel="sms", resident=resident)
    finally:
        request_id.current.reset(token)

    waiting = scrape(client)
    assert value(waiting, "acs_outbox_notifications", status="pending") == 1
    assert value(waiting, "acs_celery_queue_length", queue="realtime") == 1
    assert value(waiting, "acs_celery_queue_length", queue="bulk") == 0

    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "LOG_FORMAT": "json",
        **sms.settings(),
        **NEVER_QUIET,
    }
    worker = start_worker(env, tmp_path / "worker.log", kinds=("realtime",))
    try:
        worker.wait_ready()
        assert wait_until(lambda: len(sms.accepted) == 1, timeout=30), worker.output()

        def drained():
            samples = scrape(client)
            return (
                value(samples, "acs_outbox_notifications", status="pending") == 0
                and value(samples, "acs_outbox_notifications", status="sending") == 0
                and value(samples, "acs_celery_queue_length", queue="realtime") == 0
                and samples
            )

        done = wait_until(drained, timeout=15, every=0.2)
        assert done, (scrape(client), worker.output())
        assert Notification.objects.get().status == Notification.Status.SENT
        assert value(done, "acs_outbox_oldest_due_age_seconds") == 0
        # The send task (and the worker's start-up heartbeat) succeeded on realtime.
        succeeded = value(done, "acs_celery_tasks_total", queue="realtime", outcome="succeeded")
        assert succeeded >= succeeded_before + 2
        # Nothing ran on bulk meanwhile (counted from before: other tests' tasks stay counted).
        bulk_before = value(before, "acs_celery_tasks_total", queue="bulk", outcome="succeeded")
        assert (
            value(done, "acs_celery_tasks_total", queue="bulk", outcome="succeeded") == bulk_before
        )
    finally:
        output = worker.stop()

    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert lines, output
    assert all(
        set(line) <= {"time", "level", "logger", "message", "request_id", "exc_info"}
        for line in lines
    )
    task_lines = [line for line in lines if line["request_id"] == rid]
    assert any("send_notifications" in line["message"] for line in task_lines), output
    assert "555-0177" not in output
