"""Closed-loop referrals (shared/DOMAIN.md, after the FHIR SDOH referral Task statuses), the
partner webhooks that announce them, and the idempotency keys of partner writes.

    draft -> sent -> accepted | declined
    accepted -> in_progress -> completed | not_completed      (with an outcome)
    any open state -> cancelled (by ACS) | expired (no answer within the response window)

The allowed moves live in `resources/services/referrals/transitions.py` (TRANSITIONS); every
move appends a `ReferralEvent`, and so does every note on the thread.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import pgettext_lazy

from acs.models import BaseModel


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("referral status", "Draft")
    SENT = "sent", pgettext_lazy("referral status", "Sent")
    ACCEPTED = "accepted", pgettext_lazy("referral status", "Accepted")
    DECLINED = "declined", pgettext_lazy("referral status", "Declined")
    IN_PROGRESS = "in_progress", pgettext_lazy("referral status", "In progress")
    COMPLETED = "completed", pgettext_lazy("referral status", "Completed")
    NOT_COMPLETED = "not_completed", pgettext_lazy("referral status", "Not completed")
    CANCELLED = "cancelled", pgettext_lazy("referral status", "Cancelled")
    EXPIRED = "expired", pgettext_lazy("referral status", "Expired")


OPEN_STATUSES = frozenset(
    {
        ReferralStatus.DRAFT,
        ReferralStatus.SENT,
        ReferralStatus.ACCEPTED,
        ReferralStatus.IN_PROGRESS,
    }
)
# Ended, one way or another (the partner portal's "Closed" tab).
CLOSED_STATUSES = frozenset(ReferralStatus) - OPEN_STATUSES
# Sent and not ended: the partner holds the next move (the desk's "waiting on partners").
WAITING_ON_PARTNER = frozenset(
    {ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.IN_PROGRESS}
)
# Ended without the service: the resident needs another way there (a re-routing follow-up,
# the desk's "to re-route").
TO_REROUTE = frozenset(
    {ReferralStatus.DECLINED, ReferralStatus.EXPIRED, ReferralStatus.NOT_COMPLETED}
)
# A partner sees referrals once sent (`sent_at` set): never a draft, nor a draft cancelled
# before it went out.


class ReferralUrgency(models.TextChoices):
    """FHIR request priority."""

    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    ASAP = "asap", "As soon as possible"


class ReferralOutcome(models.TextChoices):
    ENROLLED = "enrolled", pgettext_lazy("referral outcome", "Enrolled")
    SERVICE_RECEIVED = "service_received", pgettext_lazy("referral outcome", "Service received")
    NO_SHOW = "no_show", pgettext_lazy("referral outcome", "No show")
    UNABLE_TO_CONTACT = "unable_to_contact", pgettext_lazy("referral outcome", "Unable to contact")
    DECLINED_BY_RESIDENT = (
        "declined_by_resident",
        pgettext_lazy("referral outcome", "Declined by the resident"),
    )
    OTHER = "other", pgettext_lazy("referral outcome", "Other")


# Outcomes that mean the resident got the service; the rest end as not_completed.
COMPLETED_OUTCOMES = frozenset({ReferralOutcome.ENROLLED, ReferralOutcome.SERVICE_RECEIVED})


class Referral(BaseModel):
    """A resident referred to one partner service.

    `organization` is the service's organization, kept on the row so that the partner's
    queries are one indexed filter. `updated_at` moves on every status change and note: it is
    the partner's polling clock.
    """

    Status = ReferralStatus
    Urgency = ReferralUrgency
    Outcome = ReferralOutcome

    # The tablet's UUID for this referral: a retried create returns the first one.
    client_id = models.UUIDField(unique=True, null=True, blank=True)
    resident = models.ForeignKey(
        "cases.Resident", on_delete=models.PROTECT, related_name="referrals"
    )
    # Who it was before a merge moved it (as on encounters), for undoing the merge.
    original_resident = models.ForeignKey(
        "cases.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    encounter = models.ForeignKey(
        "cases.Encounter", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    follow_up = models.ForeignKey(
        "cases.FollowUp", null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    service = models.ForeignKey(
        "resources.Service", on_delete=models.PROTECT, related_name="referrals"
    )
    service_at_location = models.ForeignKey(
        "resources.ServiceAtLocation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    organization = models.ForeignKey(
        "resources.Organization", on_delete=models.PROTECT, related_name="referrals"
    )
    status = models.CharField(
        max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT
    )
    urgency = models.CharField(
        max_length=12, choices=ReferralUrgency.choices, default=ReferralUrgency.ROUTINE
    )
    # For the partner: why this service. Written to be shared; narratives stay on the encounter.
    reason = models.TextField(blank=True)
    # The reason mentions substance use (42 CFR Part 2): shared only under the resident's
    # written substance-use consent, with the notice. Set with a substance-use need too.
    reason_part2 = models.BooleanField(
        "reason mentions substance use (42 CFR Part 2)", default=False
    )
    needs = ArrayField(models.CharField(max_length=24), default=list, blank=True)
    outcome = models.CharField(max_length=24, choices=ReferralOutcome.choices, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_made"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    respond_by = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Sent without the sharing consent: a supervisor's decision, with the reason (audited).
    consent_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consent_override_reason = models.CharField(max_length=500, blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ReferralStatus]),
                name="resources_referral_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(urgency__in=[u.value for u in ReferralUrgency]),
                name="resources_referral_urgency_valid",
            ),
            # An outcome exactly on the two ends that carry one.
            models.CheckConstraint(
                condition=(
                    Q(status__in=["completed", "not_completed"])
                    & Q(outcome__in=[o.value for o in ReferralOutcome])
                )
                | (~Q(status__in=["completed", "not_completed"]) & Q(outcome="")),
                name="resources_referral_outcome_iff_closed_by_partner",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "cancelled"]) | Q(sent_at__isnull=False),
                name="resources_referral_sent_has_time",
            ),
            models.CheckConstraint(
                condition=Q(consent_override_by__isnull=True) | ~Q(consent_override_reason=""),
                name="resources_referral_override_has_reason",
            ),
        ]
        indexes = [
            # The partner's feed: its referrals in order of change.
            models.Index(
                fields=["organization", "updated_at", "id"], name="resources_referral_feed_idx"
            ),
            models.Index(
                fields=["organization", "status", "updated_at"],
                name="resources_referral_org_st_idx",
            ),
            # The expiry sweep: sent referrals by deadline.
            models.Index(
                fields=["respond_by"],
                name="resources_referral_due_idx",
                condition=Q(status="sent"),
            ),
            models.Index(fields=["resident", "-created_at"], name="resources_referral_res_idx"),
            models.Index(fields=["encounter"], name="resources_referral_enc_idx"),
            models.Index(fields=["follow_up"], name="resources_referral_fu_idx"),
            models.Index(
                fields=["created_by", "status", "-updated_at"], name="resources_referral_by_idx"
            ),
            models.Index(fields=["status", "-updated_at"], name="resources_referral_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Referral {str(self.public_id)[:8]}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def short_reference(self) -> str:
        """What a partner quotes on the phone: "DBFD4707" (the public id's first 8 digits)."""
        return self.public_id.hex[:8].upper()


class ReferralEvent(BaseModel):
    """One entry on a referral's thread: a status change (with its note) or a note alone.

    `by_organization` is set when a partner wrote it (by token or in the portal)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by_organization = models.ForeignKey(
        "resources.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta(BaseModel.Meta):
        ordering = ("created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=~Q(to_status="") | ~Q(note=""),
                name="resources_referralevent_change_or_note",
            ),
        ]
        indexes = [
            models.Index(fields=["referral", "created_at"], name="resources_refevent_ref_idx"),
        ]

    @property
    def is_note(self) -> bool:
        return not self.to_status


class IdempotencyKey(BaseModel):
    """What a retry of a write sent with an `Idempotency-Key` needs to answer as the first
    time did, instead of doing the write twice: the status, the id of what was written, and
    for a refusal the error. Never the response itself: a replay renders the record again, as
    the caller may see it now (resources/partners/api/idempotency.py). Kept for IDEMPOTENCY_TTL."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    request_digest = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    # A success: the public id of the record the response describes.
    result_id = models.UUIDField(null=True, blank=True)
    # A refusal (4xx): the error, as sent (its code, message and fields, never a record).
    error = models.JSONField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="resources_idempotencykey_unique"),
            models.CheckConstraint(
                condition=(
                    Q(response_status__lt=400, result_id__isnull=False, error__isnull=True)
                    | Q(response_status__gte=400, result_id__isnull=True, error__isnull=False)
                ),
                name="resources_idempotencykey_result_or_error",
            ),
        ]
        # The sweep: records older than IDEMPOTENCY_TTL.
        indexes = [models.Index(fields=["created_at"], name="resources_idemkey_created_idx")]


def webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(BaseModel):
    """A partner's HTTPS endpoint for referral events, signed with `secret` (HMAC-SHA256).

    The secret must be readable to sign with, so it is stored as is (shown to the partner once,
    at creation and on rotation). Repeated failure disables the endpoint and tells ACS."""

    organization = models.ForeignKey(
        "resources.Organization", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100, default=webhook_secret, editable=False)
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "url"], name="resources_webhookendpoint_unique_url"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization"],
                name="resources_webhook_org_idx",
                condition=Q(active=True),
            ),
        ]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class WebhookDelivery(BaseModel):
    """One event for one endpoint: the outbox row is the truth, the queue carries its id.

    `public_id` is the event id the receiver sees (and can deduplicate on)."""

    Status = DeliveryStatus

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    # In a batch task presumed alive until then: the sweep does not queue it again.
    queued_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in DeliveryStatus]),
                name="resources_webhookdelivery_status_valid",
            ),
        ]
        indexes = [
            # The sweep: rows due to go (pending) or whose lease ran out (sending).
            models.Index(
                fields=["next_attempt_at"],
                name="resources_delivery_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["endpoint", "-created_at"], name="resources_delivery_ep_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {str(self.public_id)[:8]}"
