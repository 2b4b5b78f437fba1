"""The notification outbox (shared/DOMAIN.md): reminders to residents, staff and partners.

Rows are the truth; the queue only carries ids. A row goes pending -> sending -> sent, or ends
as failed (with the reason), cancelled (no consent, opted out, no longer relevant) or expired
(too late to be useful). `provider_status` follows the SMS provider's delivery callbacks after
the row is sent. See cases/services/notifications/ for the send pipeline.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from acs.models import BaseModel


class NotificationChannel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "E-mail"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class RecipientKind(models.TextChoices):
    RESIDENT = "resident", "Resident"
    STAFF = "staff", "Staff member"
    PARTNER = "partner", "Partner organization"


class Notification(BaseModel):
    Channel = NotificationChannel
    Status = NotificationStatus
    Recipient = RecipientKind

    recipient_kind = models.CharField(max_length=10, choices=RecipientKind.choices)
    resident = models.ForeignKey(
        "cases.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organization = models.ForeignKey(
        "resources.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=NotificationChannel.choices)
    template = models.CharField(max_length=40)
    language = models.CharField(max_length=8, default="en")
    # Ids and counts for the template: never names, narratives or clinical detail.
    context = models.JSONField(default=dict, blank=True)
    follow_up = models.ForeignKey(
        "cases.FollowUp", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referral = models.ForeignKey(
        "resources.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # One row per reason to write: scheduling the same reminder twice finds the first.
    dedupe_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    due_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the current attempt reached the provider's door: a retaken lease with this set asks
    # the provider whether the message went out before sending again.
    in_flight_since = models.DateTimeField(null=True, blank=True)
    # Handed to a batch task that is presumed alive until then: the sweep does not queue the
    # row again meanwhile (a backlog does not grow the queue).
    queued_until = models.DateTimeField(null=True, blank=True)
    # What went out, and to which address: kept for NOTIFICATION_TEXT_TTL after sending.
    to_address = models.CharField(max_length=254, blank=True)
    body = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True)
    provider_status = models.CharField(max_length=20, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in NotificationStatus]),
                name="cases_notification_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=[c.value for c in NotificationChannel]),
                name="cases_notification_channel_valid",
            ),
            models.CheckConstraint(
                condition=(Q(recipient_kind="resident") & Q(resident__isnull=False))
                | (Q(recipient_kind="staff") & Q(user__isnull=False))
                | (Q(recipient_kind="partner") & Q(organization__isnull=False)),
                name="cases_notification_recipient_set",
            ),
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="cases_notification_sent_has_time",
            ),
        ]
        indexes = [
            # The sweep: due rows, and sending rows whose lease may have lapsed.
            models.Index(
                fields=["next_attempt_at"],
                name="cases_notif_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["resident", "-created_at"], name="cases_notif_resident_idx"),
            models.Index(fields=["user", "-created_at"], name="cases_notif_user_idx"),
            models.Index(fields=["follow_up"], name="cases_notif_followup_idx"),
            models.Index(fields=["provider_message_id"], name="cases_notif_provider_idx"),
            models.Index(fields=["to_address", "-sent_at"], name="cases_notif_to_idx"),
            models.Index(fields=["status", "-updated_at"], name="cases_notif_status_idx"),
            # The sweep: sent rows still holding their address or text, oldest first.
            models.Index(
                fields=["sent_at"],
                name="cases_notif_text_sent_idx",
                condition=~Q(to_address="") | ~Q(body=""),
            ),
            # The admin list's ordering and its date drill-down.
            models.Index(fields=["-due_at", "-id"], name="cases_notif_due_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.template} {self.channel} {str(self.public_id)[:8]}"


class SmsOptOut(BaseModel):
    """A phone number that texted STOP (or PARA). Nothing is texted to it until START (or
    INICIO) ends the opt-out; consents stay as recorded, the opt-out overrides them."""

    phone = models.CharField(max_length=32)
    opted_out_at = models.DateTimeField()
    opted_in_at = models.DateTimeField(null=True, blank=True)
    keyword = models.CharField(max_length=16)

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(opted_in_at__isnull=True),
                name="cases_smsoptout_one_active_per_phone",
            ),
        ]
        indexes = [models.Index(fields=["phone", "-opted_out_at"], name="cases_optout_phone_idx")]

    def __str__(self) -> str:
        return f"opt-out {timezone.localtime(self.opted_out_at):%Y-%m-%d}"


class EarlyReceipt(BaseModel):
    """A delivery receipt that came before the provider's answer to the send had been
    recorded (the provider calls back while our worker is still reading its answer): kept
    here, then applied to the text when its result lands, and deleted. Unmatched receipts
    (not ours after all) are deleted after EARLY_RECEIPT_TTL. Holds no personal data: the
    provider's message id, a status and an error code."""

    message_sid = models.CharField(max_length=64)
    status = models.CharField(max_length=20)
    error_code = models.CharField(max_length=12, blank=True)
    received_at = models.DateTimeField()

    class Meta(BaseModel.Meta):
        indexes = [
            models.Index(fields=["message_sid"], name="cases_early_receipt_sid_idx"),
            models.Index(fields=["received_at"], name="cases_early_receipt_at_idx"),
        ]

    def __str__(self) -> str:
        return f"early receipt {self.status}"
