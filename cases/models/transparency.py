"""The public transparency dashboard's rollups: aggregate figures, never a person.

One `MetricRollup` row is one figure for one month (department time) and one council district
(or `ALL_DISTRICTS`): a count, a share (count over denominator) or a duration's median and
90th percentile. Rows are written only by `cases.services.transparency.transparency_refresh`,
which recomputes whole months in a few SQL statements; each run is recorded as a
`MetricRefresh`, whose finish time is the figures' freshness. Definitions: docs/metrics.md and
`cases.transparency.definitions`.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from acs.models import BaseModel

# The district value of the rows that cover every district (and calls without one).
ALL_DISTRICTS = "*"


class Metric(models.TextChoices):
    CALLS_RECEIVED = "calls_received", "Calls received"
    CALLS_BY_SOURCE = "calls_by_source", "Calls by source"
    CALLS_BY_TYPE = "calls_by_type", "Calls by type"
    CALLS_BY_HOUR = "calls_by_hour", "Calls by hour of day"
    CALL_OUTCOMES = "call_outcomes", "What became of each call"
    HANDLED_WITHOUT_POLICE = "handled_without_police", "Handled without police"
    ESCALATED = "escalated", "Escalated on scene"
    RESPONSE_TIME = "response_time", "Response time"
    QUEUE_TIME = "queue_time", "Queue time"
    TRAVEL_TIME = "travel_time", "Travel time"
    TIME_ON_SCENE = "time_on_scene", "Time on scene"
    ENCOUNTERS = "encounters", "Encounters"
    DISPOSITIONS = "dispositions", "Dispositions"
    TRANSPORTS_BY_DESTINATION = "transports_by_destination", "Transports by destination"
    PEOPLE_SERVED = "people_served", "People served"
    REPEAT_CONTACTS = "repeat_contacts", "People met before"
    PEOPLE_REFERRED = "people_referred", "People referred"
    PEOPLE_CONNECTED = "people_connected", "People connected to a service"
    REFERRALS_ACCEPTED_30D = "referrals_accepted_30d", "Referrals accepted within 30 days"
    REFERRALS_COMPLETED_30D = "referrals_completed_30d", "Referrals completed within 30 days"
    FOLLOW_UP_WITHIN_48H = "follow_up_within_48h", "Follow-ups attempted within 48 hours"
    # Issue 21.
    COVERAGE = "coverage", "Coverage of eligible calls"
    POLICE_INVOLVEMENT = "police_involvement", "Police involvement"
    INVOLUNTARY_HOLDS = "involuntary_holds", "Involuntary holds and emergency evaluations"
    FREQUENT_CONTACTS = "frequent_contacts", "People met 3 or more times in 90 days"
    FREQUENT_CONTACT_ENCOUNTERS = (
        "frequent_contact_encounters",
        "Encounters with people met 3 or more times in 90 days",
    )
    TIME_TO_REFERRAL = "time_to_referral", "Time to first completed referral"
    EQUITY_RACE = "equity_race", "People-based figures by race and ethnicity"
    EQUITY_AGE = "equity_age", "People-based figures by age band"
    EQUITY_LANGUAGE = "equity_language", "People-based figures by preferred language"


class MetricRollup(BaseModel):
    """One figure of one month and district; `dimension` is the part of a breakdown ("" for
    a figure without one). `count` is what the figure counts (the numerator of a share, the
    calls measured for a duration); `people` the distinct people behind it, the base of the
    small-cell rule."""

    Metric = Metric

    month = models.DateField(help_text="First day of the month, department time")
    district = models.CharField(max_length=8, help_text=f"'{ALL_DISTRICTS}': all districts")
    metric = models.CharField(max_length=40, choices=Metric.choices)
    dimension = models.CharField(max_length=120, blank=True)
    count = models.BigIntegerField()
    people = models.BigIntegerField()
    denominator = models.BigIntegerField(null=True, blank=True)
    denominator_people = models.BigIntegerField(null=True, blank=True)
    median_seconds = models.FloatField(null=True, blank=True)
    p90_seconds = models.FloatField(null=True, blank=True)
    refreshed_at = models.DateTimeField()

    class Meta(BaseModel.Meta):
        ordering = ("month", "district", "metric", "dimension")
        verbose_name = "transparency figure"
        constraints = [
            # Also the index of every read: the dashboard filters on a month range.
            models.UniqueConstraint(
                fields=["month", "district", "metric", "dimension"],
                name="cases_metricrollup_one_per_cell",
            ),
            models.CheckConstraint(
                condition=Q(metric__in=[m.value for m in Metric]),
                name="cases_metricrollup_metric_valid",
            ),
            models.CheckConstraint(
                condition=Q(count__gte=0) & Q(people__gte=0), name="cases_metricrollup_nonnegative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.dimension} {self.month:%Y-%m} {self.district}".strip()


class RefreshScope(models.TextChoices):
    FULL = "full", "Every month"
    RECENT = "recent", "Recent months"


class MetricRefresh(BaseModel):
    """One run of the rollup refresh: which months it recomputed, how long it took."""

    Scope = RefreshScope

    scope = models.CharField(max_length=8, choices=RefreshScope.choices)
    first_month = models.DateField(null=True, blank=True)
    last_month = models.DateField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    seconds = models.FloatField()

    class Meta(BaseModel.Meta):
        ordering = ("-finished_at", "-id")
        get_latest_by = "finished_at"
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=[s.value for s in RefreshScope]),
                name="cases_metricrefresh_scope_valid",
            ),
        ]
        indexes = [models.Index(fields=["-finished_at"], name="cases_metricrefresh_fin_idx")]

    def __str__(self) -> str:
        return f"{self.scope} refresh at {timezone.localtime(self.finished_at):%Y-%m-%d %H:%M}"
