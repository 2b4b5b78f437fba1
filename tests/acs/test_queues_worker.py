"""A long export never delays a text (#24): real workers laid out as `dev.py up` runs them (one
for realtime and maintenance with two slots, one for bulk with one slot), on real Redis, with two
exports that take long (tests/slow_export_worker.py) while texts fall due. The texts reach the
local SMS provider within seconds while an export still runs, and /healthz stays 200 while beat's
heartbeats (sent here each second) go into each queue."""

import os
import time
from datetime import date, timedelta

import pytest
from django.db import transaction

import dev
from acs.queues import KINDS
from acs.tasks import worker_heartbeat
from cases.exports.models import ExportJob, ExportStatus
from cases.exports.services import export_request
from cases.local_sms import SmsReceiver
from cases.models import Consent, Notification
from cases.services.notifications import notification_schedule
from tests.factories import ResidentFactory
from tests.workers import restore_role_groups, start_worker, wait_until, worker_database_url

pytestmark = [pytest.mark.redis, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

EXPORT_SECONDS = 15  # each export; the texts must not wait for one
TEXTS_WITHIN = 5.0  # seconds from scheduling to the provider
NEVER_QUIET = {"QUIET_HOURS_START": "0", "QUIET_HOURS_END": "0"}


@pytest.fixture
def sms(settings):
    receiver = SmsReceiver().start()
    for name, value in {**receiver.settings(), **NEVER_QUIET}.items():
        setattr(settings, name, int(value) if name.startswith("QUIET") else value)
    yield receiver
    receiver.stop()


def test_texts_leave_on_time_and_healthz_stays_200_while_two_long_exports_run(
    transactional_db, sms, case_manager, settings, client, tmp_path
):
    restore_role_groups()
    residents = []
    for i in range(3):
        resident = ResidentFactory(phone=f"(505) 555-02{i:02d}", preferred_language="en")
        Consent.objects.create(
            resident=resident,
            scope=Consent.Scope.SMS,
            method=Consent.Method.VERBAL,
            recorded_by=case_manager,
        )
        residents.append(resident)
    settings.EXPORTS_ROOT = tmp_path / "exports"
    # Fresh means within 6 s here (120 s in production), heartbeats each second.
    settings.HEALTH_WORKER_MAX_AGE = timedelta(seconds=6)
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "EXPORTS_ROOT": str(settings.EXPORTS_ROOT),
        "TEST_EXPORT_SECONDS": str(EXPORT_SECONDS),
        "HEALTH_BUSY_HEARTBEAT_SECONDS": "1",
        **sms.settings(),
        **NEVER_QUIET,
    }
    # Both run exports slowly: whichever worker takes one is held up by it.
    workers = [
        start_worker(
            env,
            tmp_path / f"{name}.log",
            name=name,
            pool="prefork",
            concurrency=concurrency,
            kinds=kinds,
            module="tests.slow_export_worker",
        )
        for name, (kinds, concurrency) in dev.WORKERS.items()
    ]
    statuses = []

    def beat_and_probe() -> int:
        for kind in KINDS:
            worker_heartbeat.delay(kind)
        status = client.get("/healthz").status_code
        statuses.append(status)
        return status

    def logs() -> str:
        return "\n".join(f"--- {w.log.name}\n{w.stop()}" for w in workers)

    try:
        for worker in workers:
            worker.wait_ready()
        assert wait_until(lambda: beat_and_probe() == 200, timeout=30, every=1), client.get(
            "/healthz"
        ).json()

        exports = [
            export_request(
                actor=case_manager,
                kind="residents_csv",
                start_date=date(2026, 2, 1),
                end_date=date(2026, 2, 28),
            )
            for _ in range(2)
        ]
        assert wait_until(
            lambda: ExportJob.objects.filter(status=ExportStatus.RUNNING).exists(), timeout=20
        ), logs()

        statuses.clear()
        started = time.monotonic()
        with transaction.atomic():
            texts = [
                notification_schedule(template="checkin", channel="sms", resident=r)
                for r in residents
            ]
        arrived = wait_until(
            lambda: len(sms.accepted) == len(texts), timeout=TEXTS_WITHIN, every=0.05
        )
        took = time.monotonic() - started
        assert arrived, f"{len(sms.accepted)} of {len(texts)} texts after {took:.1f} s"
        # Recorded with their batch, a moment after the last of them reached the provider.
        assert wait_until(
            lambda: Notification.objects.filter(status=Notification.Status.SENT).count() == 3,
            timeout=2,
            every=0.05,
        )
        # The exports are still going: neither has finished.
        assert (
            not ExportJob.objects.filter(pk__in=[e.pk for e in exports])
            .exclude(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING])
            .exists()
        )

        # Beat's heartbeats while the exports run: every queue stays served.
        while time.monotonic() - started < 10:
            beat_and_probe()
            time.sleep(1)
        assert ExportJob.objects.filter(status=ExportStatus.RUNNING).exists()
        assert set(statuses) == {200}, (statuses, client.get("/healthz").json())

        # Both exports finish, one after the other, in the bulk worker's one slot.
        assert wait_until(
            lambda: ExportJob.objects.filter(status=ExportStatus.DONE).count() == 2,
            timeout=3 * EXPORT_SECONDS,
        ), logs()
    finally:
        output = logs()
    realtime, bulk = (worker.output() for worker in workers)
    assert bulk.count("Task cases.tasks.run_export[") >= 2, output
    assert "Task cases.tasks.send_notifications[" not in bulk
    assert realtime.count("Task cases.tasks.send_notifications[") >= 1, output  # one batch
    assert "Task cases.tasks.run_export[" not in realtime
