"""Calls from CAD, their events and the units assigned to them."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from acs.models import BaseModel


class CallSource(models.TextChoices):
    NINE_ONE_ONE = "911", "911"
    THREE_ONE_ONE = "311", "311"
    POLICE_REQUEST = "police_request", "Police request"
    FIRE_REQUEST = "fire_request", "Fire request"
    SELF_INITIATED = "self_initiated", "Self-initiated"
    PARTNER = "partner", "Partner agency"
    HOTLINE = "hotline", "Hotline"


class CallStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PENDING = "pending", _("Pending")
    DISPATCHED = "dispatched", _("Dispatched")
    EN_ROUTE = "en_route", _("En route")
    ON_SCENE = "on_scene", _("On scene")
    TRANSPORTING = "transporting", _("Transporting")
    CLEARED = "cleared", _("Cleared")
    CLOSED = "closed", _("Closed")
    RETURNED_TO_POLICE = "returned_to_police", _("Returned to police")
    CANCELLED = "cancelled", _("Cancelled")
    ESCALATED = "escalated", _("Escalated")
    REOPENED = "reopened", _("Reopened")


class RoutedTo(models.TextChoices):
    """Where CAD sent an eligible call instead of ACS ("" : to ACS, or CAD did not say)."""

    POLICE = "police", _("Police")
    FIRE = "fire", _("Fire")
    NONE = "none", _("No one")


class Call(BaseModel):
    """One CAD incident. The incident number is CAD's id and the idempotency key of intake."""

    Source = CallSource

    Status = CallStatus

    incident_number = models.CharField(max_length=64, unique=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    call_type = models.CharField(max_length=32, help_text="APCO common code or a local type")
    priority = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField()
    status_changed_at = models.DateTimeField()
    address = models.CharField(max_length=255, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    council_district = models.CharField(max_length=8, blank=True)
    notes = models.TextField(blank=True)
    units = models.ManyToManyField(
        "responders.Unit", through="cases.UnitAssignment", blank=True, related_name="calls"
    )
    # When the call first reached each step, from CAD's event times (cleared/reopened: last).
    # Response times come from these: received->dispatched is queue time,
    # dispatched->on_scene travel time.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    transporting_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    returned_to_police_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    # Coverage (issue 21): CAD's own eligibility flag (None: CAD did not say, the
    # department's EligibilityRule table decides), and where CAD routed an eligible call that
    # ACS did not get. A routed call is counted only in the coverage figure.
    acs_eligible = models.BooleanField(null=True, blank=True)
    routed_to = models.CharField(
        max_length=8, choices=RoutedTo.choices, blank=True, default="", db_default=""
    )

    class Meta(BaseModel.Meta):
        ordering = ("-received_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=5), name="cases_call_priority_range"
            ),
            models.CheckConstraint(
                condition=Q(source__in=[s.value for s in CallSource]),
                name="cases_call_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in CallStatus]),
                name="cases_call_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(routed_to="") | Q(routed_to__in=[r.value for r in RoutedTo]),
                name="cases_call_routed_to_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="cases_call_status_recv_idx"),
            models.Index(fields=["-received_at"], name="cases_call_received_idx"),
            # The field app's "before you go in": earlier calls at the same address.
            models.Index(Upper("address"), name="cases_call_address_upper_idx"),
            # Was the operations board's "has anything changed?"; the board now follows the
            # board_xid/board_seq stamps set by a trigger (columns outside the model: cases
            # 0040, docs/architecture.md "The operations board").
            models.Index(fields=["updated_at"], name="cases_call_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.incident_number


STEP_TIME_FIELDS = (
    "dispatched",
    "en_route",
    "on_scene",
    "transporting",
    "cleared",
    "cancelled",
    "returned_to_police",
    "escalated",
    "reopened",
)


# The steps a unit's assignment times, each a `<step>_at` field of UnitAssignment.
ASSIGNMENT_TIME_FIELDS = STEP_TIME_FIELDS[:6]


class AssignmentStatus(models.TextChoices):
    DISPATCHED = "dispatched", _("Dispatched")
    EN_ROUTE = "en_route", _("En route")
    ON_SCENE = "on_scene", _("On scene")
    TRANSPORTING = "transporting", _("Transporting")
    CLEARED = "cleared", _("Cleared")
    CANCELLED = "cancelled", _("Cancelled")


class UnitAssignment(BaseModel):
    """One unit on one call, with the time of each of its steps."""

    Status = AssignmentStatus

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(
        "responders.Unit", on_delete=models.PROTECT, related_name="assignments"
    )
    status = models.CharField(max_length=16, choices=AssignmentStatus.choices)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    transporting_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["call", "unit"], name="cases_unitassignment_unique"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in AssignmentStatus]),
                name="cases_unitassignment_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "status"], name="cases_assign_unit_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} on {self.call_id}"


class CallEventType(models.TextChoices):
    DISPATCHED = "dispatched", "Dispatched"
    EN_ROUTE = "en_route", "En route"
    ON_SCENE = "on_scene", "On scene"
    TRANSPORTING = "transporting", "Transporting"
    CLEARED = "cleared", "Cleared"
    CANCELLED = "cancelled", "Cancelled"
    RETURNED_TO_POLICE = "returned_to_police", "Returned to police"
    ESCALATED = "escalated", "Escalated"
    REOPENED = "reopened", "Reopened"


class CallEvent(BaseModel):
    """A status event from CAD, kept as sent. The call's state is replayed from these in
    `at` order; `event_id` (the sender's UUID) makes a resend return the first result."""

    Type = CallEventType

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    event_id = models.UUIDField(unique=True)
    type = models.CharField(max_length=20, choices=CallEventType.choices)
    unit = models.ForeignKey(
        "responders.Unit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="call_events",
    )
    at = models.DateTimeField()
    # The response body sent when the event was applied, returned again on a resend within
    # IDEMPOTENCY_TTL; then blanked ({}), since it copies the call's address and notes.
    result = models.JSONField(default=dict)
    # A responder's mistaken tap, undone from the tablet: the event stays in the history,
    # marked, and the call's state is replayed without it. `undo_event_id` is the undo's own
    # idempotency key (a resend of the undo returns the call, changes nothing).
    undone_at = models.DateTimeField(null=True, blank=True)
    undo_event_id = models.UUIDField(null=True, blank=True, unique=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=[t.value for t in CallEventType]),
                name="cases_callevent_type_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["call", "at", "id"], name="cases_callevent_call_at_idx"),
            # The sweep: first results still kept, oldest first.
            models.Index(
                fields=["created_at"],
                name="cases_callevent_result_idx",
                condition=~Q(result={}),
            ),
        ]

    def __str__(self) -> str:
        undone = " (undone)" if self.undone_at else ""
        return f"{self.type} at {timezone.localtime(self.at):%Y-%m-%d %H:%M}{undone}"
