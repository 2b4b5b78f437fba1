"""Calls from CAD and the residents met on them (shared/DOMAIN.md, "Records")."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

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
    RECEIVED = "received", "Received"
    PENDING = "pending", "Pending"
    DISPATCHED = "dispatched", "Dispatched"
    EN_ROUTE = "en_route", "En route"
    ON_SCENE = "on_scene", "On scene"
    TRANSPORTING = "transporting", "Transporting"
    CLEARED = "cleared", "Cleared"
    CLOSED = "closed", "Closed"
    RETURNED_TO_POLICE = "returned_to_police", "Returned to police"
    CANCELLED = "cancelled", "Cancelled"
    ESCALATED = "escalated", "Escalated"
    REOPENED = "reopened", "Reopened"


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
    units = models.ManyToManyField("responders.Unit", blank=True, related_name="calls")

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
        ]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="cases_call_status_recv_idx"),
            models.Index(fields=["-received_at"], name="cases_call_received_idx"),
        ]

    def __str__(self) -> str:
        return self.incident_number


class DobQuality(models.TextChoices):
    FULL = "full", "Full date"
    APPROXIMATE = "approximate", "Approximate or partial"
    UNKNOWN = "unknown", "Unknown"
    REFUSED = "refused", "Refused"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"
    OTHER = "other", "Other"


class Resident(BaseModel):
    """A person met in the field. Many decline a name: every identifying field is optional."""

    DobQuality = DobQuality

    Language = Language

    preferred_name = models.CharField(max_length=150, blank=True)
    legal_name = models.CharField(max_length=200, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    dob_quality = models.CharField(
        max_length=12, choices=DobQuality.choices, default=DobQuality.UNKNOWN
    )
    preferred_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    where_to_find_me = models.TextField(blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(dob_quality__in=[q.value for q in DobQuality]),
                name="cases_resident_dob_quality_valid",
            ),
            models.CheckConstraint(
                condition=Q(preferred_language__in=[lang.value for lang in Language]),
                name="cases_resident_language_valid",
            ),
        ]

    def __str__(self) -> str:
        # Admin lists and logs show the opaque id, never the name.
        return f"Resident {str(self.public_id)[:8]}"
