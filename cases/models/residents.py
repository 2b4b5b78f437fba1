"""Residents met in the field, their merges and their consents (shared/DOMAIN.md)."""

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from acs.models import BaseModel


class DobQuality(models.TextChoices):
    FULL = "full", "Full date"
    APPROXIMATE = "approximate", "Approximate or partial"
    UNKNOWN = "unknown", "Unknown"
    REFUSED = "refused", "Refused"


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Spanish"
    OTHER = "other", "Other"


class HousingStatus(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    HOUSED = "housed", _("Housed")
    AT_RISK = "at_risk", _("At risk of losing housing")
    SHELTERED = "sheltered", _("In a shelter")
    UNSHELTERED = "unsheltered", _("Unsheltered")


class Resident(BaseModel):
    """A person met in the field. Many decline a name: every identifying field is optional.

    `search_names` holds every name and alias, normalized (selectors.normalize_name), for the
    trigram index, and `search_keys` its words and their sounds; services keep both in step.
    A merged resident points at the one it was merged into and drops out of searches and
    lists, but keeps its row and history.
    """

    DobQuality = DobQuality
    Language = Language
    HousingStatus = HousingStatus

    preferred_name = models.CharField(max_length=150, blank=True)
    legal_name = models.CharField(max_length=200, blank=True)
    aliases = ArrayField(models.CharField(max_length=150), default=list, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    dob_quality = models.CharField(
        max_length=12, choices=DobQuality.choices, default=DobQuality.UNKNOWN
    )
    gender = models.CharField(max_length=40, blank=True)
    race_ethnicity = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    veteran_status = models.CharField(max_length=16, blank=True)
    preferred_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    where_to_find_me = models.TextField(blank=True)
    housing_status = models.CharField(
        max_length=16, choices=HousingStatus.choices, default=HousingStatus.UNKNOWN
    )
    safety_flags = models.TextField(blank=True, help_text="What responders should know first")
    search_names = models.TextField(blank=True, editable=False)
    # Each word of search_names and its Double Metaphone codes ("~SN"), from the SQL function
    # `cases_name_keys` (migration 0026): nicknames and names alike in sound, through an index.
    search_keys = ArrayField(models.TextField(), default=list, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    # Set by the retention command: names, contact details and dates of birth were erased.
    deidentified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The tablet's UUID for a person added on scene: a retried create returns this record.
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

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
            models.CheckConstraint(
                condition=Q(housing_status__in=[h.value for h in HousingStatus]),
                name="cases_resident_housing_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")), name="cases_resident_not_merged_into_self"
            ),
        ]
        indexes = [
            GinIndex(
                OpClass("search_names", name="gin_trgm_ops"), name="cases_resident_names_trgm"
            ),
            GinIndex(fields=["search_keys"], name="cases_resident_search_keys"),
            models.Index(
                fields=["date_of_birth"],
                name="cases_resident_dob_active_idx",
                condition=Q(merged_into__isnull=True),
            ),
            models.Index(Upper("phone"), name="cases_resident_phone_idx"),
            # The admin's filters.
            models.Index(
                fields=["housing_status", "preferred_language"],
                name="cases_resident_housing_idx",
                condition=Q(merged_into__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        # Admin lists and logs show the opaque id, never the name.
        return f"Resident {str(self.public_id)[:8]}"


class ResidentMerge(BaseModel):
    """One merge of a duplicate into a survivor: what moved, so that it can be undone."""

    survivor = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="merges_kept")
    duplicate = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="merges_gone")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Encounter links moved to the survivor, and the aliases the survivor gained.
    moved_links = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Referrals and follow-ups moved with it (ids), for the same reason.
    moved_referrals = ArrayField(models.BigIntegerField(), default=list, blank=True)
    moved_follow_ups = ArrayField(models.BigIntegerField(), default=list, blank=True)
    added_aliases = ArrayField(models.CharField(max_length=150), default=list, blank=True)
    # The survivor's values the merge replaced with the duplicate's, {field: [before, after]}
    # (JSON-encoded), so that the undo restores them unless they were edited since.
    replaced_values = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["duplicate"],
                condition=Q(undone_at__isnull=True),
                name="cases_residentmerge_one_open_per_duplicate",
            ),
        ]


class ConsentScope(models.TextChoices):
    SHARE_NAMED_PARTNER = "share_named_partner", _("Share with a named partner")
    SHARE_PARTNERS = "share_partners", _("Share with partners in general")
    SMS = "sms", _("Receive SMS")
    EMAIL = "email", _("Receive e-mail")
    SUBSTANCE_USE = "substance_use", _("Disclose substance-use information (42 CFR Part 2)")


class ConsentMethod(models.TextChoices):
    VERBAL = "verbal", _("Verbal")
    WRITTEN = "written", _("Written")
    ELECTRONIC = "electronic", _("Electronic")


class ConsentQuerySet(models.QuerySet["Consent"]):
    def holding(self, at: datetime | None = None) -> "ConsentQuerySet":
        """Consents that hold at `at` (now): not revoked, not expired. The one place that
        says so in SQL; `Consent.holds` is the same rule for a row already loaded."""
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=at)
        )


class Consent(BaseModel):
    """A resident's consent for one scope; revoked, never deleted."""

    Scope = ConsentScope
    Method = ConsentMethod

    objects = ConsentQuerySet.as_manager()

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="consents")
    # The tablet's UUID for this consent: a retry returns the first (acs.client_ids).
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    scope = models.CharField(max_length=24, choices=ConsentScope.choices)
    organization = models.ForeignKey(
        "resources.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(max_length=12, choices=ConsentMethod.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    encounter = models.ForeignKey(
        "cases.Encounter", null=True, blank=True, on_delete=models.PROTECT, related_name="consents"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=[s.value for s in ConsentScope]),
                name="cases_consent_scope_valid",
            ),
            models.CheckConstraint(
                condition=Q(method__in=[m.value for m in ConsentMethod]),
                name="cases_consent_method_valid",
            ),
            # A named-partner consent names its partner; the others do not.
            models.CheckConstraint(
                condition=Q(scope="share_named_partner", organization__isnull=False)
                | (~Q(scope="share_named_partner") & Q(organization__isnull=True)),
                name="cases_consent_partner_named_iff_scope",
            ),
            # 42 CFR Part 2: substance-use information is shared only on written consent.
            models.CheckConstraint(
                condition=~Q(scope="substance_use") | Q(method="written"),
                name="cases_consent_substance_use_written",
            ),
        ]
        indexes = [models.Index(fields=["resident", "scope"], name="cases_consent_res_scope_idx")]

    def holds(self, at: datetime | None = None) -> bool:
        """`ConsentQuerySet.holding`'s rule for this row (no query): not revoked, not expired."""
        at = at or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > at)

    def state(self, at: datetime | None = None) -> str:
        """How the desk names it: "revoked", "expired" (past `expires_at`) or "active"."""
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.holds(at) else "expired"
