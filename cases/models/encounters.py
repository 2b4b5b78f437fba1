"""Encounters: one contact between a unit and the people it met, and the addenda after it."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from acs.models import BaseModel
from cases.models.residents import HousingStatus


class Need(models.TextChoices):
    SHELTER = "shelter", _("Shelter")
    BEHAVIORAL_HEALTH = "behavioral_health", _("Behavioral health")
    SUBSTANCE_USE = "substance_use", _("Substance use")
    MEDICAL = "medical", _("Medical")
    FOOD = "food", _("Food")
    ID_DOCUMENTS = "id_documents", _("ID documents")
    BENEFITS = "benefits", _("Benefits")
    HOUSING = "housing", _("Housing")
    TRANSPORTATION = "transportation", _("Transportation")
    SAFETY = "safety", _("Safety")
    OTHER = "other", _("Other")


class ServiceOnScene(models.TextChoices):
    WATER = "water", _("Water")
    FOOD = "food", _("Food")
    CLOTHING = "clothing", _("Clothing or blanket")
    TRANSPORT = "transport", _("Transport")
    DE_ESCALATION = "de_escalation", _("De-escalation")
    SAFETY_PLAN = "safety_plan", _("Safety plan")
    NALOXONE = "naloxone", _("Naloxone")
    FIRST_AID = "first_aid", _("First aid")
    RESOURCE_INFO = "resource_info", _("Resource information")
    PHONE_CALL = "phone_call", _("Phone call to a service")


class Disposition(models.TextChoices):
    """After the APCO common disposition codes, where they fit."""

    SETTLED = "settled_by_contact", _("Settled by contact")
    REFERRED = "referred", _("Referred to a partner")
    TRANSPORTED = "transported", _("Transported")
    GONE_ON_ARRIVAL = "gone_on_arrival", _("Gone on arrival / unable to locate")
    REFUSED = "refused_services", _("Refused services")
    NO_FURTHER_ACTION = "no_further_action", _("Evaluated - no further action")
    CANCELLED_EN_ROUTE = "cancelled_en_route", _("Cancelled en route")
    ESCALATED = "escalated", _("Escalated")


class RiskLevel(models.TextChoices):
    NOT_SCREENED = "not_screened", _("Not screened")
    LOW = "low", _("Low")
    MODERATE = "moderate", _("Moderate")
    HIGH = "high", _("High")


class EncounterStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


class Encounter(BaseModel):
    """Logged by a unit's responder; editable as a draft and for a grace period after
    submission, then locked: later changes are addenda."""

    Need = Need
    ServiceOnScene = ServiceOnScene
    Disposition = Disposition
    RiskLevel = RiskLevel
    Status = EncounterStatus

    # The tablet's UUID for this encounter: a retried create returns the first one.
    client_id = models.UUIDField(unique=True)
    call = models.ForeignKey(
        "cases.Call", null=True, blank=True, on_delete=models.PROTECT, related_name="encounters"
    )
    unit = models.ForeignKey("responders.Unit", on_delete=models.PROTECT, related_name="encounters")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="encounters"
    )
    status = models.CharField(
        max_length=12, choices=EncounterStatus.choices, default=EncounterStatus.DRAFT
    )
    occurred_at = models.DateTimeField()
    anonymous_people = models.PositiveSmallIntegerField(
        default=0, help_text="People met who gave no identity"
    )
    needs = ArrayField(models.CharField(max_length=24, choices=Need.choices), default=list)
    services_on_scene = ArrayField(
        models.CharField(max_length=24, choices=ServiceOnScene.choices), default=list
    )
    narrative = models.TextField(blank=True)
    # Set by the responder when the narrative mentions substance use: 42 CFR Part 2
    # information, labelled wherever staff see it.
    narrative_part2 = models.BooleanField(
        "narrative mentions substance use (42 CFR Part 2)", default=False
    )
    risk_level = models.CharField(
        max_length=16, choices=RiskLevel.choices, default=RiskLevel.NOT_SCREENED
    )
    # Set when a scored screen (a FormResponse) set the risk level: who and when.
    risk_level_set_at = models.DateTimeField(null=True, blank=True)
    risk_level_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    disposition = models.CharField(max_length=24, choices=Disposition.choices, blank=True)
    transport_destination = models.CharField(max_length=255, blank=True)
    police_requested = models.BooleanField(default=False)
    ems_requested = models.BooleanField(default=False)
    # An involuntary hold or emergency mental-health evaluation was initiated on scene
    # (issue 21: the transparency figure). Optional in the API: old tablets send nothing.
    involuntary_hold = models.BooleanField(
        "involuntary hold / emergency evaluation initiated", default=False, db_default=False
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    locks_at = models.DateTimeField(null=True, blank=True)
    residents = models.ManyToManyField(
        "cases.Resident",
        through="cases.EncounterResident",
        through_fields=("encounter", "resident"),
        related_name="encounters",
    )

    class Meta(BaseModel.Meta):
        ordering = ("-occurred_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in EncounterStatus]),
                name="cases_encounter_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(risk_level__in=[r.value for r in RiskLevel]),
                name="cases_encounter_risk_level_valid",
            ),
            models.CheckConstraint(
                condition=Q(disposition="") | Q(disposition__in=[d.value for d in Disposition]),
                name="cases_encounter_disposition_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(submitted_at__isnull=False) & ~Q(disposition="")),
                name="cases_encounter_submitted_has_disposition",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "-occurred_at"], name="cases_encounter_unit_idx"),
            models.Index(fields=["created_by", "-occurred_at"], name="cases_encounter_author_idx"),
            models.Index(fields=["call"], name="cases_encounter_call_idx"),
            # The admin's filters and date drill-down.
            models.Index(fields=["-occurred_at"], name="cases_encounter_occurred_idx"),
            models.Index(fields=["status", "disposition"], name="cases_encounter_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Encounter {str(self.public_id)[:8]}"

    @property
    def need_labels(self) -> list[str]:
        """The needs by name, substance use labelled as 42 CFR Part 2 information."""
        names = dict(Need.choices)
        part2 = _("42 CFR Part 2")
        return [
            f"{names.get(n, n)} ({part2})" if n in PART2_NEEDS else str(names.get(n, n))
            for n in self.needs
        ]

    @property
    def service_labels(self) -> list[str]:
        names = dict(ServiceOnScene.choices)
        return [str(names.get(s, s)) for s in self.services_on_scene]

    @property
    def holds_part2(self) -> bool:
        """Whether the record holds substance-use information (42 CFR Part 2): a need or the
        responder's flag on the narrative."""
        return self.narrative_part2 or bool(PART2_NEEDS.intersection(self.needs))


# The coded values that are substance-use information, protected by 42 CFR Part 2: one list
# for the labels, the partner rules and the exports.
PART2_NEEDS = frozenset({Need.SUBSTANCE_USE.value})
PART2_SERVICES = frozenset({ServiceOnScene.NALOXONE.value})


class EncounterResident(BaseModel):
    """A resident in an encounter. `original_resident` remembers who it was before a merge."""

    encounter = models.ForeignKey(Encounter, on_delete=models.CASCADE, related_name="people")
    resident = models.ForeignKey(
        "cases.Resident", on_delete=models.PROTECT, related_name="encounter_links"
    )
    original_resident = models.ForeignKey(
        "cases.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Where the person was staying, as the responder learned it on scene (HMIS's current
    # living situation for this contact); blank: not asked.
    living_situation = models.CharField(
        max_length=16, choices=HousingStatus.choices, blank=True, default=""
    )

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["encounter", "resident"], name="cases_encounterresident_unique"
            ),
            models.CheckConstraint(
                condition=Q(living_situation="")
                | Q(living_situation__in=[h.value for h in HousingStatus]),
                name="cases_encres_living_situation_valid",
            ),
        ]
        indexes = [models.Index(fields=["resident"], name="cases_encres_resident_idx")]


# An addendum a supervisor has still to decide on (neither approved nor rejected).
ADDENDUM_PENDING = Q(approved_at__isnull=True, rejected_at__isnull=True)


class Addendum(BaseModel):
    """A note added to a locked encounter; a supervisor of the unit's team approves it, or
    rejects it with a reason (it stays on the record, marked, with the reason: nothing a
    responder wrote is deleted)."""

    encounter = models.ForeignKey(Encounter, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    class Meta(BaseModel.Meta):
        verbose_name_plural = "addenda"
        indexes = [
            # The supervisors' queue: addenda awaiting a decision, oldest first.
            models.Index(
                fields=["created_at"],
                name="cases_addendum_pending_idx",
                condition=ADDENDUM_PENDING,
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True) | Q(rejected_at__isnull=True),
                name="cases_addendum_one_decision",
            ),
            models.CheckConstraint(
                condition=Q(rejected_at__isnull=True) | ~Q(rejection_reason=""),
                name="cases_addendum_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Addendum {str(self.public_id)[:8]}"
