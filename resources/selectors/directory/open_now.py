"""Open now: the services at locations open at an instant, from the precomputed opening intervals
or, outside their window, from the schedules read and judged in Python."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Exists,
    Expression,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
)

from resources.models import (
    OpeningHoursWindow,
    Schedule,
    ScheduleFreq,
    ServiceAtLocation,
)
from resources.models.opening_hours import hour_of_week
from resources.opening_hours import (
    RULE_FIELDS,
    WEEKDAYS,
    Rule,
    ScheduleError,
    ScheduleLike,
    candidate_days,
    effective_schedules,
    is_open,
)


def _schedule_may_run(at: datetime) -> Q:
    """SQL superset of the schedules that may have a session covering `at` (yesterday's or
    today's, by validity and weekday); opening_hours.is_open decides exactly."""
    yesterday, today = candidate_days(at)
    weekday_codes = {WEEKDAYS[yesterday.weekday()], WEEKDAYS[today.weekday()]}
    weekday = Q(byday="") | Q(freq=ScheduleFreq.MONTHLY)
    for code in weekday_codes:
        weekday |= Q(byday__icontains=code)
    return (
        Q(closed=False)
        & (Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        & (Q(valid_to__isnull=True) | Q(valid_to__gte=yesterday))
        & (Q(dtstart__isnull=True) | Q(dtstart__lte=today))
        & (Q(until__isnull=True) | Q(until__gte=yesterday))
        & weekday
    )


def equals_any(field: str, array: Expression) -> Func:
    """`field = ANY(array)`, a condition to filter on."""
    return Func(
        F(field),
        array,
        template="%(expressions)s)",
        arg_joiner=" = ANY(",
        output_field=BooleanField(),
    )


def in_ids(field: str, ids: Iterable[int]) -> Func:
    """`field = ANY(%s)` with one array parameter: a long id list is one parameter, not
    thousands (which psycopg and the planner both pay for)."""
    return equals_any(field, Value(sorted(ids), output_field=ArrayField(BigIntegerField())))


def open_at_filter(queryset: QuerySet[ServiceAtLocation], at: datetime) -> list[int]:
    """Ids of the rows of `queryset` that are open at `at`.

    SQL keeps only rows with a schedule that may run around `at`; their schedules (all three
    levels, closures included) are then read in one query and evaluated in Python.
    """
    may_run = Schedule.objects.filter(_schedule_may_run(at))
    # Three EXISTS, one per level, so each can use its foreign-key index.
    candidate_qs = queryset.filter(
        Exists(may_run.filter(service_at_location=OuterRef("pk")))
        | Exists(may_run.filter(service=OuterRef("service_id")))
        | Exists(may_run.filter(location=OuterRef("location_id")))
    ).order_by()
    candidates = list(candidate_qs.values_list("id", "service_id", "location_id"))
    if not candidates:
        return []
    sal_ids = {c[0] for c in candidates}
    service_ids = {c[1] for c in candidates}
    location_ids = {c[2] for c in candidates}
    relevant = (
        Q(in_ids("service_at_location_id", sal_ids))
        | Q(in_ids("service_id", service_ids))
        | Q(in_ids("location_id", location_ids))
    )
    by_sal: dict[int, list[Rule]] = defaultdict(list)
    by_service: dict[int, list[Rule]] = defaultdict(list)
    by_location: dict[int, list[Rule]] = defaultdict(list)
    rows = (
        # Every row, in or out of season: the level whose regular hours govern is the most
        # specific one that has any (effective_schedules), whatever the date.
        Schedule.objects.filter(relevant)
        .order_by()
        .values_list("service_at_location_id", "service_id", "location_id", *RULE_FIELDS)
    )
    for sal_id, service_id, location_id, *fields in rows:
        rule = Rule(**dict(zip(RULE_FIELDS, fields, strict=True)))
        if sal_id in sal_ids:
            by_sal[sal_id].append(rule)
        if service_id in service_ids:
            by_service[service_id].append(rule)
        if location_id in location_ids:
            by_location[location_id].append(rule)
    # Many places share the same hours; judge each distinct set of rules once.
    verdicts: dict[tuple[ScheduleLike, ...], bool] = {}
    open_ids: list[int] = []
    for sal_id, service_id, location_id in candidates:
        governing = tuple(
            effective_schedules(by_sal[sal_id], by_service[service_id], by_location[location_id])
        )
        if governing not in verdicts:
            try:
                verdicts[governing] = is_open(governing, at)
            except ScheduleError:
                verdicts[governing] = False  # an unreadable schedule never looks open
        if verdicts[governing]:
            open_ids.append(sal_id)
    return open_ids


def open_at_condition(at: datetime, *, place: str, hours_indexed: bool = False) -> Q | None:
    """The row's opening spans (its intervals as one multirange, copied onto its search row
    `place`: SearchPlace.spans) contain `at` (one condition on the row the search reads; a
    GiST index for the whole directory), or None when the intervals do not answer for `at`:
    nothing built yet, or `at` outside the window they were built for (see
    resources.services.opening_hours). One small query (the window's row).

    With `hours_indexed` (the search matches words or taxonomy terms, whose GIN indexes hold
    the hours open too), the row opens in `at`'s hour of the week (SearchPlace.open_hours),
    and its spans, checked on the rows that index finds (`holds`, which no index serves),
    contain `at`: one index scan for the words (or terms), the languages and the hour
    instead of a bitmap of every place open now ANDed with the words' (migration 0030), or
    every place of a term read to check its spans (migration 0031)."""
    if at.tzinfo is None:  # as is_open: a naive instant has no place in time
        raise ValueError("open now needs a timezone-aware datetime")
    window = OpeningHoursWindow.objects.filter(pk=1).values_list("first_day", "last_day").first()
    yesterday, today = candidate_days(at)
    if window is None or not (window[0] <= yesterday and today <= window[1]):
        return None
    if hours_indexed:
        return Q(**{f"{place}open_hours__contains": [hour_of_week(at)], f"{place}spans__holds": at})
    return Q(**{f"{place}spans__contains": at})
