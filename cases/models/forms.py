"""Forms a department defines as data: versioned definitions (screens, assessments, safety
plans), where they apply, and the responses recorded on encounters.

A version's items are FHIR Questionnaire `item` JSON (cases/screening/questionnaire.py reads
and checks them), so a definition can be exchanged as a FHIR Questionnaire. A published
version never changes (the service refuses, and so does a database trigger: migration 0031);
a response always names the version it answered.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from acs.models import BaseModel
from cases.models.encounters import RiskLevel


class FormPurpose(models.TextChoices):
    SCREENING = "screening", _("Screening")
    ASSESSMENT = "assessment", _("Assessment")
    SAFETY_PLAN = "safety_plan", _("Safety plan")
    OTHER = "other", _("Other")


class FormScoring(models.TextChoices):
    """Scoring rules are code (cases/screening/scoring.py), named by a definition."""

    NONE = "", _("Not scored")
    CSSRS_SCREENER = "cssrs_screener", _("C-SSRS screener triage")


class FormDefinition(BaseModel):
    """A form as a department knows it ("C-SSRS screener"), across its versions."""

    Purpose = FormPurpose
    Scoring = FormScoring

    # Stable name, the FHIR Questionnaire's `name` and the tail of its canonical url.
    key = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    purpose = models.CharField(max_length=16, choices=FormPurpose.choices)
    scoring = models.CharField(max_length=24, choices=FormScoring.choices, blank=True)
    # Who owns the text and on what terms it is used (docs/screening.md).
    licence = models.TextField(blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=[p.value for p in FormPurpose]),
                name="cases_formdefinition_purpose_valid",
            ),
            models.CheckConstraint(
                condition=Q(scoring__in=[s.value for s in FormScoring]),
                name="cases_formdefinition_scoring_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class FormVersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class FormVersion(BaseModel):
    """One version of a definition: draft (edited), published (in use, frozen), retired (no
    new responses, except those started on the tablet before it was retired)."""

    Status = FormVersionStatus

    definition = models.ForeignKey(
        FormDefinition, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    status = models.CharField(
        max_length=12, choices=FormVersionStatus.choices, default=FormVersionStatus.DRAFT
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # FHIR Questionnaire.item, as JSON (linkId, text, type, required, repeats, enableWhen,
    # enableBehavior, answerOption, item; `_text` translations).
    items = models.JSONField(default=list)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        ordering = ("definition_id", "-number")
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "number"], name="cases_formversion_unique_number"
            ),
            # One version in use per definition at a time.
            models.UniqueConstraint(
                fields=["definition"],
                condition=Q(status="published"),
                name="cases_formversion_one_published",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in FormVersionStatus]),
                name="cases_formversion_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="cases_formversion_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class FormBinding(BaseModel):
    """Where a definition applies: encounters on calls of a type, of a team's units, or with a
    disposition. Each set field must match; `required` marks the form as required there."""

    definition = models.ForeignKey(
        FormDefinition, on_delete=models.CASCADE, related_name="bindings"
    )
    call_type = models.CharField(max_length=32, blank=True)
    team = models.ForeignKey(
        "responders.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    disposition = models.CharField(max_length=24, blank=True)
    required = models.BooleanField(default=False)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=~Q(call_type="") | Q(team__isnull=False) | ~Q(disposition=""),
                name="cases_formbinding_names_something",
            ),
        ]

    def __str__(self) -> str:
        team = self.team.name if self.team is not None else ""
        parts = [self.call_type, team, self.disposition]
        return f"{self.definition} for {' / '.join(p for p in parts if p)}"


class FormResponse(BaseModel):
    """A completed form on an encounter (about one of its people, or nobody identified).
    Resident data: scoped and audited like the encounter, de-identified by retention."""

    Risk = RiskLevel

    # The tablet's UUID for this response: a retry returns the first (acs/client_ids.py).
    client_id = models.UUIDField(unique=True)
    version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="responses")
    encounter = models.ForeignKey(
        "cases.Encounter", on_delete=models.PROTECT, related_name="form_responses"
    )
    resident = models.ForeignKey(
        "cases.Resident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="form_responses",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="form_responses"
    )
    # {linkId: value}; a multiple choice is a list of codes. Only items enabled by the
    # answers are kept.
    answers = models.JSONField(default=dict)
    # When the responder opened the form (on the tablet) and when it was completed there.
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField()
    # The scoring rule's result ("" when the form is not scored).
    risk_level = models.CharField(max_length=16, choices=RiskLevel.choices, blank=True)
    score_detail = models.JSONField(default=dict, blank=True)
    # The language the resident's copy (safety plan) is given in.
    language = models.CharField(max_length=8, default="en")
    deidentified_at = models.DateTimeField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        ordering = ("-completed_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(risk_level="") | Q(risk_level__in=[r.value for r in RiskLevel]),
                name="cases_formresponse_risk_level_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["encounter"], name="cases_formresp_encounter_idx"),
            models.Index(fields=["resident", "-completed_at"], name="cases_formresp_resident_idx"),
            # Retention's sweep by age.
            models.Index(
                fields=["completed_at"],
                name="cases_formresp_retention_idx",
                condition=Q(deidentified_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"Form response {str(self.public_id)[:8]}"
