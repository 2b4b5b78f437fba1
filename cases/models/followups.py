"""Follow-ups: the work of getting a resident connected after an encounter (shared/DOMAIN.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from acs.models import BaseModel


class FollowUpKind(models.TextChoices):
    PHONE = "phone", _("Phone call")
    TEXT = "text", _("Text message")
    IN_PERSON = "in_person", _("In person at a known location")
    REFERRAL_CHECK = "referral_check", _("Referral check")
    SUPERVISOR_REVIEW = "supervisor_review", _("Supervisor review")


class ReferralTrigger(models.TextChoices):
    """Referral outcomes that leave a resident without the service: someone re-routes them."""

    DECLINED = "declined", "Referral declined"
    EXPIRED = "expired", "Referral expired unanswered"
    NOT_COMPLETED = "not_completed", "Referral not completed"


class FollowUpRule(BaseModel):
    """Which submitted encounters, and which referral events, create which follow-up, due
    when; edited in the admin.

    An encounter rule has a disposition (blank: every disposition without a rule of its own;
    the most specific active rule wins). A referral rule names a referral event instead.
    """

    Kind = FollowUpKind
    ReferralTrigger = ReferralTrigger

    name = models.CharField(max_length=120)
    disposition = models.CharField(max_length=24, blank=True)
    referral_event = models.CharField(
        max_length=16,
        choices=ReferralTrigger.choices,
        blank=True,
        help_text="For referral rules: the referral event that creates the follow-up.",
    )
    # An encounter rule may key on the risk level a screen set (blank: any); a rule naming a
    # risk level is more specific than one naming only a disposition.
    risk_level = models.CharField(max_length=16, blank=True, default="", db_default="")
    assign_case_manager = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Assign the follow-up at once to a case manager (the least loaded one of the "
        "unit's team, else of all).",
    )
    # False: encounters with this disposition need no follow-up (gone on arrival, say).
    creates_follow_up = models.BooleanField(default=True)
    kind = models.CharField(max_length=20, choices=FollowUpKind.choices)
    first_due_hours = models.PositiveIntegerField(default=48)
    attempts = models.PositiveSmallIntegerField(default=3)
    window_days = models.PositiveSmallIntegerField(default=7)
    escalate_to = models.CharField(
        max_length=20, choices=FollowUpKind.choices, default=FollowUpKind.IN_PERSON
    )
    active = models.BooleanField(default=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["disposition", "referral_event", "risk_level"],
                condition=Q(active=True),
                name="cases_followuprule_one_active_per_trigger",
            ),
            models.CheckConstraint(
                condition=Q(referral_event="") | (Q(disposition="") & Q(risk_level="")),
                name="cases_followuprule_encounter_or_referral",
            ),
            models.CheckConstraint(
                condition=Q(attempts__gte=1) & Q(window_days__gte=1),
                name="cases_followuprule_attempts_window_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FollowUpStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("follow-up status", "Open")
    ESCALATED = "escalated", pgettext_lazy("follow-up status", "Escalated")
    CLOSED = "closed", pgettext_lazy("follow-up status", "Closed")


class FollowUpOutcome(models.TextChoices):
    CONNECTED = "connected", "Connected to a service"
    DECLINED = "declined", "Declined"
    UNABLE_TO_CONTACT = "unable_to_contact", "Unable to contact"
    OPTED_OUT = "opted_out", "Opted out"


class FollowUp(BaseModel):
    Kind = FollowUpKind
    Status = FollowUpStatus
    Outcome = FollowUpOutcome

    resident = models.ForeignKey(
        "cases.Resident", on_delete=models.PROTECT, related_name="follow_ups"
    )
    encounter = models.ForeignKey(
        "cases.Encounter",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    rule = models.ForeignKey(
        FollowUpRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Created by a referral event (declined, expired, not completed): the referral to re-route.
    referral = models.ForeignKey(
        "resources.Referral",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups_after",
    )
    kind = models.CharField(max_length=20, choices=FollowUpKind.choices)
    status = models.CharField(
        max_length=12, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    outcome = models.CharField(max_length=20, choices=FollowUpOutcome.choices, blank=True)
    due_at = models.DateTimeField()
    window_ends_at = models.DateTimeField()
    attempts_made = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(BaseModel.Meta):
        ordering = ("due_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in FollowUpStatus]),
                name="cases_followup_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=[k.value for k in FollowUpKind]),
                name="cases_followup_kind_valid",
            ),
            # Closed exactly when it has an outcome.
            models.CheckConstraint(
                condition=(Q(status="closed") & ~Q(outcome="") & Q(closed_at__isnull=False))
                | (~Q(status="closed") & Q(outcome="")),
                name="cases_followup_closed_iff_outcome",
            ),
            # One follow-up per resident per encounter.
            models.UniqueConstraint(
                fields=["encounter", "resident"], name="cases_followup_one_per_encounter_resident"
            ),
            # One follow-up per referral event.
            models.UniqueConstraint(
                fields=["referral", "rule"], name="cases_followup_one_per_referral_rule"
            ),
        ]
        indexes = [
            # The work queue: open work by due time, per assignee and overall.
            models.Index(
                fields=["due_at"], name="cases_followup_open_due_idx", condition=~Q(status="closed")
            ),
            models.Index(
                fields=["assignee", "due_at"],
                name="cases_followup_assignee_idx",
                condition=~Q(status="closed"),
            ),
            models.Index(fields=["resident"], name="cases_followup_resident_idx"),
            # The admin's status filter over closed work too.
            models.Index(fields=["status", "due_at"], name="cases_followup_status_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} follow-up {str(self.public_id)[:8]}"


class AttemptChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    SMS = "sms", "SMS"
    EMAIL = "email", "E-mail"
    IN_PERSON = "in_person", "In person"


class AttemptOutcome(models.TextChoices):
    REACHED = "reached", "Reached"
    MESSAGE_LEFT = "message_left", "Message left"
    SMS_DELIVERED = "sms_delivered", "SMS delivered"
    SMS_FAILED = "sms_failed", "SMS failed"
    NO_ANSWER = "no_answer", "No answer"
    NUMBER_INVALID = "number_invalid", "Number invalid"
    FOUND_IN_PERSON = "found_in_person", "Found in person"
    NOT_FOUND = "not_found", "Not found"
    DECLINED = "declined", "Declined"
    OPTED_OUT = "opted_out", "Opted out"


class ContactAttempt(BaseModel):
    Channel = AttemptChannel
    Outcome = AttemptOutcome

    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="attempts")
    at = models.DateTimeField()
    channel = models.CharField(max_length=12, choices=AttemptChannel.choices)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices)
    next_step = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta(BaseModel.Meta):
        ordering = ("at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in AttemptChannel]),
                name="cases_contactattempt_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=[o.value for o in AttemptOutcome]),
                name="cases_contactattempt_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.outcome}"
