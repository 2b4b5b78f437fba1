"""The parts of `manage.py bench_notifications` that measure against a floor: the job's floor
and the plain HTTP floors of a send (mixed into its Command as `Floors`), and the sweep's cost
with its plain-SQL floor (`SweepCost`). They use the command's `stdout`, `floors`, `insert` and
`resident_ids`; see cases/management/commands/bench_notifications.py."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils.timezone import now as timezone_now

from cases.local_sms import ProviderProcess
from cases.models import Notification
from cases.services.notifications import SWEEP_BATCHES_PER_STATEMENT, notifications_queue_due

N = Notification
INDEX = "cases_notif_due_idx"
# The job's floor records each batch of results in one statement.
JOB_RECORD = """
UPDATE cases_notification AS n
SET status = 'sent', sent_at = %s, provider_message_id = v.sid, to_address = v.to_address,
    body = v.body
FROM (VALUES {values}) AS v(id, sid, to_address, body)
WHERE n.id = v.id
"""


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[max(0, round(len(sorted_values) * p) - 1)]


class Floors:
    """The least a sender must do, measured in the same run as the workers."""

    stdout: Any
    floors: dict[str, float]
    resident_ids: list[int]
    insert: Callable[..., None]  # the command's

    def job_floor(self, receiver: ProviderProcess, k: int, *, sent: list[int]) -> None:
        """The least any durable sender must do (issue 24): the same k texts (the numbers and
        words the scheduled pass sent) posted one after another over one keep-alive connection
        by a plain client (http.client), each batch of 100 results recorded in PostgreSQL with
        one statement and one commit, on k rows of its own. No broker, no worker, no checks."""
        import base64
        import http.client
        import json
        from urllib.parse import urlsplit

        texts = list(N.objects.filter(pk__in=sent).order_by("pk").values_list("to_address", "body"))
        last = N.objects.aggregate(last=Max("pk"))["last"] or 0
        self.insert(1, k, due=False, residents=self.resident_ids[:k])
        ids = list(N.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True))
        settings_ = receiver.settings()
        base = urlsplit(settings_["SMS_API_BASE_URL"])
        path = f"/2010-04-01/Accounts/{settings_['SMS_ACCOUNT_SID']}/Messages.json"
        login = f"{settings_['SMS_ACCOUNT_SID']}:{settings_['SMS_AUTH_TOKEN']}".encode()
        headers = {
            "Authorization": "Basic " + base64.b64encode(login).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        row = "(%s::bigint, %s::varchar, %s::varchar, %s::text)"
        before = receiver.stats()["accepted"]
        started, cpu = time.perf_counter(), time.process_time()
        client = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
        for start in range(0, k, 100):
            params: list = [timezone_now()]
            chunk = ids[start : start + 100]
            for pk, (to, body) in zip(chunk, texts[start : start + 100], strict=True):
                form = urlencode({"To": to, "From": settings_["SMS_FROM_NUMBER"], "Body": body})
                client.request("POST", path, body=form, headers=headers)
                answer = client.getresponse()
                sid = json.loads(answer.read())["sid"]
                params += [pk, sid, to, body]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(JOB_RECORD.format(values=", ".join([row] * len(chunk))), params)
        client.close()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if receiver.stats()["accepted"] - before != k:
            raise CommandError("The provider did not accept every text of the job's floor.")
        if N.objects.filter(pk__in=ids, status=N.Status.SENT).count() != k:
            raise CommandError("The job's floor did not record every text.")
        self.floors["job"] = k / seconds
        self.stdout.write(
            f"  floor job {k / seconds:6.0f} texts/s: the same {k} texts one after another over"
            f" one keep-alive connection (http.client), each 100 results recorded in one"
            f" statement and one commit ({seconds:.1f} s; its CPU {1000 * cpu / k:.2f} ms a text)"
        )

    def http_floor(
        self, receiver: ProviderProcess, k: int, *, workers: int, keep_alive: bool = False
    ) -> None:
        """The floor of a send: k texts posted straight to the provider by a plain HTTP
        client from `workers` threads; no database, broker or Celery. urllib with a new
        connection each, or (`keep_alive`) one requests.Session with a pool of keep-alive
        connections, as each worker process sends."""
        import base64
        import urllib.request
        from concurrent.futures import ThreadPoolExecutor

        import requests
        from requests.adapters import HTTPAdapter

        settings_ = receiver.settings()
        url = f"{settings_['SMS_API_BASE_URL']}/2010-04-01/Accounts/{settings_['SMS_ACCOUNT_SID']}"
        url += "/Messages.json"
        login = f"{settings_['SMS_ACCOUNT_SID']}:{settings_['SMS_AUTH_TOKEN']}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(login).decode()}
        before = receiver.stats()["accepted"]

        session = requests.Session()
        session.mount("http://", HTTPAdapter(pool_maxsize=workers))

        def post(i: int) -> float:
            data = urlencode(
                {"To": f"+1505{3_000_000 + i:07d}", "From": "+15055550000", "Body": "bench"}
            ).encode()
            if keep_alive:
                start = time.perf_counter()
                response = session.post(url, data=data, headers=headers, timeout=30)
                response.raise_for_status()
                return 1000 * (time.perf_counter() - start)
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local
                response.read()
            return 1000 * (time.perf_counter() - start)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            timings = sorted(pool.map(post, range(k)))
        seconds = time.perf_counter() - started
        if receiver.stats()["accepted"] - before != k:
            raise CommandError("The provider did not accept every text of the floor.")
        session.close()
        label = "floor" if not keep_alive else "floor ka"
        how = "over keep-alive connections" if keep_alive else "a new connection each"
        self.stdout.write(
            f"  {label:<9} {k / seconds:6.0f} texts/s: {k} posts to the provider from a plain "
            f"HTTP client in {workers} threads, {how} ({seconds:.1f} s); a post: median "
            f"{statistics.median(timings):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms"
        )


class SweepCost:
    """The sweep's marking statement over growing numbers of rows that are not due yet."""

    stdout: Any
    resident_ids: list[int]
    insert: Callable[..., None]  # the command's

    def sweep_cost(self, sizes: list[int], due: int, runs: int) -> None:
        rows = settings.NOTIFICATION_BATCH_SIZE * SWEEP_BATCHES_PER_STATEMENT
        self.stdout.write(
            f"\nsweep: the marking statement sweep_notifications runs (notifications_queue_due,"
            f" up to {rows} rows: {SWEEP_BATCHES_PER_STATEMENT} batch tasks' worth), {runs} runs"
            f" per size, each rolled back, with {due} due rows"
        )
        base = N.objects.count()
        self.insert(1, due, due=True, residents=self.resident_ids)
        have = 0
        for size in sorted(sizes):
            started = time.perf_counter()
            self.insert(have + 1, size, due=False, residents=self.resident_ids)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE cases_notification")
                cursor.execute(
                    "SELECT pg_relation_size(%s), pg_total_relation_size('cases_notification')",
                    [INDEX],
                )
                index_bytes, table_bytes = cursor.fetchone()
            filled = time.perf_counter() - started
            have = size
            for _ in range(3):
                self.sweep_once(rows)
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                found = self.sweep_once(rows)
                timings.append(1000 * (time.perf_counter() - started))
            if len(found) != min(due, rows):
                raise CommandError(f"The sweep found {len(found)} rows, not {due}.")
            timings.sort()
            floor = self.sql_floor(runs, rows)
            plan = self.plan(rows)
            uses_index = INDEX in plan
            self.stdout.write(
                f"  {size:>9,} not due + {due} due ({base:,} other rows; filled in {filled:.0f} s;"
                f" table {table_bytes / 2**20:.0f} MB, {INDEX} {index_bytes / 2**20:.1f} MB): "
                f"median {statistics.median(timings):.2f} ms, p95 {percentile(timings, 0.95):.2f}"
                f" ms, max {timings[-1]:.2f} ms; plan uses {INDEX}: "
                f"{'yes' if uses_index else 'NO'}"
            )
            self.stdout.write(
                f"    floor, the same statement in plain SQL: median "
                f"{statistics.median(floor):.2f} ms, p95 {percentile(floor, 0.95):.2f} ms"
            )
            self.stdout.write("    " + plan.replace("\n", "\n    "))

    def sweep_once(self, rows: int) -> list[int]:
        """The sweep's marking statement, rolled back (the rows stay due for the next run)."""
        with transaction.atomic():
            found = notifications_queue_due(batch=rows)
            transaction.set_rollback(True)
        return found

    def sweep_statement(self, rows: int) -> str:
        """The statement the sweep runs, as sent to PostgreSQL."""
        with CaptureQueriesContext(connection) as queries:
            self.sweep_once(rows)
        (sql,) = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
        return sql

    def sql_floor(self, runs: int, rows: int) -> list[float]:
        """The sweep's statement through a bare cursor, each run in a transaction of its own
        (rolled back, as the timed runs are), without the service around it."""
        sql = self.sweep_statement(rows)
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
                cursor.fetchall()
                transaction.set_rollback(True)
            timings.append(1000 * (time.perf_counter() - started))
        return sorted(timings)

    def plan(self, rows: int) -> str:
        """EXPLAIN (ANALYZE, BUFFERS) of the sweep's statement (rolled back)."""
        sql = self.sweep_statement(rows)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        return plan
