"""The transparency rollups: every published figure recomputed from the records, in SQL.

`transparency_refresh` replaces whole months of `MetricRollup` rows in one transaction: one
DELETE and four INSERT ... SELECT statements (calls, encounters and the people in them,
referrals, follow-ups), each grouping by month and district and, through GROUPING SETS, by
month alone for the all-districts rows. Medians and 90th percentiles are PostgreSQL's
`percentile_cont`. No Python loop ever touches a record, so a million calls take seconds.
Readers see the old figures until the new ones commit. The statements are in statements.py.

Definitions in words: cases/transparency/definitions.py and docs/metrics.md.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from cases.models import MetricRefresh, RefreshScope
from cases.services.transparency.statements import STEPS

logger = logging.getLogger(__name__)

# Months a routine refresh recomputes: the current one and the two before it. Referral and
# follow-up figures settle within 30 days of the month they are counted in; the daily full
# refresh catches anything later.
RECENT_MONTHS = 3
# A routine refresh turns into a full one when the last full refresh is older than this.
FULL_REFRESH_EVERY = timedelta(hours=24)
# pg_try_advisory_xact_lock key: one refresh at a time ("ACS transparency").
_LOCK_KEY = 0x4143_5354

_INSERT = """
INSERT INTO cases_metricrollup (
    public_id, created_at, updated_at, refreshed_at, month, district, metric, dimension, count,
    people, denominator, denominator_people, median_seconds, p90_seconds)
SELECT gen_random_uuid(), %(now)s, %(now)s, %(now)s, r.* FROM ({body}) AS r
"""


def month_start(month: date) -> datetime:
    """Midnight on the first of `month`, department time, as an aware datetime."""
    return datetime(month.year, month.month, 1, tzinfo=ZoneInfo(settings.TIME_ZONE))


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def current_month(now: datetime | None = None) -> date:
    local = timezone.localtime(now or timezone.now(), ZoneInfo(settings.TIME_ZONE))
    return date(local.year, local.month, 1)


def _first_month_with_records() -> date | None:
    from cases.models import Call, Encounter
    from resources.models import Referral

    firsts = [
        Call.objects.aggregate(at=Min("received_at"))["at"],
        Encounter.objects.filter(status="submitted").aggregate(at=Min("occurred_at"))["at"],
        Referral.objects.aggregate(at=Min("sent_at"))["at"],
    ]
    firsts = [at for at in firsts if at is not None]
    return current_month(min(firsts)) if firsts else None


def _last_month_with_records() -> date | None:
    from cases.models import Call, Encounter

    lasts = [
        Call.objects.aggregate(at=Max("received_at"))["at"],
        Encounter.objects.filter(status="submitted").aggregate(at=Max("occurred_at"))["at"],
    ]
    lasts = [at for at in lasts if at is not None]
    return current_month(max(lasts)) if lasts else None


def transparency_refresh(
    *, full: bool | None = None, now: datetime | None = None
) -> MetricRefresh | None:
    """Recompute the transparency rollups from the records and record the run.

    `full=True` recomputes every month that has records; `full=False` the current month and
    the two before it; `None` decides: full when no full refresh has finished in the last 24
    hours. Whole months are replaced in one transaction, so a reader sees either the old
    figures or the new. One refresh at a time: when another holds the lock this one returns
    None at once (the periodic task and an on-demand run may overlap harmlessly).
    """
    now = now or timezone.now()
    started = time.perf_counter()
    if full is None:
        last_full = (
            MetricRefresh.objects.filter(scope=RefreshScope.FULL)
            .order_by("-finished_at")
            .values_list("finished_at", flat=True)
            .first()
        )
        full = last_full is None or now - last_full > FULL_REFRESH_EVERY
    this_month = current_month(now)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
            if not cursor.fetchone()[0]:
                logger.info("transparency refresh skipped: another one is running")
                return None
        if full:
            first = _first_month_with_records() or this_month
            last = max(this_month, _last_month_with_records() or this_month)
            delete_from, delete_to = None, None  # every month, including ones now empty
        else:
            first, last = add_months(this_month, -(RECENT_MONTHS - 1)), this_month
            delete_from, delete_to = first, add_months(last, 1)
        params: dict[str, Any] = {
            "tz": settings.TIME_ZONE,
            "start": month_start(first),
            "end": month_start(add_months(last, 1)),
            "now": now,
        }
        rows = 0
        with connection.cursor() as cursor:
            # The planner's estimates for these CTEs are far too high, which would make
            # PostgreSQL spend seconds JIT-compiling statements that run in milliseconds.
            cursor.execute("SET LOCAL jit = off")
            # Room to hash and sort a million calls in memory, for this transaction only.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            if delete_from is None:
                cursor.execute("DELETE FROM cases_metricrollup")
            else:
                cursor.execute(
                    "DELETE FROM cases_metricrollup WHERE month >= %s AND month < %s",
                    [delete_from, delete_to],
                )
            for kind, name, sql in STEPS:
                if kind == "facts":
                    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
                    cursor.execute(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {sql}", params)
                    cursor.execute(f"ANALYZE {name}")
                else:
                    cursor.execute(_INSERT.format(body=sql), params)
                    rows += cursor.rowcount
            cursor.execute("ANALYZE cases_metricrollup")
        seconds = time.perf_counter() - started
        refresh = MetricRefresh.objects.create(
            scope=RefreshScope.FULL if full else RefreshScope.RECENT,
            first_month=first,
            last_month=last,
            rows=rows,
            started_at=now,
            finished_at=now + timedelta(seconds=seconds),
            seconds=seconds,
        )
    logger.info(
        "transparency refresh (%s) of %s..%s: %d rows in %.1f s",
        refresh.scope,
        first,
        last,
        rows,
        seconds,
    )
    return refresh
