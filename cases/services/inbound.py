"""What the SMS provider tells us: delivery receipts and texts from residents (cases/hooks.py).

- **Delivery receipts** move `Notification.provider_status` forward only (callbacks come more
  than once and out of order). The first final status of a text sent for a follow-up is logged
  on it once, as a contact attempt (SMS delivered / SMS failed): the check-in text is one of
  the follow-up's attempts.
- **STOP** (and STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, PARA) records an opt-out for the
  number and cancels its waiting texts; **START** (UNSTOP, INICIO) ends it. "YES" is not an
  opt-in word here: it answers a check-in.
- **Answers to a check-in** (the most recent one sent to the number in the last 14 days):
  1 / yes / sí -> reached, closed as connected. 2 / no -> reached, and the case manager hears
  of it. 3 -> reached, and the case manager is asked to call. Anything else, or a text that
  answers no check-in, goes to a person too. What the resident wrote is not stored or passed
  on (it may say anything); the e-mail says only which answer came and links the follow-up.

Writes made for the provider are by the machine user `system:notifications`, which has no
role and cannot sign in. No phone number or message text reaches the logs.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from django.db import transaction
from django.db.models import CharField, F, Func, Q, QuerySet, Value
from django.utils import timezone

from acs.audit import audit_record
from acs.errors import Conflict
from acs.models import AuditAction
from acs.phones import phone_textable
from acs.roles import Role
from cases.models import ContactAttempt, EarlyReceipt, FollowUp, Notification, SmsOptOut
from cases.services.followups import contact_attempt_log, follow_up_close
from cases.services.notifications import notification_schedule

if TYPE_CHECKING:
    from responders.models import User

logger = logging.getLogger(__name__)

N = Notification
SYSTEM_USERNAME = "system:notifications"
STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "para"})
START_WORDS = frozenset({"start", "unstop", "inicio"})
CONNECTED, NOT_CONNECTED, CALL_ME = "1", "2", "3"
ANSWERS = {
    "1": CONNECTED,
    "yes": CONNECTED,
    "si": CONNECTED,
    "sí": CONNECTED,
    "2": NOT_CONNECTED,
    "no": NOT_CONNECTED,
    "3": CALL_ME,
}
# What staff read in the e-mail (the template's %(answer)s): never the resident's words.
STAFF_ANSWER = {
    NOT_CONNECTED: "2: not connected",
    CALL_ME: "3: please call",
    None: "an unexpected reply",
}
CHECKIN_REPLY_WINDOW = timedelta(days=14)
# A receipt that found no text for this long was not for one of ours.
EARLY_RECEIPT_TTL = timedelta(days=1)

# Provider statuses in the order a text goes through them; a callback never moves back.
STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
}
FINAL_RANK = 3
ATTEMPT_OUTCOME = {
    "delivered": ContactAttempt.Outcome.SMS_DELIVERED,
    "undelivered": ContactAttempt.Outcome.SMS_FAILED,
    "failed": ContactAttempt.Outcome.SMS_FAILED,
}


def system_user() -> User:
    """The machine user behind writes made on the provider's word: no role, no password,
    inactive (so it can neither sign in nor be sent anything)."""
    from responders.models import User

    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


# --- delivery receipts ------------------------------------------------------------------------


def sms_status_record(
    *, message_sid: str, status: str, error_code: str = "", now: datetime | None = None
) -> Notification | None:
    """Record the provider's status for the text `message_sid`; None when it is not ours, or
    not yet: a receipt can arrive before the sender has recorded the provider's answer to the
    send (the provider calls back while our worker still reads that answer). Such a receipt is
    kept (EarlyReceipt) and applied when the send's result lands.

    The status only moves forward, so a repeated or late callback changes nothing. When a
    text sent for a follow-up first reaches a final status, one contact attempt is logged
    (unless the follow-up is closed by then)."""
    now = now or timezone.now()
    status = status.strip().lower()
    code = "".join(c for c in error_code if c.isalnum())[:12]
    row = _status_apply(message_sid, status, code, now)
    if row is not None or status not in STATUS_RANK or not message_sid or len(message_sid) > 64:
        return row
    # Stored (committed) first, then looked for again: the sender records its results first,
    # then looks for early receipts (early_receipts_apply), so one of the two sees the other.
    with transaction.atomic():
        EarlyReceipt.objects.create(
            message_sid=message_sid, status=status, error_code=code, received_at=now
        )
    if early_receipts_apply([message_sid]):
        return N.objects.filter(provider_message_id=message_sid).order_by("id").first()
    return None


def early_receipts_apply(message_sids: list[str]) -> int:
    """Apply the receipts that came before these texts' send results were recorded, in the
    order they came, and delete them; how many were applied. One indexed query when there
    are none (the usual case). Called by the sender after it records a batch."""
    receipts = list(
        EarlyReceipt.objects.filter(message_sid__in=message_sids).order_by("received_at", "id")
    )
    applied = []
    for receipt in receipts:
        if _status_apply(
            receipt.message_sid, receipt.status, receipt.error_code, receipt.received_at
        ):
            applied.append(receipt.pk)
    if applied:
        EarlyReceipt.objects.filter(pk__in=applied).delete()
    return len(applied)


def early_receipts_expired(*, now: datetime | None = None) -> QuerySet[EarlyReceipt]:
    """Receipts that found no text within EARLY_RECEIPT_TTL: not ours after all."""
    return EarlyReceipt.objects.filter(received_at__lt=(now or timezone.now()) - EARLY_RECEIPT_TTL)


def early_receipts_purge(*, now: datetime | None = None) -> int:
    return early_receipts_expired(now=now).delete()[0]


def _status_apply(message_sid: str, status: str, code: str, now: datetime) -> Notification | None:
    with transaction.atomic():
        row = (
            (
                N.objects.select_for_update(of=("self",))
                .select_related("follow_up")
                .filter(provider_message_id=message_sid)
                .order_by("id")
                .first()
            )
            if message_sid
            else None
        )
        if row is None:
            return None
        rank = STATUS_RANK.get(status)
        current = STATUS_RANK.get(row.provider_status, -1)
        if rank is None or rank <= current:
            return row
        fields = {"provider_status": status, "updated_at": now}
        if ATTEMPT_OUTCOME.get(status) == ContactAttempt.Outcome.SMS_FAILED:
            fields["last_error"] = f"SMS {status}" + (f" (error {code})" if code else "")
        N.objects.filter(pk=row.pk).update(**fields)
        for name, value in fields.items():
            setattr(row, name, value)
        outcome = ATTEMPT_OUTCOME.get(status)
        if (
            outcome
            and current < FINAL_RANK
            and row.follow_up is not None
            and row.recipient_kind == N.Recipient.RESIDENT
        ):
            # Closed meanwhile (the resident answered, or a case manager closed it): the
            # receipt is still recorded on the text.
            with contextlib.suppress(Conflict):
                contact_attempt_log(
                    actor=system_user(),
                    follow_up=row.follow_up,
                    channel=ContactAttempt.Channel.SMS,
                    outcome=outcome,
                    at=row.sent_at or now,
                    next_step=f"Automatic: {row.template} text",
                )
    return row


# --- texts from residents ---------------------------------------------------------------------


def _word(body: str) -> str:
    return (body or "").strip().strip(".!?¡¿").strip().casefold()


def sms_inbound_handle(
    *, message_sid: str, from_number: str, body: str, now: datetime | None = None
) -> str:
    """Act on one text from a resident; returns what was done (for the log: no personal
    data). Handling the same `message_sid` again does nothing more."""
    now = now or timezone.now()
    # The provider's sender is a real number: matched even if our metadata lags behind.
    phone = phone_textable(from_number, strict=False)
    word = _word(body)
    if word in STOP_WORDS:
        if not phone:
            return "stop from an unusable number"
        sms_opt_out(phone=phone, keyword=word.upper(), now=now)
        return "opted out"
    if word in START_WORDS:
        if not phone:
            return "start from an unusable number"
        return "opted in" if sms_opt_in(phone=phone, now=now) else "start without an opt-out"
    answer = ANSWERS.get(word)
    checkin = _checkin_answered(phone, now) if phone else None
    if checkin is None:
        with transaction.atomic():
            _tell_staff(message_sid=message_sid, follow_up=None, answer=None)
        return "unmatched text: staff told"
    return _answer_checkin(message_sid=message_sid, checkin=checkin, answer=answer, now=now)


def _checkin_answered(phone: str, now: datetime) -> Notification | None:
    """The check-in a text from `phone` answers: the last one sent to it, if recent."""
    return (
        N.objects.filter(
            template="checkin",
            channel=N.Channel.SMS,
            status=N.Status.SENT,
            to_address=phone,
            sent_at__gte=now - CHECKIN_REPLY_WINDOW,
            follow_up__isnull=False,
        )
        .order_by("-sent_at", "-id")
        .first()
    )


def _answer_checkin(
    *, message_sid: str, checkin: Notification, answer: str | None, now: datetime
) -> str:
    with transaction.atomic():
        # The follow-up's lock serialises two deliveries of the same text.
        # cast: _checkin_answered takes only a check-in that has a follow-up.
        follow_up_id = cast(int, checkin.follow_up_id)
        follow_up = FollowUp.objects.select_for_update(of=("self",)).get(pk=follow_up_id)
        is_open = follow_up.status != FollowUp.Status.CLOSED
        if answer == CONNECTED:
            if not is_open:
                return "answer 1: follow-up already closed"
            actor = system_user()
            contact_attempt_log(
                actor=actor,
                follow_up=follow_up,
                channel=ContactAttempt.Channel.SMS,
                outcome=ContactAttempt.Outcome.REACHED,
                at=now,
                next_step="Resident says they got connected",
            )
            follow_up_close(actor=actor, follow_up=follow_up, outcome=FollowUp.Outcome.CONNECTED)
            return "answer 1: closed as connected"
        if N.objects.filter(dedupe_key__startswith=f"inbound:{message_sid}:").exists():
            return "repeat: already handled"
        if is_open:
            if answer is not None:
                contact_attempt_log(
                    actor=system_user(),
                    follow_up=follow_up,
                    channel=ContactAttempt.Channel.SMS,
                    outcome=ContactAttempt.Outcome.REACHED,
                    at=now,
                    next_step={
                        NOT_CONNECTED: "Resident says they did not get connected",
                        CALL_ME: "Resident asks us to call",
                    }[answer],
                )
            # A person should act now: to the top of the work queue, whatever the attempt
            # rescheduled.
            FollowUp.objects.filter(pk=follow_up.pk).update(due_at=now, updated_at=now)
        _tell_staff(message_sid=message_sid, follow_up=follow_up, answer=answer)
    return f"answer {answer or 'unexpected'}: staff told"


def _staff_for(follow_up: FollowUp | None) -> list[User]:
    """The follow-up's assignee; else the supervisors of the assignee's team; else all."""
    from responders.models import User

    assignee = follow_up.assignee if follow_up is not None and follow_up.assignee_id else None
    if assignee is not None and assignee.is_active:
        return [assignee]
    supervisors = User.objects.filter(is_active=True, groups__name=Role.SUPERVISOR.value)
    team_id = getattr(assignee, "team_id", None)
    if team_id and supervisors.filter(team_id=team_id).exists():
        supervisors = supervisors.filter(team_id=team_id)
    return list(supervisors.distinct().order_by("id"))


def _tell_staff(*, message_sid: str, follow_up: FollowUp | None, answer: str | None) -> None:
    context = {"answer": STAFF_ANSWER[answer]}
    if follow_up is not None:
        context["path"] = f"/admin/cases/followup/{follow_up.pk}/change/"
    staff = _staff_for(follow_up)
    if not staff:
        logger.error(
            "sms %s: a resident's reply has nobody to go to (no assignee, no supervisor)",
            message_sid,
        )
    for user in staff:
        notification_schedule(
            template="checkin_reply",
            channel="email",
            user=user,
            follow_up=follow_up,
            context=context,
            dedupe_key=f"inbound:{message_sid}:{user.pk}",
        )


# --- opt-out ----------------------------------------------------------------------------------


def sms_opt_out(*, phone: str, keyword: str, now: datetime | None = None) -> SmsOptOut:
    """The number texted STOP: one active opt-out for it (texting STOP again changes nothing)
    and its waiting texts cancelled. The send-time check refuses anything later."""
    now = now or timezone.now()
    with transaction.atomic():
        opt_out, created = SmsOptOut.objects.get_or_create(
            phone=phone, opted_in_at=None, defaults={"opted_out_at": now, "keyword": keyword[:16]}
        )
        cancelled = _cancel_waiting_texts(phone, now)
        if created:
            audit_record(
                actor=system_user(),
                action=AuditAction.CREATE,
                target=opt_out,
                detail={"keyword": opt_out.keyword, "cancelled": cancelled},
            )
    return opt_out


def sms_opt_in(*, phone: str, now: datetime | None = None) -> bool:
    """The number texted START: its opt-out ends. False when there was none."""
    now = now or timezone.now()
    with transaction.atomic():
        opt_out = (
            SmsOptOut.objects.select_for_update()
            .filter(phone=phone, opted_in_at__isnull=True)
            .first()
        )
        if opt_out is None:
            return False
        opt_out.opted_in_at = now
        opt_out.save(update_fields=["opted_in_at", "updated_at"])
        audit_record(
            actor=system_user(), action=AuditAction.CHANGE, target=opt_out, detail={"ended": True}
        )
    return True


def _digits(field: str) -> Func:
    return Func(
        F(field),
        Value(r"\D"),
        Value(""),
        Value("g"),
        function="regexp_replace",
        output_field=CharField(),
    )


def _cancel_waiting_texts(phone: str, now: datetime) -> int:
    """Cancel pending texts to residents whose number (as the sender would read it: the
    surviving record's, for a merged one) is `phone`. Residents' numbers are stored as
    typed, so the database narrows by digits and phone_textable decides."""
    digits = phone.removeprefix("+")
    variants = {digits}
    if phone.startswith("+1") and len(digits) == 11:
        variants.add(digits[1:])
    candidates = (
        N.objects.filter(
            status=N.Status.PENDING,
            channel=N.Channel.SMS,
            recipient_kind=N.Recipient.RESIDENT,
        )
        .annotate(own=_digits("resident__phone"), survivor=_digits("resident__merged_into__phone"))
        .filter(Q(own__in=variants) | Q(survivor__in=variants))
        .select_related("resident__merged_into")
    )
    ids = []
    for row in candidates:
        if row.resident is None:  # matched on its resident's phone: there is one
            continue
        resident = row.resident.merged_into or row.resident
        if phone_textable(resident.phone) == phone:
            ids.append(row.pk)
    if not ids:
        return 0
    return N.objects.filter(pk__in=ids, status=N.Status.PENDING).update(
        status=N.Status.CANCELLED, last_error="The number texted STOP.", updated_at=now
    )
