"""Threshold crossings the operations board has told the on-duty supervisors about."""

from django.db import models
from django.db.models import Q

from acs.models import BaseModel


class BoardAlertKind(models.TextChoices):
    # A call still waiting for a unit past its priority's limit (BOARD_PENDING_MINUTES).
    CALL_PENDING = "call_pending", "Call pending too long"
    # A unit on scene past BOARD_ON_SCENE_MINUTES with no status since: its safety check-in
    # is missed (the status change is the check-in).
    UNIT_ON_SCENE = "unit_on_scene", "Unit on scene without a status"


class BoardAlert(BaseModel):
    """One threshold crossing, recorded once: its unique key (kind, call or unit, and the
    moment the clock started) makes a crossing notify once however often the sweep runs."""

    Kind = BoardAlertKind

    kind = models.CharField(max_length=20, choices=Kind.choices)
    call = models.ForeignKey(
        "cases.Call", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        "responders.Unit", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # When the clock that crossed started: the call's received_at, the unit's status change.
    since = models.DateTimeField()
    minutes = models.PositiveIntegerField(help_text="The limit crossed, in minutes")
    notified = models.PositiveIntegerField(default=0, help_text="Supervisors told")

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in BoardAlertKind]),
                name="cases_boardalert_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(call__isnull=False, unit__isnull=True)
                | Q(call__isnull=True, unit__isnull=False),
                name="cases_boardalert_call_or_unit",
            ),
            models.UniqueConstraint(
                fields=["kind", "call", "since"],
                condition=Q(call__isnull=False),
                name="cases_boardalert_call_once",
            ),
            models.UniqueConstraint(
                fields=["kind", "unit", "since"],
                condition=Q(unit__isnull=False),
                name="cases_boardalert_unit_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} since {self.since:%Y-%m-%d %H:%M}"
