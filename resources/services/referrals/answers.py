"""The partner's answers (accept, decline, start, complete), ACS's cancel, the notes both write on
the thread, and what the resident and the referrer hear after an answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from acs.audit import audit_record
from acs.errors import DomainError
from acs.models import AuditAction
from resources import webhooks
from resources.models import (
    COMPLETED_OUTCOMES,
    TO_REROUTE,
    Referral,
    ReferralEvent,
    ReferralOutcome,
)
from resources.services.referrals.transitions import (
    S,
    is_partner,
    lock_row,
    move,
    require_partner_of,
    require_referrer,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

    from responders.models import User


def notify_after_answer(referral: Referral) -> None:
    """The resident hears that a place is ready (by text, if they agreed to texts); a
    referral that leaves them without the service becomes a follow-up (as the rules say), and
    the referring staff member hears of a decline or an expiry, to re-route it."""
    from cases.models import Consent
    from cases.selectors import consent_active
    from cases.services.notifications import notification_schedule

    if referral.status == S.ACCEPTED:
        resident = referral.resident
        if resident.phone and consent_active(resident, Consent.Scope.SMS):
            notification_schedule(
                template="referral_accepted",
                channel="sms",
                resident=resident,
                referral=referral,
                dedupe_key=f"referral:{referral.pk}:accepted",
            )
    if referral.status in TO_REROUTE:
        from cases.services.followups import followup_create_for_referral

        followup_create_for_referral(referral=referral, event=referral.status)
    if referral.status in {S.DECLINED, S.EXPIRED}:
        notification_schedule(
            template=f"referral_{referral.status}",
            channel="email",
            user=referral.created_by,
            referral=referral,
            context={"referral_pk": referral.pk},
            dedupe_key=f"referral:{referral.pk}:{referral.status}",
        )


def _partner_move(
    *,
    actor: User,
    referral: Referral,
    action: str,
    note: str = "",
    to_status: str | None = None,
    outcome: str = "",
) -> Referral:
    with transaction.atomic():
        referral = lock_row(referral)
        require_partner_of(actor, referral)
        now = timezone.now()
        move(referral=referral, action=action, actor=actor, note=note, to_status=to_status, now=now)
        if action in {"accept", "decline"}:
            referral.responded_at = now
        if referral.status in {S.DECLINED, S.COMPLETED, S.NOT_COMPLETED}:
            referral.closed_at = now
        referral.outcome = outcome
        referral.save()
        webhooks.event_queue(referral=referral, event_type="referral.status_changed")
        notify_after_answer(referral)
    return referral


def referral_accept(*, actor: User, referral: Referral, note: str = "") -> Referral:
    return _partner_move(actor=actor, referral=referral, action="accept", note=note.strip())


def referral_decline(*, actor: User, referral: Referral, reason: str) -> Referral:
    reason = reason.strip()
    if not reason:
        raise DomainError(
            "Say why the referral is declined.", code="invalid", fields={"reason": ["Required."]}
        )
    return _partner_move(actor=actor, referral=referral, action="decline", note=reason)


def referral_start(*, actor: User, referral: Referral, note: str = "") -> Referral:
    return _partner_move(actor=actor, referral=referral, action="start", note=note.strip())


def referral_complete(*, actor: User, referral: Referral, outcome: str, note: str = "") -> Referral:
    """Close the loop: completed when the resident got the service (enrolled,
    service_received), not_completed with any other outcome."""
    if outcome not in ReferralOutcome.values:
        raise DomainError(
            "Unknown outcome.",
            code="invalid",
            fields={"outcome": [f"One of: {', '.join(ReferralOutcome.values)}."]},
        )
    to_status = S.COMPLETED if outcome in COMPLETED_OUTCOMES else S.NOT_COMPLETED
    return _partner_move(
        actor=actor,
        referral=referral,
        action="complete",
        note=note.strip(),
        to_status=to_status,
        outcome=outcome,
    )


def referral_cancel(
    *, actor: User, referral: Referral, reason: str, request: HttpRequest | None = None
) -> Referral:
    """ACS withdraws a referral that is still open (the resident found another place, say)."""
    require_referrer(actor)
    reason = reason.strip()
    if not reason:
        raise DomainError(
            "Say why the referral is cancelled.", code="invalid", fields={"reason": ["Required."]}
        )
    with transaction.atomic():
        referral = lock_row(referral)
        was_sent = referral.sent_at is not None
        now = timezone.now()
        move(referral=referral, action="cancel", actor=actor, note=reason, now=now)
        referral.closed_at = now
        referral.save()
        from cases.services.notifications import notifications_cancel

        notifications_cancel(
            referral=referral,
            reason="The referral was cancelled.",
            recipients=("resident", "partner"),
        )
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=referral.resident,
            request=request,
            detail={"referral": str(referral.public_id), "status": S.CANCELLED},
        )
        if was_sent:
            webhooks.event_queue(referral=referral, event_type="referral.status_changed")
    return referral


def referral_note_add(*, actor: User, referral: Referral, note: str) -> ReferralEvent:
    """A message on the referral's thread, from the partner or from ACS."""
    note = note.strip()
    if not note:
        raise DomainError("The note is empty.", code="invalid", fields={"note": ["Required."]})
    if len(note) > 4000:
        raise DomainError(
            "The note is too long.", code="invalid", fields={"note": ["At most 4000 characters."]}
        )
    partner = is_partner(actor)
    if not partner:
        require_referrer(actor)
    with transaction.atomic():
        referral = lock_row(referral)
        if partner:
            require_partner_of(actor, referral)
        now = timezone.now()
        event = ReferralEvent.objects.create(
            referral=referral,
            note=note,
            actor=actor,
            by_organization_id=actor.organization_id if partner else None,
        )
        Referral.objects.filter(pk=referral.pk).update(updated_at=now)
        referral.updated_at = now
        if not partner and referral.sent_at is not None:
            webhooks.event_queue(referral=referral, event_type="referral.note_added")
    return event
