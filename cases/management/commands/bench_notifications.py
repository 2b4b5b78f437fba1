"""Benchmark the notification outbox: end-to-end throughput through the real queue, and the
cost of the sweep as pending rows pile up.

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE acs_notif_bench' postgres
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/acs_notif_bench
    export REDIS_URL=redis://127.0.0.1:6379/0
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py bench_notifications     # --notifications 2000 --runs 20 ...
    psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE acs_notif_bench' postgres

Throughput: K due texts (one per generated resident, each with SMS consent) are sent by one
`celery -A acs worker --concurrency 2` (prefork, as docker-compose runs it: two processes
taking tasks) or, with `--layout solo`, two `--pool solo --concurrency 1` workers, on a queue
of their own, to the local SMS provider (cases/local_sms.py) in a process of its own, served
by one event loop (the floors below send to the same one). Twice:
rows found by the sweep (`sweep_notifications`, one batch task per NOTIFICATION_BATCH_SIZE
rows), and rows scheduled through `notification_schedule` in one transaction (batch tasks on
commit). The workers run with NOTIFICATION_BATCH_SIZE, NOTIFICATION_SEND_CONCURRENCY and
SMS_RATE_PER_SECOND from --batch, --concurrency and --rate (0: no limit of ours; the local
provider has none).

Sweep cost: the marking statement `sweep_notifications` runs (`notifications_queue_due`, ten
batch tasks' rows at a time), rolled back after each run, over 10 thousand, 100 thousand and
1 million pending rows that are not due yet plus 500 that are, with the EXPLAIN plan of the
statement it actually ran.

Floors measured in the same run: the same number of texts posted straight to the provider by
a plain HTTP client (no database, broker or worker): a new connection each from 2 threads, and
over keep-alive connections from as many threads as the workers send with; and the sweep's
statement run in plain SQL (cases/management/notifications_bench.py). Each pass also reports
the workers' CPU per text (user + system time of the worker processes and their pool's
children over the pass), and the job's floor its own, whatever the machine's load.

Refuses to run in production, without REDIS_URL, or on a database whose name lacks "bench"
(unless --force). Deletes every row it made, and its queue, when done. The test suite's smoke
run: `--notifications 5 --pending 50 --due 5 --runs 2 --force`.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import override_settings

from acs.embedded import database_url
from cases.local_sms import ProviderProcess
from cases.management.notifications_bench import Floors, SweepCost, percentile
from cases.models import Consent, Notification, Resident
from cases.services.notifications import notification_schedule

N = Notification

INSERT_ROWS = """
INSERT INTO cases_notification (
    public_id, created_at, updated_at, recipient_kind, resident_id, channel, template,
    language, context, due_at, expires_at, status, next_attempt_at, attempts, to_address,
    body, provider_message_id, provider_status, last_error)
SELECT gen_random_uuid(), now(), now(), 'resident',
       (%(residents)s::bigint[])[1 + i %% %(nr)s], 'sms', 'checkin', 'en', '{{}}'::jsonb,
       t, t + interval '2 days', 'pending', t, 0, '', '', '', '', ''
FROM (
    SELECT i, {when} AS t FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS i
) AS g
"""
# Not due: spread over the next 30 days, from one hour ahead (follow-up reminders and texts
# held for the morning). Due: spread over the last few minutes.
TASK_DONE = re.compile(r"send_notifications\[[^\]]+\] succeeded in ([\d.e-]+)s")
NOT_DUE = "now() + interval '1 hour' + ((i * 7919) %% 2592000) * interval '1 second'"
DUE = "now() - (i %% 600) * interval '1 second'"


def worker_database_url() -> str:
    """This process's database as DATABASE_URL, for the workers (TCP host or socket folder)."""
    return database_url(connection.settings_dict)


class Command(Floors, SweepCost, BaseCommand):
    help = (
        "Time the notification outbox: throughput end to end, and the sweep (docs/benchmarks.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--notifications", type=int, default=2000, help="K, per pass")
        parser.add_argument(
            "--pending",
            default="10000,100000,1000000",
            help="pending rows not yet due, cumulative sizes for the sweep (comma-separated)",
        )
        parser.add_argument("--due", type=int, default=500, help="due rows for the sweep")
        parser.add_argument("--runs", type=int, default=20, help="timed sweeps per size")
        parser.add_argument("--layout", choices=["prefork", "solo"], default="prefork")
        parser.add_argument("--batch", type=int, default=settings.NOTIFICATION_BATCH_SIZE)
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.NOTIFICATION_SEND_CONCURRENCY,
            help="NOTIFICATION_SEND_CONCURRENCY: the most sends at once per batch",
        )
        parser.add_argument(
            "--concurrency-min",
            type=int,
            default=settings.NOTIFICATION_SEND_CONCURRENCY_MIN,
            help="NOTIFICATION_SEND_CONCURRENCY_MIN (equal to --concurrency: fixed)",
        )
        parser.add_argument("--rate", type=int, default=0, help="SMS_RATE_PER_SECOND (0: none)")
        parser.add_argument("--skip-throughput", action="store_true")
        parser.add_argument("--skip-sweep", action="store_true")
        parser.add_argument("--force", action="store_true", help="run on any non-production db")

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Refusing to run in production.")
        name = connection.settings_dict["NAME"]
        if "bench" not in name and not options["force"]:
            raise CommandError(f"Refusing to add rows to {name!r}: use a *bench* database.")
        if not settings.REDIS_URL:
            raise CommandError("Set REDIS_URL: the throughput figure is for the real broker.")
        self.user = None
        self.resident_ids: list[int] = []
        self.rates: list[tuple[str, float]] = []
        self.floors: dict[str, float] = {}
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-notif-"))
        try:
            self.make_residents(max(options["notifications"], 100))
            self.stdout.write(
                f"database {name!r}, PostgreSQL {connection.pg_version // 10000}, "
                f"broker {settings.REDIS_URL.split('@')[-1]}, {os.cpu_count()} cores, "
                f"load average {os.getloadavg()[0]:.2f} (anything else running skews the figures)"
            )
            if not options["skip_throughput"]:
                # No hour is quiet here either (as in the workers), or texts scheduled at night
                # would be held until the morning and the pass would never end.
                with override_settings(QUIET_HOURS_START=0, QUIET_HOURS_END=0):
                    self.throughput(
                        options["notifications"],
                        options["layout"],
                        batch=options["batch"],
                        concurrency=options["concurrency"],
                        concurrency_min=options["concurrency_min"],
                        rate=options["rate"],
                    )
            if not options["skip_sweep"]:
                sizes = [int(s) for s in options["pending"].split(",") if s.strip()]
                self.sweep_cost(sizes, options["due"], options["runs"])
        finally:
            self.clean_up()
        shutil.rmtree(self.tmp)  # the worker logs, kept when something failed

    # --- data ----------------------------------------------------------------------------

    def make_residents(self, count: int) -> None:
        tag = uuid.uuid4().hex[:8]
        self.user = get_user_model().objects.create(username=f"bench-notifications-{tag}")
        residents = Resident.objects.bulk_create(
            Resident(preferred_name=f"bench {tag}", phone=f"+1505{2_000_000 + i:07d}")
            for i in range(count)
        )
        self.resident_ids = [r.pk for r in residents]
        Consent.objects.bulk_create(
            Consent(
                resident=r,
                scope=Consent.Scope.SMS,
                method=Consent.Method.VERBAL,
                recorded_by=self.user,
            )
            for r in residents
        )

    def insert(self, start: int, stop: int, *, due: bool, residents: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                INSERT_ROWS.format(when=DUE if due else NOT_DUE),
                {"residents": residents, "nr": len(residents), "start": start, "stop": stop},
            )

    def clean_up(self) -> None:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            ids = self.resident_ids
            cursor.execute("DELETE FROM cases_notification WHERE resident_id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM cases_consent WHERE resident_id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM cases_resident WHERE id = ANY(%s)", [ids])
        if self.user is not None:
            self.user.delete()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE cases_notification")
        self.stdout.write(f"cleaned up in {time.perf_counter() - started:.1f} s")

    # --- throughput ------------------------------------------------------------------------

    def throughput(
        self, k: int, layout: str, *, batch: int, concurrency: int, concurrency_min: int, rate: int
    ):
        from cases.tasks import sweep_notifications

        prefix = f"acs-bench-{uuid.uuid4().hex[:12]}-"
        # Queues of its own, so a demo worker on the same Redis never takes these tasks (put
        # back afterwards: the command may run inside another process, as the smoke test does).
        # The router reads the prefix at each send (acs/queues.py); the workers serve all three.
        own_queues = override_settings(TASK_QUEUE_PREFIX=prefix)
        own_queues.enable()
        receiver = ProviderProcess(cwd=str(settings.BASE_DIR)).start()
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "TASK_QUEUE_PREFIX": prefix,
            "QUIET_HOURS_START": "0",  # start == end: no hour is quiet
            "QUIET_HOURS_END": "0",
            "NOTIFICATION_BATCH_SIZE": str(batch),
            "NOTIFICATION_SEND_CONCURRENCY": str(concurrency),
            "NOTIFICATION_SEND_CONCURRENCY_MIN": str(concurrency_min),
            "SMS_RATE_PER_SECOND": str(rate),
            **receiver.settings(),
        }
        # The sweep and the on-commit queueing in this process cut batches of the same size.
        own_batches = override_settings(NOTIFICATION_BATCH_SIZE=batch)
        own_batches.enable()
        if layout == "prefork":
            shapes = [["--pool", "prefork", "--concurrency", "2"]]
        else:
            shapes = [["--pool", "solo", "--concurrency", "1"]] * 2
        workers = []
        try:
            for i, shape in enumerate(shapes):
                log = self.tmp / f"worker-{i}.log"
                with log.open("ab") as out:
                    command = [sys.executable, "-m", "celery", "-A", "acs", "worker"]
                    command += [*shape, "--hostname", f"bench{i}-{os.getpid()}@%h"]
                    command += ["--loglevel", "info", "--without-gossip", "--without-mingle"]
                    workers.append(
                        (
                            subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                                command,
                                cwd=settings.BASE_DIR,
                                env=env,
                                stdout=out,
                                stderr=subprocess.STDOUT,
                            ),
                            log,
                        )
                    )
            for _, log in workers:
                self.wait(lambda log=log: " ready." in log.read_text(errors="replace"), 60)
            self.stdout.write(
                f"\nthroughput: {k} texts per pass, "
                + (
                    "one worker --pool prefork --concurrency 2"
                    if layout == "prefork"
                    else "two workers --pool solo --concurrency 1"
                )
                + f"; batches of {batch}, "
                + (
                    f"{concurrency} sends at once per batch"
                    if concurrency_min >= concurrency
                    else f"{concurrency_min}-{concurrency} sends at once per batch (SendPace)"
                )
                + ", "
                + (f"at most {rate} texts/s" if rate else "no rate limit of ours")
            )

            # 1. Rows already in the table (a backlog): one sweep pass queues them.
            self.logs = [log for _, log in workers]
            self.worker_pids = [process.pid for process, _ in workers]
            self.mark_logs()
            last = N.objects.aggregate(last=Max("pk"))["last"] or 0
            self.insert(1, k, due=True, residents=self.resident_ids[:k])
            rows = list(N.objects.filter(pk__gt=last).values_list("pk", flat=True))
            started = time.perf_counter()
            queued = sweep_notifications()
            swept = time.perf_counter()
            done = self.drained(rows)
            detail = f"one sweep queued {queued} rows in {swept - started:.2f} s"
            self.report("swept", k, receiver, done - started, detail)

            # 2. Rows scheduled by the service in one transaction: a task each on commit.
            receiver.stats(reset=True)
            self.mark_logs()
            started = time.perf_counter()
            with transaction.atomic():
                residents = Resident.objects.filter(pk__in=self.resident_ids[:k])
                rows = [
                    notification_schedule(template="checkin", channel="sms", resident=r).pk
                    for r in residents
                ]
                inserted = time.perf_counter()
            published = time.perf_counter()
            done = self.drained(rows)
            detail = (
                f"{k} notification_schedule calls {inserted - started:.2f} s, "
                f"commit and queueing {published - inserted:.2f} s"
            )
            self.report("scheduled", k, receiver, done - started, detail)
            self.job_floor(receiver, k, sent=rows)
            self.http_floor(receiver, k, workers=2)
            self.http_floor(receiver, k, workers=2 * concurrency, keep_alive=True)
            floor = self.floors["job"]
            self.stdout.write(
                "  against the job's floor: "
                + ", ".join(f"{label} {100 * rate / floor:.0f}%" for label, rate in self.rates)
            )
            self.stdout.write(f"  load average after: {os.getloadavg()[0]:.2f}")
        finally:
            own_batches.disable()
            own_queues.disable()
            for process, _ in workers:
                process.terminate()
            for process, _ in workers:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            receiver.stop()
            self.drop_queues(prefix)

    def wait(self, predicate, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise CommandError(f"Timed out; worker logs in {self.tmp}")
            time.sleep(0.1)

    def drained(self, pks: list[int]) -> float:
        """When every row is sent (polled every 100 ms); fails on any other end."""
        deadline = time.monotonic() + 600
        while True:
            counts = Counter(N.objects.filter(pk__in=pks).values_list("status", flat=True))
            if counts[N.Status.SENT] == len(pks):
                return time.perf_counter()
            unexpected = set(counts) - {N.Status.PENDING, N.Status.SENDING, N.Status.SENT}
            if unexpected or time.monotonic() > deadline:
                raise CommandError(f"Not all sent: {dict(counts)}; worker logs in {self.tmp}")
            time.sleep(0.1)

    def mark_logs(self) -> None:
        self.log_offsets = [log.stat().st_size for log in self.logs]
        self.cpu_mark = self.workers_cpu()

    def workers_cpu(self) -> float:
        """User + system CPU seconds of the worker processes and their pool's children so
        far (the sender's own cost, whatever the machine's load)."""
        import psutil

        total = 0.0
        for pid in self.worker_pids:
            try:
                root = psutil.Process(pid)
                for process in [root, *root.children(recursive=True)]:
                    times = process.cpu_times()
                    total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    def task_seconds(self) -> list[float]:
        """How long each send_notifications (a batch) ran in a worker since `mark_logs` (from
        the workers' "succeeded in" lines): the work itself, without queueing."""
        found = []
        for log, offset in zip(self.logs, self.log_offsets, strict=True):
            with log.open("rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
            found += [float(s) for s in TASK_DONE.findall(text)]
        return sorted(found)

    def report(self, label: str, k: int, receiver: ProviderProcess, seconds: float, detail: str):
        got = receiver.stats()
        cpu = self.workers_cpu() - self.cpu_mark
        runs = self.task_seconds()
        self.rates.append((label, k / seconds))
        self.stdout.write(
            f"  {label:<9} {k / seconds:6.0f} texts/s end to end ({seconds:.1f} s); {detail}; "
            f"provider got {got['accepted']} texts from {got['requests']} sends, "
            f"{got['numbers_twice']} numbers twice; send_notifications (batches: the claim and"
            f" checks, the sends going on in the process's threads) in the worker logs "
            f"({len(runs)}): median {1000 * statistics.median(runs):.1f} ms, "
            f"p95 {1000 * percentile(runs, 0.95):.1f} ms; the workers' CPU (user + sys) "
            f"{1000 * cpu / k:.2f} ms a text"
        )

    def drop_queues(self, prefix: str) -> None:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = [
            *client.scan_iter(match=f"{prefix}*"),
            *client.scan_iter(match=f"_kombu.binding.{prefix}*"),
        ]
        if keys:
            client.delete(*keys)
