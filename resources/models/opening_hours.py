"""Opening hours answered by the database: each service at location's concrete opening spans
over a rolling window of days, derived from its schedules by resources.opening_hours.

Derived rows (a cache of `opening_hours.sessions_between`), rebuilt wholesale by
resources.services.opening_hours: no public id, never in a URL or payload. See
docs/directory.md, "Open now".
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.contrib.postgres.fields import DateTimeRangeField
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Lookup, Q
from django.db.models.sql.compiler import SQLCompiler

from resources.models.directory import ServiceAtLocation


class OpeningInterval(models.Model):
    """A span [start, end) during which a service at location is open: its sessions starting
    on one local `day`, overlapping or touching ones merged."""

    service_at_location = models.ForeignKey(
        ServiceAtLocation, on_delete=models.CASCADE, related_name="opening_intervals"
    )
    day = models.DateField()
    during = DateTimeRangeField()

    class Meta:
        ordering = ("service_at_location", "day", "during")
        indexes = [
            # `during @> instant` for the whole directory ("open now" alone); one service at
            # location's few rows are found through the foreign key's btree index.
            GistIndex(fields=["during"], name="resources_openinterval_gist"),
            # The roll drops the days before the window.
            models.Index(fields=["day"], name="resources_openinterval_day_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(during__isempty=True), name="resources_openinginterval_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_at_location_id}: {self.during}"


class DateTimeMultirangeField(models.Field):  # type: ignore[type-arg]
    """PostgreSQL's `tstzmultirange` (a set of disjoint time ranges). Written by SQL only
    (`range_agg` of the intervals) and asked whether it holds an instant (`contains`)."""

    description = "A set of disjoint timestamp ranges"

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        return "tstzmultirange"


@DateTimeMultirangeField.register_lookup
class MultirangeContains(Lookup):
    """`spans @> instant`, which the GiST index on the multirange serves."""

    lookup_name = "contains"
    prepare_rhs = False

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @> {rhs}::timestamptz", [*lhs_params, *rhs_params]


@DateTimeMultirangeField.register_lookup
class MultirangeHolds(MultirangeContains):
    """The same test as `contains`, written as the function behind `@>`, which no index
    serves: checked on each row another index found (the words' and the hour's, for a search
    of words open now: SearchPlace.open_hours)."""

    lookup_name = "holds"

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return (
            f"multirange_contains_elem({lhs}, {rhs}::timestamptz)",
            [*lhs_params, *rhs_params],
        )


# An instant's hour of the week in UTC, as SearchPlace.open_hours holds them: 0 is Monday
# 00:00-01:00 UTC (the Unix epoch fell on a Thursday, 72 hours into its week).
HOURS_A_WEEK = 168
_EPOCH_WEEK_HOUR = 72


def hour_of_week(at: datetime) -> int:
    """`at`'s hour of the week in UTC (0-167), as resources_open_hours numbers them."""
    return (math.floor(at.timestamp() / 3600) + _EPOCH_WEEK_HOUR) % HOURS_A_WEEK


class OpeningSpans(models.Model):
    """Each service at location's opening intervals as one row: the `range_agg` of its
    OpeningInterval rows, rewritten with them (resources.services.opening_hours).

    "Open at t" is then one containment test on one row per place, not a probe of the
    intervals' index for each (at 200,000 services: text and open now 273 -> 135 ms, open now
    alone 10 -> 1.7 ms a statement; docs/benchmarks.md, "Open now: one row per place"). The
    search asks it on the place's search row (SearchPlace.spans, copied from here by the
    triggers of migration 0026, under a GiST index), where it combines with the other
    filters' indexes. Derived rows, like the intervals: no public id, never in a URL or
    payload."""

    service_at_location = models.OneToOneField(
        ServiceAtLocation,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="opening_spans",
    )
    spans = DateTimeMultirangeField()

    def __str__(self) -> str:
        return f"{self.service_at_location_id}: {self.spans}"


class OpeningHoursWindow(models.Model):
    """The local dates whose sessions every service at location has in OpeningInterval.

    One row (id 1) at most. An instant is answered from the table when its local date D and
    D-1 (a night that began the evening before) are both within `first_day..last_day`; any other
    instant, or no row (nothing built yet), falls back to judging the schedules in Python.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    first_day = models.DateField()
    last_day = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="resources_openinghourswindow_single"),
            models.CheckConstraint(
                condition=Q(first_day__lte=F("last_day")),
                name="resources_openinghourswindow_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_day} to {self.last_day}"
