"""Keeping the opening intervals (resources.models.opening_hours) equal to the schedules.

The spans are computed by `opening_hours.sessions_between` over `effective_schedules`, the
same functions `is_open` uses: there is one reading of a schedule, in Python. This module only
decides *which* services at locations to recompute and *for which days*:

- `opening_intervals_refresh`: the services at locations a schedule change touches (its own,
  every one of its service, every one at its location), recomputed for the recorded window
  and today's (their union), so the window's promise holds for every row at every moment.
- `opening_intervals_roll`: the whole directory for today's window (yesterday to 14 days
  ahead): the days before it are dropped and the days it adds computed (on an ordinary day,
  one), a day and BATCH services at locations at a time (bounded memory), each batch its own
  transaction; the recorded window is first narrowed to the days both windows share, and
  widened to the new one when every batch is done. The daily task calls it; forced (every
  day recomputed), `generate_directory` and `manage.py build_opening_intervals` do.

Rows are kept per day a session starts on (spans merged within a day only), so that a roll
appends one day and drops one, and the table stays in time order. Each service at location's
rows are also kept as one multirange (OpeningSpans, their `range_agg`), rewritten in the same
transaction as its intervals (by a roll, once after its last day, before the window it
records covers the new days): the search asks that row, one per place.

Write paths: model saves and deletes of Schedule and ServiceAtLocation (admin, demo seed,
shell) are caught by the receivers at the bottom (connected by ResourcesConfig.ready), which
refresh after the transaction commits; bulk writers, which send no signals, call the service
themselves (the HSDS import, the synthetic generator).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from acs.on_commit import enqueue_on_commit
from resources.models import (
    OpeningHoursWindow,
    OpeningInterval,
    Schedule,
    ServiceAtLocation,
)
from resources.opening_hours import (
    DEPARTMENT_TZ,
    RULE_FIELDS,
    Rule,
    ScheduleError,
    ScheduleLike,
    effective_schedules,
    sessions_between,
)

# Days ahead the table answers for (an instant up to WINDOW_DAYS days from today, local time).
WINDOW_DAYS = 14
BATCH = 1000
# pg_try_advisory_lock key: one roll at a time ("ACS opening hours").
_ROLL_LOCK = 7_301_018

Days = tuple[date, date]


def window_for(today: date) -> Days:
    """Sessions starting yesterday (a night still running) to WINDOW_DAYS days ahead."""
    return today - timedelta(days=1), today + timedelta(days=WINDOW_DAYS)


def local_today() -> date:
    return timezone.now().astimezone(DEPARTMENT_TZ).date()


def window_recorded() -> Days | None:
    row = OpeningHoursWindow.objects.filter(pk=1).values_list("first_day", "last_day").first()
    return (row[0], row[1]) if row else None


def _record_window(days: Days | None) -> None:
    if days is None:
        OpeningHoursWindow.objects.filter(pk=1).delete()
    else:
        OpeningHoursWindow.objects.update_or_create(
            pk=1, defaults={"first_day": days[0], "last_day": days[1]}
        )


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _span_literal(start: datetime, end: datetime) -> str:
    return f"[{start.isoformat()},{end.isoformat()})"


# Each service at location's spans, rewritten from its intervals (OpeningSpans): written
# where they changed, deleted where no interval is left. Each row written once (not deleted
# and inserted again), since the search row's triggers copy every write (migration 0026).
_SPANS_WRITE = """
INSERT INTO resources_openingspans AS o (service_at_location_id, spans)
SELECT service_at_location_id, range_agg(during) FROM resources_openinginterval
WHERE service_at_location_id = ANY(%s)
GROUP BY service_at_location_id
ORDER BY service_at_location_id
ON CONFLICT (service_at_location_id) DO UPDATE SET spans = EXCLUDED.spans
WHERE o.spans IS DISTINCT FROM EXCLUDED.spans"""
_SPANS_DELETE = """
DELETE FROM resources_openingspans o WHERE o.service_at_location_id = ANY(%s)
AND NOT EXISTS (SELECT 1 FROM resources_openinginterval i
                WHERE i.service_at_location_id = o.service_at_location_id)"""


def _locked(sal_ids: list[int]) -> list[tuple[int, int, int]]:
    """(id, service, location) of these services at locations, locked by id (a refresh and a
    roll never interleave on one of them). Inside a transaction."""
    return list(
        ServiceAtLocation.objects.select_for_update()
        .filter(id__in=sal_ids)
        .order_by("id")
        .values_list("id", "service_id", "location_id")
    )


def _spans_rewrite(sal_ids: list[int]) -> None:
    """OpeningSpans of these services at locations, equal to their intervals again (none for
    a place with no interval). Inside the transaction that locked them."""
    with connection.cursor() as cursor:
        cursor.execute(_SPANS_WRITE, [sal_ids])
        cursor.execute(_SPANS_DELETE, [sal_ids])


def _rebuild(
    sal_ids: list[int], days: list[date], *, every_day: bool = False, with_spans: bool = True
) -> int:
    """Recompute the rows of these services at locations for the sessions starting on `days`
    (and drop their rows of any other day when `every_day`), and their spans unless
    `with_spans` is False (a roll rewrites them once, after its last day); returns the rows
    written. One transaction, the services at locations locked by id. Rows go in day by day,
    so the table stays ordered by time, which keeps the GiST index tight."""
    with transaction.atomic():
        rows = _locked(sal_ids)
        stale = OpeningInterval.objects.filter(service_at_location_id__in=sal_ids)
        (stale if every_day else stale.filter(day__in=days)).delete()
        if not rows:
            return 0
        ids = {r[0] for r in rows}
        service_ids = {r[1] for r in rows}
        location_ids = {r[2] for r in rows}
        by_sal: dict[int, list[Rule]] = {}
        by_service: dict[int, list[Rule]] = {}
        by_location: dict[int, list[Rule]] = {}
        schedules = (
            Schedule.objects.filter(
                Q(service_at_location_id__in=ids)
                | Q(service_id__in=service_ids)
                | Q(location_id__in=location_ids)
            )
            .order_by("id")
            .values_list("service_at_location_id", "service_id", "location_id", *RULE_FIELDS)
        )
        for sal_id, service_id, location_id, *fields in schedules:
            rule = Rule(**dict(zip(RULE_FIELDS, fields, strict=True)))
            if sal_id in ids:
                by_sal.setdefault(sal_id, []).append(rule)
            if service_id in service_ids:
                by_service.setdefault(service_id, []).append(rule)
            if location_id in location_ids:
                by_location.setdefault(location_id, []).append(rule)
        governing = {
            sal_id: tuple(
                effective_schedules(
                    by_sal.get(sal_id, []),
                    by_service.get(service_id, []),
                    by_location.get(location_id, []),
                )
            )
            for sal_id, service_id, location_id in rows
        }
        written = 0
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                "COPY resources_openinginterval (service_at_location_id, day, during) FROM STDIN"
            ) as copy,
        ):
            for day in days:
                # Many places share the same hours: compute each distinct set of rules once.
                spans_of: dict[tuple[ScheduleLike, ...], list[str]] = {}
                for sal_id in sorted(ids):
                    rules = governing[sal_id]
                    if rules not in spans_of:
                        try:
                            spans = sessions_between(rules, day, day)
                        except ScheduleError:
                            spans = []  # an unreadable schedule never looks open
                        spans_of[rules] = [_span_literal(s, e) for s, e in spans]
                    for literal in spans_of[rules]:
                        copy.write_row((sal_id, day, literal))
                        written += 1
        if with_spans:
            _spans_rewrite(sorted(ids))
        return written


def _batches(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), BATCH):
        yield ordered[start : start + BATCH]


def _all_batches() -> Iterator[list[int]]:
    """Every service at location's id, BATCH at a time (keyset: new ones are not missed)."""
    after = 0
    while batch := list(
        ServiceAtLocation.objects.filter(id__gt=after)
        .order_by("id")
        .values_list("id", flat=True)[:BATCH]
    ):
        yield batch
        after = batch[-1]


def opening_intervals_refresh(
    *,
    service_at_location_ids: Iterable[int] = (),
    service_ids: Iterable[int] = (),
    location_ids: Iterable[int] = (),
    today: date | None = None,
) -> int:
    """Recompute the intervals of the given services at locations and of every one of the
    given services and locations (whose schedules govern them); returns rows written.

    Rule: the days recomputed cover the recorded window, so an instant the window promises
    is answered from fresh rows (and today's window, ready for the next roll)."""
    sal_ids, service_ids, location_ids = (
        set(service_at_location_ids),
        set(service_ids),
        set(location_ids),
    )
    if service_ids or location_ids:
        sal_ids.update(
            ServiceAtLocation.objects.filter(
                Q(service_id__in=service_ids) | Q(location_id__in=location_ids)
            ).values_list("id", flat=True)
        )
    if not sal_ids:
        return 0
    first, last = window_for(today or local_today())
    recorded = window_recorded()
    if recorded:
        first, last = min(first, recorded[0]), max(last, recorded[1])
    days = _days(first, last)
    return sum(_rebuild(batch, days, every_day=True) for batch in _batches(sal_ids))


def opening_intervals_affected(schedule_ids: Iterable[int]) -> dict[str, set[int]]:
    """The owners of these schedules, as keyword arguments of opening_intervals_refresh."""
    owners: dict[str, set[int]] = {
        "service_at_location_ids": set(),
        "service_ids": set(),
        "location_ids": set(),
    }
    rows = Schedule.objects.filter(id__in=set(schedule_ids)).values_list(
        "service_at_location_id", "service_id", "location_id"
    )
    for sal_id, service_id, location_id in rows:
        for key, value in zip(owners, (sal_id, service_id, location_id), strict=True):
            if value is not None:
                owners[key].add(value)
    return owners


def opening_intervals_roll(
    *,
    today: date | None = None,
    force: bool = False,
    progress: Callable[[str], object] = lambda s: None,
) -> int | None:
    """Move the window to today's (yesterday to WINDOW_DAYS ahead): drop the days before it
    and compute the days it adds (every day when `force`d) for every service at location, a
    day and BATCH of them at a time; returns the rows written, or None when there was nothing
    to do (already rolled today and not `force`d) or another roll holds the lock.

    Safe when two runs overlap (the second returns) and when it dies half-way (the recorded
    window is then the days both windows share, which every row has; the next run finishes).
    """
    target = window_for(today or local_today())
    recorded = window_recorded()
    if recorded == target and not force:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_ROLL_LOCK])
        (locked,) = cursor.fetchone()
    if not locked:
        return None
    try:
        shared = None
        if recorded and not force:
            first, last = max(recorded[0], target[0]), min(recorded[1], target[1])
            shared = (first, last) if first <= last else None
        _record_window(shared)
        OpeningInterval.objects.filter(Q(day__lt=target[0]) | Q(day__gt=target[1])).delete()
        written = 0
        for day in _days(*target):
            if shared and shared[0] <= day <= shared[1]:
                continue  # every row of that day is there already
            for batch in _all_batches():
                written += _rebuild(batch, [day], with_spans=False)
            progress(f"  opening intervals: {day}, {written} spans so far")
        # The spans once, from the whole window's intervals (the days dropped above included).
        for batch in _all_batches():
            with transaction.atomic():
                _spans_rewrite([row[0] for row in _locked(batch)])
        progress("  opening spans rewritten")
        _record_window(target)
        return written
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_ROLL_LOCK])


# --- model saves and deletes (bulk writers call the services above themselves) ---------------


def _ids(value: int | None) -> set[int]:
    return set() if value is None else {value}


def _owners(schedule: Schedule) -> dict[str, set[int]]:
    return {
        "service_at_location_ids": _ids(schedule.service_at_location_id),
        "service_ids": _ids(schedule.service_id),
        "location_ids": _ids(schedule.location_id),
    }


def _refresh_on_commit(owners: dict[str, set[int]]) -> None:
    """Gather what to refresh until the transaction commits, then refresh it once."""
    # robust: a failure after the commit is logged, and the next daily roll mends it.
    enqueue_on_commit(_flush, [owners], robust=True)


def _flush(gathered: list[dict[str, set[int]]]) -> None:
    owners: dict[str, set[int]] = {}
    for one in gathered:
        for key, ids in one.items():
            owners.setdefault(key, set()).update(ids)
    if any(owners.values()):
        opening_intervals_refresh(
            service_at_location_ids=owners.get("service_at_location_ids", ()),
            service_ids=owners.get("service_ids", ()),
            location_ids=owners.get("location_ids", ()),
        )


def _schedule_moving(
    sender: type[Schedule], instance: Schedule, raw: bool = False, **kwargs: object
) -> None:
    # A schedule moved to another owner leaves the old one's intervals to recompute too.
    if raw or instance.pk is None:
        return
    old = Schedule.objects.filter(pk=instance.pk).first()
    if old is not None:
        _refresh_on_commit(_owners(old))


def _schedule_changed(
    sender: type[Schedule], instance: Schedule, raw: bool = False, **kwargs: object
) -> None:
    if not raw:
        _refresh_on_commit(_owners(instance))


def _service_at_location_saved(
    sender: type[ServiceAtLocation],
    instance: ServiceAtLocation,
    raw: bool = False,
    **kwargs: object,
) -> None:
    if not raw:
        empty: set[int] = set()
        _refresh_on_commit(
            {"service_at_location_ids": {instance.pk}, "service_ids": empty, "location_ids": empty}
        )


def connect_receivers() -> None:
    """Called by ResourcesConfig.ready: the receivers that keep the opening intervals equal to
    the schedules."""
    pre_save.connect(
        _schedule_moving, sender=Schedule, dispatch_uid="opening_intervals_schedule_moved"
    )
    post_save.connect(
        _schedule_changed, sender=Schedule, dispatch_uid="opening_intervals_schedule_saved"
    )
    post_delete.connect(
        _schedule_changed, sender=Schedule, dispatch_uid="opening_intervals_schedule_deleted"
    )
    post_save.connect(
        _service_at_location_saved,
        sender=ServiceAtLocation,
        dispatch_uid="opening_intervals_sal_saved",
    )
