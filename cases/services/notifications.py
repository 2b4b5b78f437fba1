"""The notification outbox: schedule, claim, send, and record what happened.

Every message is sent once:

- **Nothing lost.** A notification is a row, written in the transaction of the event that
  caused it. The queue only carries its id: `notifications_due` (beat, every minute) finds
  rows that are due (or whose worker died) whatever happened to their task.
- **Nothing twice.** `notification_send` claims the row under a lock (pending and due, or
  sending with a lapsed lease) and counts the attempt; a second task for the same row finds
  nothing to claim. Before calling the provider it marks the row in flight (committed); a
  worker that dies after that leaves the mark, and whoever retakes the lease asks the SMS
  provider whether the text already went out (`SmsProvider.find_sent`) before sending again.
  A timeout after the request left is treated the same way. (E-mail has no such question to
  ask: a retaken e-mail may be sent again; no e-mail goes to a resident's phone.)
- **Nothing late.** A row past `expires_at` ends as expired instead of going out.
- **Nothing kept.** A sent row records the address and text it went out with, for as long
  as a reply may be matched to it and staff may need to see what went out
  (NOTIFICATION_TEXT_TTL, 30 days); then `notification_texts_forget` blanks them. The row
  (template, recipient, status, times) stays.

For residents, at send time (not only at scheduling): the consent for the channel must hold,
the number must not have texted STOP, and the department's quiet hours (8 pm to 8 am, America/
Denver) hold the message until morning. Texts are in the resident's language.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from acs.batches import in_batches
from acs.phones import phone_has_extension, phone_textable
from acs.retry import backoff
from cases import channels, messages
from cases.models import Notification, SmsOptOut

logger = logging.getLogger(__name__)

N = Notification
SWEEP_BATCH = 500


def lease() -> timedelta:
    """How long an attempt holds its row: longer than a task may live (Celery's hard time
    limit), so a lease only lapses when its worker is gone."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)


# How many sweep batches one run may queue (a backlog after an outage or the 8 am release).
SWEEP_MAX_BATCHES = 20
# A find_sent check looks back this much before the in-flight mark (clock skew).
IN_FLIGHT_SLACK = timedelta(minutes=2)


def notification_schedule(
    *,
    template: str,
    channel: str,
    due_at: datetime | None = None,
    resident=None,
    user=None,
    organization=None,
    context: dict | None = None,
    follow_up=None,
    referral=None,
    dedupe_key: str | None = None,
    expires_at: datetime | None = None,
) -> Notification:
    """Put a message in the outbox. With a `dedupe_key`, scheduling it again returns the
    first row. Call inside the transaction of the event that causes it."""
    if template not in messages.TEMPLATES:
        raise ValueError(f"Unknown template {template!r}")
    if resident is not None:
        kind, language = N.Recipient.RESIDENT, resident.preferred_language or "en"
    elif user is not None:
        kind, language = N.Recipient.STAFF, "en"
    elif organization is not None:
        kind, language = N.Recipient.PARTNER, "en"
    else:
        raise ValueError("A notification needs a recipient.")
    due_at = due_at or timezone.now()
    expires_at = expires_at or due_at + messages.LIFETIME.get(template, messages.DEFAULT_LIFETIME)
    fields = {
        "recipient_kind": kind,
        "resident": resident,
        "user": user,
        "organization": organization,
        "channel": channel,
        "template": template,
        "language": language if language in messages.LANGUAGES else "en",
        "context": context or {},
        "follow_up": follow_up,
        "referral": referral,
        "due_at": due_at,
        "next_attempt_at": due_at,
        "expires_at": expires_at,
    }
    if dedupe_key:
        notification, created = N.objects.get_or_create(dedupe_key=dedupe_key, defaults=fields)
    else:
        notification, created = N.objects.create(**fields), True
    if created and due_at <= timezone.now():
        pk = notification.pk
        transaction.on_commit(lambda: _queue(pk))
    return notification


def _texts_cutoff(now: datetime | None = None) -> datetime:
    from cases.services.inbound import CHECKIN_REPLY_WINDOW

    # Never before a reply can no longer be matched to its check-in by the number.
    keep = max(settings.NOTIFICATION_TEXT_TTL, CHECKIN_REPLY_WINDOW)
    return (now or timezone.now()) - keep


def notification_texts_expired(*, now: datetime | None = None):
    """Sent rows still holding their address or text past NOTIFICATION_TEXT_TTL."""
    return N.objects.filter(sent_at__lte=_texts_cutoff(now)).filter(~Q(to_address="") | ~Q(body=""))


def notification_texts_forget(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> int:
    """Blank the address and text of sent notifications past NOTIFICATION_TEXT_TTL, batch
    after batch; returns how many."""
    now = now or timezone.now()
    return in_batches(
        notification_texts_expired(now=now),
        order_by=("sent_at", "id"),
        batch=batch,
        apply=lambda rows: rows.update(to_address="", body="", updated_at=now),
    )


def _queue(pk: int) -> None:
    from cases.tasks import send_notification

    try:
        send_notification.delay(pk)
    except Exception:  # the broker is down: the sweep finds the row when it is back
        logger.warning("notification %s not queued; the sweep will send it", pk)


def notifications_cancel(
    *,
    follow_up=None,
    referral=None,
    reason: str,
    recipients: tuple[str, ...] = (N.Recipient.RESIDENT,),
) -> int:
    """Cancel messages still waiting about a follow-up or referral that no longer needs
    them: by default those to the resident (staff notices about it still go out)."""
    rows = N.objects.filter(status=N.Status.PENDING, recipient_kind__in=recipients)
    if follow_up is not None:
        rows = rows.filter(follow_up=follow_up)
    if referral is not None:
        rows = rows.filter(referral=referral)
    return rows.update(
        status=N.Status.CANCELLED, last_error=reason[:500], updated_at=timezone.now()
    )


def notifications_due(
    *, now: datetime | None = None, batch: int = SWEEP_BATCH, after_pk: int = 0
) -> list[int]:
    """Ids of rows to send now: pending and due, or sending with a lapsed lease, in id order
    from `after_pk` (so a sweep can page through a backlog). SKIP LOCKED: rows a sender holds
    right now are passed over, not waited for."""
    now = now or timezone.now()
    with transaction.atomic():
        return list(
            N.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now, pk__gt=after_pk)
            .filter(Q(status=N.Status.PENDING) | Q(status=N.Status.SENDING, lease_until__lt=now))
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )


def _claim(pk: int, now: datetime) -> tuple[Notification, datetime | None] | None:
    """Take the row for one attempt; returns it and the in-flight mark a dead worker left."""
    with transaction.atomic():
        row = (
            N.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, next_attempt_at__lte=now)
            .filter(Q(status=N.Status.PENDING) | Q(status=N.Status.SENDING, lease_until__lt=now))
            .first()
        )
        if row is None:
            return None
        left_in_flight = row.in_flight_since
        row.status = N.Status.SENDING
        row.lease_until = now + lease()
        row.attempts += 1
        row.save(update_fields=["status", "lease_until", "attempts", "updated_at"])
    return row, left_in_flight


def _finish(row: Notification, **fields) -> str:
    fields.setdefault("lease_until", None)
    fields["updated_at"] = timezone.now()
    # Only the attempt that holds the row may write its result: a slow worker whose lease
    # was taken over must not overwrite the newer attempt's outcome.
    N.objects.filter(pk=row.pk, status=N.Status.SENDING, attempts=row.attempts).update(**fields)
    return fields.get("status", row.status)


def quiet_hours_end(at: datetime) -> datetime | None:
    """If `at` falls in the quiet hours (department time), when they end; else None."""
    local = timezone.localtime(at)
    start, end = settings.QUIET_HOURS_START, settings.QUIET_HOURS_END
    hour = local.hour
    quiet = (hour >= start or hour < end) if start > end else (start <= hour < end)
    if not quiet:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(end)), local.tzinfo)


def _address(row: Notification) -> tuple[str, str]:
    """(address, reason it cannot be used) for the row's recipient and channel, read now."""
    from cases.models import Consent
    from cases.selectors import consent_active

    if row.recipient_kind == N.Recipient.RESIDENT:
        resident = row.resident
        if resident.merged_into_id:
            resident = resident.merged_into
        scope = Consent.Scope.SMS if row.channel == N.Channel.SMS else Consent.Scope.EMAIL
        if not consent_active(resident, scope):
            return "", f"No {row.channel} consent."
        if row.channel == N.Channel.SMS:
            phone = phone_textable(resident.phone)
            if not phone and phone_has_extension(resident.phone):
                return "", "The number has an extension (a switchboard): it cannot take texts."
            if not phone:
                return "", "No usable phone number."
            if SmsOptOut.objects.filter(phone=phone, opted_in_at__isnull=True).exists():
                return "", "The number texted STOP."
            return phone, ""
        return (resident.email, "") if resident.email else ("", "No e-mail address.")
    if row.recipient_kind == N.Recipient.STAFF:
        if not row.user.is_active:
            return "", "The account is inactive."
        return (row.user.email, "") if row.user.email else ("", "No e-mail address.")
    email = row.organization.email
    return (email, "") if email else ("", "The organization has no e-mail address.")


def _status_callback_url(row: Notification) -> str:
    return f"{settings.ACS_BASE_URL}/hooks/sms/status"


def notification_send(
    pk: int, *, now: datetime | None = None, provider: channels.SmsProvider | None = None
) -> str | None:
    """One attempt at notification `pk`; its status after, or None when it was not ours."""
    now = now or timezone.now()
    claimed = _claim(pk, now)
    if claimed is None:
        return None
    row, left_in_flight = claimed
    address, refused = _address(row)
    subject, body = messages.render(row.template, row.language, row.context)
    if left_in_flight is not None and row.channel == N.Channel.SMS and address:
        # A worker died (or a request timed out) after the text may have left: ask the
        # provider before anything else, so that a sent text is never sent again nor called
        # expired or cancelled.
        try:
            provider = provider or channels.SmsProvider.from_settings()
            already = provider.find_sent(
                to=address, body=body, since=left_in_flight - IN_FLIGHT_SLACK
            )
        except channels.ChannelError as exc:
            return _retry_or_fail(row, now, f"Could not confirm an earlier attempt: {exc}", True)
        if already:
            return _sent(row, address, body, already, now)
    if now >= row.expires_at:
        return _finish(row, status=N.Status.EXPIRED, last_error="Past its useful life.")
    if refused:
        return _finish(row, status=N.Status.CANCELLED, last_error=refused)
    if row.recipient_kind == N.Recipient.RESIDENT:
        morning = quiet_hours_end(now)
        if morning is not None:
            if morning >= row.expires_at:
                return _finish(row, status=N.Status.EXPIRED, last_error="Quiet hours until expiry.")
            # Not an attempt: it waits for the morning.
            return _finish(
                row, status=N.Status.PENDING, next_attempt_at=morning, attempts=row.attempts - 1
            )
    try:
        if row.channel == N.Channel.SMS:
            provider = provider or channels.SmsProvider.from_settings()
            _mark_in_flight(row, now)
            message_id = provider.send(
                to=address, body=body, status_callback=_status_callback_url(row)
            )
        else:
            _mark_in_flight(row, now)
            message_id = channels.send_email(to=address, subject=subject, body=body)
    except channels.PermanentError as exc:
        return _finish(row, status=N.Status.FAILED, last_error=str(exc), in_flight_since=None)
    except channels.TransientError as exc:
        # An answer that never came may hide a text that went out: keep the mark, so the
        # next attempt asks the provider first.
        ambiguous = str(exc) in {"ReadTimeout", "ConnectionError", "ChunkedEncodingError"}
        return _retry_or_fail(row, now, str(exc), ambiguous)
    return _sent(row, address, body, message_id, now)


def _retry_or_fail(row: Notification, now: datetime, error: str, keep_mark: bool) -> str:
    keep = {} if keep_mark else {"in_flight_since": None}
    if row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        return _finish(row, status=N.Status.FAILED, last_error=f"Gave up: {error}"[:500], **keep)
    return _finish(
        row,
        status=N.Status.PENDING,
        next_attempt_at=now + backoff(row.attempts, base_seconds=60),
        last_error=error[:500],
        **keep,
    )


def _mark_in_flight(row: Notification, now: datetime) -> None:
    N.objects.filter(pk=row.pk).update(in_flight_since=now)


def _sent(row: Notification, address: str, body: str, message_id: str, now: datetime) -> str:
    return _finish(
        row,
        status=N.Status.SENT,
        sent_at=now,
        to_address=address,
        body=body,
        provider_message_id=message_id or "",
        last_error="",
    )
