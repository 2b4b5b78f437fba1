"""When a service is open (HSDS 3.0 `schedule`, iCalendar RRULE fields), at the service, the
location or the service at location, with `closed` for holiday closures (beyond HSDS)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from acs.models import BaseModel
from resources.models.directory import Location, Service, ServiceAtLocation, choices_valid


class ScheduleFreq(models.TextChoices):
    """HSDS 3.0 allows WEEKLY and MONTHLY; blank means every day of the validity window."""

    NONE = "", "Every day"
    WEEKLY = "WEEKLY", "Weekly"
    MONTHLY = "MONTHLY", "Monthly"


class Weekday(models.TextChoices):
    MO = "MO", "Monday"
    TU = "TU", "Tuesday"
    WE = "WE", "Wednesday"
    TH = "TH", "Thursday"
    FR = "FR", "Friday"
    SA = "SA", "Saturday"
    SU = "SU", "Sunday"


class Schedule(BaseModel):
    """Opening hours after HSDS `schedule` (RRULE-like), evaluated by resources.opening_hours.

    Times are wall-clock times in the department's zone (America/Denver); a `closes_at` at or
    before `opens_at` closes the next day (overnight). `closed=True` (beyond HSDS) marks a
    closure: no session starting on a date from `valid_from` to `valid_to` takes place.
    """

    Freq = ScheduleFreq

    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="schedules",
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    dtstart = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    wkst = models.CharField(max_length=2, choices=Weekday.choices, blank=True)
    freq = models.CharField(max_length=7, choices=ScheduleFreq.choices, blank=True)
    interval = models.PositiveSmallIntegerField(null=True, blank=True)
    byday = models.CharField(max_length=64, blank=True)
    bymonthday = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    schedule_link = models.URLField(blank=True)
    attending_type = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)
    closed = models.BooleanField(
        default=False,
        help_text="A closure (holiday, emergency): nothing opens on the dates from valid_from "
        "to valid_to, whatever the other schedules say.",
    )

    class Meta(BaseModel.Meta):
        constraints = [
            choices_valid("freq", ScheduleFreq, "resources_schedule_freq_valid"),
            models.CheckConstraint(
                condition=Q(wkst="") | Q(wkst__in=[d.value for d in Weekday]),
                name="resources_schedule_wkst_valid",
            ),
            models.CheckConstraint(
                condition=Q(service__isnull=False)
                | Q(location__isnull=False)
                | Q(service_at_location__isnull=False),
                name="resources_schedule_has_owner",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_from__lte=F("valid_to")),
                name="resources_schedule_validity_ordered",
            ),
            models.CheckConstraint(
                condition=Q(closed=False) | Q(valid_from__isnull=False),
                name="resources_schedule_closure_has_date",
            ),
            models.CheckConstraint(
                condition=Q(interval__isnull=True) | Q(interval__gte=1),
                name="resources_schedule_interval_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["valid_from", "valid_to"], name="resources_schedule_valid_idx"),
        ]

    def __str__(self) -> str:
        return self.description or f"{self.freq or 'DAILY'} {self.byday} {self.opens_at}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from resources.opening_hours import ScheduleError, occurs_on

        try:
            occurs_on(self, self.valid_from or timezone.localdate())
        except ScheduleError as exc:
            raise ValidationError(str(exc)) from exc
