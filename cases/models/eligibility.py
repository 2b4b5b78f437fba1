"""Which calls are eligible for an ACS response: the department's rule, edited in the admin.

A call is eligible when CAD says so (`Call.acs_eligible` true), or, when CAD sends no flag,
when an active `EligibilityRule` matches its call type (and the rule's source and priority,
where the rule names them). CAD's explicit `false` wins over the rules. The coverage figure
(docs/metrics.md) counts eligible calls, those CAD routed elsewhere (`Call.routed_to`)
included. Every change to a rule is an audit event with the values before and after
(`cases.services.eligibility`), shown on the rule's admin page: its history.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from acs.models import BaseModel
from cases.models.calls import CallSource


class EligibilityRule(BaseModel):
    """Calls of `call_type` (from `source`, at `priority`, when given) are eligible."""

    call_type = models.CharField(max_length=32, help_text="APCO common code or a local type")
    source = models.CharField(
        max_length=20,
        choices=CallSource.choices,
        blank=True,
        help_text="Only calls from this source (blank: any source)",
    )
    priority = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="Only calls of this priority (blank: any priority)",
    )
    active = models.BooleanField(
        default=True, help_text="Rules are retired, never deleted: their history stays."
    )
    note = models.CharField(max_length=255, blank=True, help_text="Why, e.g. the policy's name")

    class Meta(BaseModel.Meta):
        ordering = ("call_type", "source", "priority", "id")
        verbose_name = "eligibility rule"
        constraints = [
            models.UniqueConstraint(
                fields=["call_type", "source", "priority"],
                name="cases_eligibilityrule_one_per_match",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(source="") | Q(source__in=[s.value for s in CallSource]),
                name="cases_eligibilityrule_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(priority__isnull=True) | Q(priority__gte=1, priority__lte=5),
                name="cases_eligibilityrule_priority_range",
            ),
        ]

    def __str__(self) -> str:
        parts = [self.call_type]
        if self.source:
            parts.append(f"from {self.get_source_display()}")
        if self.priority:
            parts.append(f"priority {self.priority}")
        return " ".join(parts) + ("" if self.active else " (retired)")
