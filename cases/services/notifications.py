"""The notification outbox: schedule, claim, send, and record what happened.

Every message is sent once:

- **Nothing lost.** A notification is a row, written in the transaction of the event that
  caused it. The queue only carries ids, a batch per task: `sweep_notifications` (beat, every
  minute) finds rows that are due (or whose worker died) whatever happened to their task,
  through `notifications_queue_due`, which marks what it hands out (`queued_until`) so that
  a row is not queued again while its task waits.
- **Nothing twice.** `notifications_send_batch` claims its rows in one statement (pending
  and due, or sending with a lapsed lease) and counts the attempt, whose number is the
  lease's token; a second task for the same rows finds nothing to claim, and only the
  holder writes a result. Before calling the provider it marks the rows in flight
  (committed); a worker that dies after that leaves the mark, and whoever retakes the lease
  asks the SMS provider whether the text already went out (`SmsProvider.find_sent`) before
  sending again. A timeout after the request left is treated the same way. (E-mail has no
  such question to ask: a retaken e-mail may be sent again; no e-mail goes to a resident's
  phone.)
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
import math
import os
import statistics
import threading
import time as _time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from acs.batches import failure_kind, in_batches, in_flight, process_pool
from acs.on_commit import enqueue_on_commit
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


# How long one sweep run may go on handing out batches (a backlog after an outage or the 8 am
# release): no ceiling on rows, only on the run's time; the next run goes on.
SWEEP_SECONDS = 40
# The sweep marks this many batch tasks' rows per statement (notifications_queue splits them).
SWEEP_BATCHES_PER_STATEMENT = 10
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
        # The rows one transaction scheduled are queued together when it commits: one batch
        # task per NOTIFICATION_BATCH_SIZE rows, not one task each.
        enqueue_on_commit(notifications_queue, [notification.pk])
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


def queued_until(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=settings.NOTIFICATION_QUEUED_SECONDS)


def notifications_queue(
    pks: list[int], *, countdown: float | None = None, marked: bool = False
) -> bool:
    """Hand `pks` to batch tasks (NOTIFICATION_BATCH_SIZE each), their `queued_until` set
    first (unless `marked` already, as the sweep's statement does); when the broker is down
    it is cleared again, so that the sweep finds them when it is back. False when not
    queued."""
    from cases.tasks import send_notifications

    if not marked:
        N.objects.filter(pk__in=pks).update(queued_until=queued_until())
    size = max(1, settings.NOTIFICATION_BATCH_SIZE)
    for i in range(0, len(pks), size):
        batch_ids = pks[i : i + size]
        try:
            send_notifications.apply_async((batch_ids,), countdown=countdown)
        except Exception:  # the broker is down: the sweep finds the rows when it is back
            left = pks[i:]
            N.objects.filter(pk__in=left).update(queued_until=None)
            logger.warning("%s notifications not queued; the sweep will send them", len(left))
            return False
    return True


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
    """Ids of rows to hand out now: pending and due, or sending with a lapsed lease, and not
    in a batch task presumed alive (`queued_until`), in id order from `after_pk`. SKIP
    LOCKED: rows a sender holds right now are passed over, not waited for. The sweep runs
    the same selection in `notifications_queue_due`, marking what it finds."""
    now = now or timezone.now()
    with transaction.atomic():
        return list(
            N.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now, pk__gt=after_pk)
            .filter(Q(status=N.Status.PENDING) | Q(status=N.Status.SENDING, lease_until__lt=now))
            .filter(Q(queued_until__isnull=True) | Q(queued_until__lt=now))
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )


# Oldest due first, read in the due index's order (not the primary key's, which would walk
# every row scheduled for later), joined back by id (`WHERE id IN (...)` let the planner hash
# the whole table at each run).
QUEUE_DUE = """
UPDATE cases_notification AS n SET queued_until = %(until)s
FROM (
    SELECT id FROM cases_notification
    WHERE status IN ('pending', 'sending') AND next_attempt_at <= %(now)s
      AND (status = 'pending' OR lease_until < %(now)s)
      AND (queued_until IS NULL OR queued_until < %(now)s)
    ORDER BY next_attempt_at
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
) AS due
WHERE n.id = due.id
RETURNING n.id
"""


def notifications_queue_due(*, now: datetime | None = None, batch: int | None = None) -> list[int]:
    """One statement: up to `batch` rows that are due and in no live batch task, marked as
    queued (`queued_until`); their ids, for the caller to hand to one batch task."""
    now = now or timezone.now()
    batch = batch or settings.NOTIFICATION_BATCH_SIZE
    with connection.cursor() as cursor:
        cursor.execute(QUEUE_DUE, {"until": queued_until(now), "now": now, "batch": batch})
        return sorted(pk for (pk,) in cursor.fetchall())


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


@dataclass
class _Checks:
    """What the send-time checks read, for a whole batch at once: the residents' consents
    that hold now, and the numbers that texted STOP."""

    consents: set[tuple[int, str]]
    opted_out: set[str]


def _resident(row: Notification):
    resident = row.resident
    return resident.merged_into if resident.merged_into_id else resident


def _consent_scope(row: Notification) -> str:
    from cases.models import Consent

    return Consent.Scope.SMS if row.channel == N.Channel.SMS else Consent.Scope.EMAIL


def _checks(rows: list[Notification]) -> _Checks:
    """Two queries for the batch, not two per row."""
    from cases.selectors import consents_active

    residents = [
        (row, _resident(row)) for row in rows if row.recipient_kind == N.Recipient.RESIDENT
    ]
    if not residents:
        return _Checks(set(), set())
    consents = consents_active(
        {r.pk for _, r in residents}, {_consent_scope(row) for row, _ in residents}
    )
    phones = {phone_textable(r.phone) for row, r in residents if row.channel == N.Channel.SMS}
    phones.discard("")
    phones.discard(None)
    opted_out = set(
        SmsOptOut.objects.filter(phone__in=phones, opted_in_at__isnull=True).values_list(
            "phone", flat=True
        )
        if phones
        else ()
    )
    return _Checks(consents, opted_out)


def _address(row: Notification, checks: _Checks) -> tuple[str, str]:
    """(address, reason it cannot be used) for the row's recipient and channel, read now."""
    if row.recipient_kind == N.Recipient.RESIDENT:
        resident = _resident(row)
        if (resident.pk, _consent_scope(row)) not in checks.consents:
            return "", f"No {row.channel} consent."
        if row.channel == N.Channel.SMS:
            phone = phone_textable(resident.phone)
            if not phone and phone_has_extension(resident.phone):
                return "", "The number has an extension (a switchboard): it cannot take texts."
            if not phone:
                return "", "No usable phone number."
            if phone in checks.opted_out:
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


# --- the sender: claim a batch, send it concurrently, record its results -----------------------

# One statement takes the rows: the lease, the attempt counted (the attempt number is the
# lease's token: only its holder may write the result), the queue mark cleared, and the
# in-flight mark set (committed before any request leaves; an earlier mark is kept, since it
# dates a text that may have gone out). It returns the mark a dead worker (or an ambiguous
# timeout) left, read before the update.
CLAIM = """
UPDATE cases_notification AS n
SET status = 'sending', lease_until = %(lease)s, attempts = n.attempts + 1,
    queued_until = NULL, updated_at = %(now)s,
    in_flight_since = COALESCE(n.in_flight_since, %(now)s)
FROM (
    SELECT id, in_flight_since FROM cases_notification
    WHERE id = ANY(%(ids)s) AND next_attempt_at <= %(now)s
      AND (status = 'pending' OR (status = 'sending' AND lease_until < %(now)s))
    ORDER BY id
    FOR UPDATE SKIP LOCKED
) AS claimed
WHERE n.id = claimed.id
RETURNING n.id, claimed.in_flight_since
"""

# One statement writes a batch's results, each only where the row is still held by this
# attempt (status sending, the attempt number it claimed): a slow worker whose lease was
# taken over does not overwrite the newer attempt's outcome.
RECORD = """
UPDATE cases_notification AS n
SET status = v.status,
    lease_until = NULL,
    updated_at = %s,
    attempts = v.attempts,
    next_attempt_at = COALESCE(v.next_attempt_at, n.next_attempt_at),
    last_error = COALESCE(v.last_error, n.last_error),
    in_flight_since = CASE WHEN v.clear_mark THEN NULL ELSE n.in_flight_since END,
    sent_at = COALESCE(v.sent_at, n.sent_at),
    to_address = COALESCE(v.to_address, n.to_address),
    body = COALESCE(v.body, n.body),
    provider_message_id = COALESCE(v.provider_message_id, n.provider_message_id)
FROM unnest(
    %s::bigint[], %s::int[], %s::varchar[], %s::int[], %s::timestamptz[], %s::varchar[],
    %s::boolean[], %s::timestamptz[], %s::varchar[], %s::text[], %s::varchar[]
) AS v(
    id, claimed, status, attempts, next_attempt_at, last_error, clear_mark, sent_at,
    to_address, body, provider_message_id
)
WHERE n.id = v.id AND n.status = 'sending' AND n.attempts = v.claimed
RETURNING n.id
"""
RECORDED_FIELDS = {
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "in_flight_since",
    "sent_at",
    "to_address",
    "body",
    "provider_message_id",
    "lease_until",
}
AMBIGUOUS = {"ReadTimeout", "ConnectionError", "ChunkedEncodingError"}


SEND_FIELDS = (
    *(f.name for f in N._meta.concrete_fields),
    "resident__phone",
    "resident__email",
    "resident__merged_into_id",
    "resident__merged_into__phone",
    "resident__merged_into__email",
    "user__is_active",
    "user__email",
    "organization__email",
)


@dataclass
class _Attempt:
    row: Notification
    left_in_flight: datetime | None
    address: str = ""
    subject: str = ""
    body: str = ""
    result: dict | None = None


def _claim_many(pks: list[int], now: datetime) -> list[_Attempt]:
    if not pks:
        return []
    with connection.cursor() as cursor:
        cursor.execute(CLAIM, {"ids": list(pks), "now": now, "lease": now + lease()})
        claimed = dict(cursor.fetchall())
    if not claimed:
        return []
    rows = (
        N.objects.select_related("resident__merged_into", "user", "organization")
        # Of the recipient, only what the checks read: no names or other personal data
        # loaded into the sender (and less to read and build per row).
        .only(*SEND_FIELDS)
        .filter(pk__in=claimed)
        .order_by("pk")
    )
    return [_Attempt(row, claimed[row.pk]) for row in rows]


def _claim(pk: int, now: datetime) -> tuple[Notification, datetime | None] | None:
    """Take one row for one attempt; returns it and the in-flight mark a dead worker left."""
    attempts = _claim_many([pk], now)
    return (attempts[0].row, attempts[0].left_in_flight) if attempts else None


def _record(results: list[tuple[Notification, dict]]) -> set[int]:
    """Write each row's result where this attempt still holds it; the ids written."""
    if not results:
        return set()
    # One array per column (unnest), not a VALUES row per result: the statement's text is
    # the same whatever the batch's size, and the driver quotes 11 arrays, not 11 values
    # per row (docs/benchmarks.md, "Issue 24, fourth step").
    columns: list[list] = [[] for _ in range(11)]
    for row, fields in results:
        unknown = set(fields) - RECORDED_FIELDS
        if unknown or fields.get("in_flight_since", None) is not None:
            raise ValueError(f"not a result field: {sorted(unknown) or 'in_flight_since'}")
        values = (
            row.pk,
            row.attempts,
            fields.get("status", row.status),
            fields.get("attempts", row.attempts),
            fields.get("next_attempt_at"),
            fields.get("last_error"),
            "in_flight_since" in fields,
            fields.get("sent_at"),
            fields.get("to_address"),
            fields.get("body"),
            fields.get("provider_message_id"),
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    with connection.cursor() as cursor:
        cursor.execute(RECORD, [timezone.now(), *columns])
        return {pk for (pk,) in cursor.fetchall()}


def _finish(row: Notification, **fields) -> str | None:
    """Record one attempt's result; its status, or None when the row was no longer ours."""
    return fields.get("status", row.status) if _record([(row, fields)]) else None


def _retry_or_fail(row: Notification, now: datetime, error: str, keep_mark: bool) -> dict:
    keep = {} if keep_mark else {"in_flight_since": None}
    if row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        return {"status": N.Status.FAILED, "last_error": f"Gave up: {error}"[:500], **keep}
    return {
        "status": N.Status.PENDING,
        "next_attempt_at": now + backoff(row.attempts, base_seconds=60),
        "last_error": error[:500],
        **keep,
    }


def _sent(address: str, body: str, message_id: str, now: datetime) -> dict:
    return {
        "status": N.Status.SENT,
        "sent_at": now,
        "to_address": address,
        "body": body,
        "provider_message_id": message_id or "",
        "last_error": "",
    }


def _not_started(row: Notification) -> dict:
    """Given back untouched: no attempt counted, never sent (the mark goes)."""
    return {"status": N.Status.PENDING, "attempts": row.attempts - 1, "in_flight_since": None}


class _Provider:
    """The SMS provider, read from the settings once per batch and only when needed."""

    def __init__(self, given: channels.SmsProvider | None):
        self.given = given

    def __call__(self) -> channels.SmsProvider:
        if self.given is None:
            self.given = channels.SmsProvider.from_settings()
        return self.given


def _prepare(attempt: _Attempt, now: datetime, provider: _Provider, checks: _Checks) -> dict | None:
    """The checks made at send time; a result when the row ends here, else None (to send)."""
    row = attempt.row
    address, refused = _address(row, checks)
    subject, body = messages.render(row.template, row.language, row.context)
    if attempt.left_in_flight is not None and row.channel == N.Channel.SMS and address:
        # A worker died (or a request timed out) after the text may have left: ask the
        # provider before anything else, so that a sent text is never sent again nor called
        # expired or cancelled.
        try:
            already = provider().find_sent(
                to=address, body=body, since=attempt.left_in_flight - IN_FLIGHT_SLACK
            )
        except channels.ChannelError as exc:
            return _retry_or_fail(row, now, f"Could not confirm an earlier attempt: {exc}", True)
        if already:
            return _sent(address, body, already, now)
    if now >= row.expires_at:
        return {"status": N.Status.EXPIRED, "last_error": "Past its useful life."}
    if refused:
        return {"status": N.Status.CANCELLED, "last_error": refused}
    if row.recipient_kind == N.Recipient.RESIDENT and row.template not in messages.ON_REQUEST:
        morning = quiet_hours_end(now)
        if morning is not None:
            if morning >= row.expires_at:
                return {"status": N.Status.EXPIRED, "last_error": "Quiet hours until expiry."}
            # Not an attempt: it waits for the morning.
            return {
                "status": N.Status.PENDING,
                "next_attempt_at": morning,
                "attempts": row.attempts - 1,
            }
    if row.channel == N.Channel.SMS:
        try:
            provider()
        except channels.PermanentError as exc:
            return {"status": N.Status.FAILED, "last_error": str(exc), "in_flight_since": None}
    attempt.address, attempt.subject, attempt.body = address, subject, body
    return None


def _send(attempt: _Attempt, now: datetime, provider: _Provider, rate) -> dict:
    """One text or e-mail, its slot under the provider's rate already taken (in a thread of
    the sender's pool: no database here)."""
    row = attempt.row
    try:
        if row.channel == N.Channel.SMS:
            message_id = provider().send(
                to=attempt.address, body=attempt.body, status_callback=_status_callback_url(row)
            )
        else:
            message_id = channels.send_email(
                to=attempt.address, subject=attempt.subject, body=attempt.body
            )
    except channels.Throttled as exc:
        # The provider asked everyone to slow down: nothing went out and no attempt is
        # counted; every sender holds off, and the text goes again after the pause.
        rate.pause(exc.retry_after)
        return {
            **_not_started(row),
            "next_attempt_at": now + timedelta(seconds=exc.retry_after),
            "last_error": f"{exc} (the provider asked to slow down)",
        }
    except channels.PermanentError as exc:
        return {"status": N.Status.FAILED, "last_error": str(exc), "in_flight_since": None}
    except channels.TransientError as exc:
        # An answer that never came may hide a text that went out: keep the mark, so the
        # next attempt asks the provider first.
        return _retry_or_fail(row, now, str(exc), str(exc) in AMBIGUOUS)
    return _sent(attempt.address, attempt.body, message_id, now)


# Slots under the provider's rate a sending thread takes in one round trip to Redis.
RATE_SLOTS_AT_ONCE = 10


def _send_share(
    share: list[_Attempt], now: datetime, provider: _Provider, rate, deadline: float
) -> list[float]:
    """One sending thread's share of a batch, one after another over its keep-alive
    connection, each result on its attempt. Texts take their slots under the provider's rate
    a few at a time; none starts after `deadline`, nor while a 429 seen here holds everyone
    off (the slots taken before it are given up and taken again after the pause). Returns
    how long each send took (seconds, the wait for a slot left out)."""
    answers: list[float] = []
    slots = 0
    for i, attempt in enumerate(share):
        row = attempt.row
        try:
            if row.channel == N.Channel.SMS:
                if slots and rate.paused_here():
                    slots = 0
                if not slots:
                    slots = rate.acquire(deadline, min(RATE_SLOTS_AT_ONCE, len(share) - i))
                if not slots or _time.time() >= deadline:
                    slots = 0
                    attempt.result = _not_started(row)
                    continue
                slots -= 1
            elif _time.time() >= deadline:
                attempt.result = _not_started(row)
                continue
            started = _time.perf_counter()
            attempt.result = _send(attempt, now, provider, rate)
            answers.append(_time.perf_counter() - started)
        except Exception as exc:
            # Not a channel's answer: the text may have gone out; keep the mark, so the next
            # attempt asks the provider first.
            logger.error("notification %s: the send failed: %s", row.pk, failure_kind(exc))
            attempt.result = _retry_or_fail(row, now, f"Error: {type(exc).__name__}", True)
    return answers


class SendPace:
    """How many texts a batch sends at once, sized to the provider's answer time (a
    gradient limit, as in TCP Vegas): between NOTIFICATION_SEND_CONCURRENCY_MIN and
    NOTIFICATION_SEND_CONCURRENCY, per worker process and provider.

    After each batch, `note` takes its median answer time and compares it with the least
    median of the last WINDOW batches (the provider's answer time when nothing queues):
    `limit = limit * least / latest + sqrt(limit)`. While answers take no longer than the
    least, the limit grows (a slow provider, a real one tens of milliseconds away, gets up to
    the ceiling within a few batches); once more sends at once only make each wait longer
    (for the provider, or for this process's interpreter lock: a fast local provider), it
    shrinks to about the answer time over a send's own CPU, plus a little queue. Fewer
    connections served faster beat many waiting (docs/benchmarks.md, "Issue 24, fourth
    step")."""

    WINDOW = 50

    def __init__(self, low: int, high: int):
        self.low, self.high = max(1, min(low, high)), max(1, high)
        self.limit = float(self.low)
        self.answers: deque[float] = deque(maxlen=self.WINDOW)
        self.lock = threading.Lock()

    def threads(self) -> int:
        with self.lock:
            return max(self.low, min(self.high, round(self.limit)))

    def note(self, answers: list[float]) -> None:
        if not answers:
            return
        latest = statistics.median(answers)
        with self.lock:
            self.answers.append(latest)
            least = min(self.answers)
            gradient = min(1.0, least / latest) if latest > 0 else 1.0
            limit = self.limit * max(gradient, 0.5) + math.sqrt(self.limit)
            self.limit = max(float(self.low), min(float(self.high), limit))


_paces: dict[tuple, SendPace] = {}
_paces_lock = threading.Lock()


def send_pace(key: str) -> SendPace:
    """This process's pace for the provider `key` (a new one when the bounds changed)."""
    low, high = settings.NOTIFICATION_SEND_CONCURRENCY_MIN, settings.NOTIFICATION_SEND_CONCURRENCY
    full = (os.getpid(), key, low, high)
    with _paces_lock:
        pace = _paces.get(full)
        if pace is None:
            for old in [k for k in _paces if k[0] != full[0] or k[1] == key]:
                del _paces[old]
            pace = _paces[full] = SendPace(low, high)
        return pace


def _pool():
    """This process's sender threads."""
    return process_pool("notification-send", settings.NOTIFICATION_SEND_CONCURRENCY)


def _in_flight():
    """This process's batches between their claim and their record."""
    return in_flight("notifications", settings.NOTIFICATION_BATCHES_IN_FLIGHT)


def send_deadline() -> float:
    """No send starts after this (time.time()): each that started has its provider timeout
    to finish and the results their statement, inside the task's soft time limit, so the
    lease (past the hard limit) never lapses under a live sender."""
    budget = settings.CELERY_TASK_SOFT_TIME_LIMIT - 2 * settings.SMS_TIMEOUT_SECONDS - 5
    return _time.time() + max(budget, 5)


@dataclass
class _Batch:
    """A batch between its claim and its record."""

    attempts: list[_Attempt]
    to_send: list[_Attempt]
    now: datetime
    provider: _Provider
    deadline: float


def _begin(
    pks: list[int], now: datetime, provider: channels.SmsProvider | None, deadline: float
) -> _Batch | None:
    """Claim `pks` (what is ours to take) and make the send-time checks: a batch whose rows
    either have their result already or wait in `to_send`; None when nothing was ours."""
    attempts = _claim_many(pks, now)
    if not attempts:
        return None
    batch = _Batch(attempts, [], now, _Provider(provider), deadline)
    checks = _checks([a.row for a in attempts])
    for attempt in attempts:
        try:
            attempt.result = _prepare(attempt, now, batch.provider, checks)
        except Exception as exc:  # one bad row must not hold up its batch
            logger.error(
                "notification %s: the send-time checks failed: %s",
                attempt.row.pk,
                failure_kind(exc),
            )
            attempt.result = _retry_or_fail(attempt.row, now, f"Error: {type(exc).__name__}", True)
        if attempt.result is None:
            batch.to_send.append(attempt)
        elif attempt.left_in_flight is None:
            # Ended before any request left: the mark the claim set goes (one left by an
            # earlier attempt stays where the result keeps it).
            attempt.result.setdefault("in_flight_since", None)
    return batch


def _complete(batch: _Batch) -> dict[int, str]:
    """Send what waits in `batch` and record every row's result in one statement; the status
    each row was left in (rows whose lease was taken over meanwhile are absent)."""
    now, attempts, to_send = batch.now, batch.attempts, batch.to_send
    if to_send:
        # The claim's mark is committed: a worker that dies from here on leaves it, and
        # whoever retakes the lease asks the provider first.
        sms = any(a.row.channel == N.Channel.SMS for a in to_send)
        rate = channels.SendRate(batch.provider()) if sms else None
        # A share of the batch per sending thread, each sent one after another over the
        # thread's keep-alive connection (not a thread hand-off per text).
        # As many shares as the provider's answer time calls for (SendPace).
        pace = send_pace(batch.provider().base_url if sms else "email")
        threads = max(1, min(pace.threads(), len(to_send)))
        shares = [to_send[i::threads] for i in range(threads)]
        if threads == 1:  # no thread hand-off for one share
            answers = _send_share(shares[0], now, batch.provider, rate, batch.deadline)
        else:
            futures = [
                _pool().submit(_send_share, share, now, batch.provider, rate, batch.deadline)
                for share in shares
            ]
            # Each result is on its attempt; _send_share does not raise.
            answers = [answer for future in futures for answer in future.result()]
        pace.note(answers)
    written = _record([(a.row, a.result) for a in attempts])
    statuses = {a.row.pk: a.result.get("status", a.row.status) for a in attempts}
    sids = [
        a.result["provider_message_id"]
        for a in attempts
        if a.row.pk in written and a.result.get("provider_message_id")
    ]
    if sids:
        from cases.services.inbound import early_receipts_apply

        # Receipts the provider sent while we were still reading its answers (after the
        # record, so that a receipt stored meanwhile is seen here or sees the row).
        early_receipts_apply(sids)
    # Given back without an attempt counted (the task's time ran out, or the provider asked
    # to slow down), not held for the morning: queued again at once, to run when due,
    # rather than waiting for the sweep.
    again = {
        a.row.pk: a.result.get("next_attempt_at", now)
        for a in attempts
        if a.row.pk in written
        and statuses[a.row.pk] == N.Status.PENDING
        and a.result.get("attempts") == a.row.attempts - 1
        and a.result.get("next_attempt_at", now) - now <= timedelta(seconds=60)
    }
    if again:
        wait = max((at - now).total_seconds() for at in again.values())
        notifications_queue(sorted(again), countdown=max(wait, 0) or None)
    return {pk: status for pk, status in statuses.items() if pk in written}


def notifications_send_batch(
    pks: list[int],
    *,
    now: datetime | None = None,
    provider: channels.SmsProvider | None = None,
    deadline: float | None = None,
) -> dict[int, str]:
    """One attempt at each of `pks` that is ours to take: claimed in one statement, checked,
    marked in flight in one statement, sent concurrently (NOTIFICATION_SEND_CONCURRENCY, at
    the provider's rate), recorded in one statement. Returns the status each row was left in
    (rows that were not ours, or whose lease was taken over, are absent)."""
    batch = _begin(pks, now or timezone.now(), provider, deadline or send_deadline())
    return _complete(batch) if batch is not None else {}


def notifications_start_batch(pks: list[int]) -> int:
    """The worker's way to send a batch: claimed and checked here, then sent and recorded by
    this process's threads while the worker takes its next task, so that a process keeps
    NOTIFICATION_BATCHES_IN_FLIGHT batches going (one claiming while another sends) instead
    of waiting on each in turn. Every guarantee of `notifications_send_batch` holds: the
    lease and the in-flight mark are committed before this returns, only their holder writes
    the result, and a process that dies with batches in flight leaves them to the lease. A
    worker that stops warmly finishes them first (`acs.batches.in_flight_drain`). When no
    batch finishes within the task's time, the rows are queued again, unclaimed. Returns
    how many rows were claimed."""
    deadline = send_deadline()
    flights = _in_flight()
    if not flights.reserve(timeout=max(deadline - _time.time(), 0)):
        logger.warning("%s notifications queued again: no batch in flight finished", len(pks))
        notifications_queue(pks, countdown=1)
        return 0
    try:
        batch = _begin(pks, timezone.now(), None, send_deadline())
    except BaseException:
        flights.release()
        raise
    if batch is None:
        flights.release()
        return 0
    flights.run(_complete, batch)
    return len(batch.attempts)


def notification_send(
    pk: int, *, now: datetime | None = None, provider: channels.SmsProvider | None = None
) -> str | None:
    """One attempt at notification `pk`; its status after, or None when it was not ours."""
    return notifications_send_batch([pk], now=now, provider=provider).get(pk)
