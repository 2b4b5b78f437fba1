"""Referral writes: one function per transition of the life cycle (shared/DOMAIN.md).

Every transition locks the row, checks the move against TRANSITIONS (an illegal move is a
409 naming the current state), appends a ReferralEvent with who and the note, bumps
`updated_at` (the partners' polling clock) and queues the partner's webhooks in the same
transaction (the outbox: resources/webhooks/outbox.py).

ACS staff create, send and cancel; the partner organization the referral was sent to accepts,
declines, starts and completes it; both write notes on the thread.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from acs.audit import audit_record
from acs.client_ids import create_once, created_before
from acs.errors import Conflict, DomainError, Forbidden, NotFound
from acs.models import AuditAction
from acs.roles import ACS_ROLES, OVERSIGHT_ROLES, Role, has_any_role
from resources import webhooks
from resources.models import (
    COMPLETED_OUTCOMES,
    OPEN_STATUSES,
    TO_REROUTE,
    Referral,
    ReferralEvent,
    ReferralOutcome,
    ReferralStatus,
    Service,
    ServiceAtLocation,
)
from resources.selectors.referrals import sharing_consent_basis

if TYPE_CHECKING:
    from django.http import HttpRequest

    from cases.models import Encounter, FollowUp, Resident
    from responders.models import User


S = ReferralStatus

# action -> (statuses it may start from, status it ends in; None: decided by the outcome)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "send": (frozenset({S.DRAFT}), S.SENT),
    "accept": (frozenset({S.SENT}), S.ACCEPTED),
    "decline": (frozenset({S.SENT}), S.DECLINED),
    "start": (frozenset({S.ACCEPTED}), S.IN_PROGRESS),
    # From accepted too: a resident who never arrives never starts (no_show).
    "complete": (frozenset({S.ACCEPTED, S.IN_PROGRESS}), None),
    "cancel": (frozenset(OPEN_STATUSES), S.CANCELLED),
    "expire": (frozenset({S.SENT}), S.EXPIRED),
}
PARTNER_ACTIONS = frozenset({"accept", "decline", "start", "complete"})
EXPIRY_BATCH = 200


def _is_partner(actor: User) -> bool:
    return has_any_role(actor, {Role.PARTNER_USER})


def _require_referrer(actor: User) -> None:
    if not has_any_role(actor, ACS_ROLES):
        raise Forbidden("Your role cannot make referrals.")


def _require_partner_of(actor: User, referral: Referral) -> None:
    """A partner acts only on referrals sent to its own organization; to anyone else the
    referral does not exist (404, never a hint that it does)."""
    if (
        not _is_partner(actor)
        or actor.organization_id is None
        or actor.organization_id != referral.organization_id
        or referral.sent_at is None
    ):
        raise NotFound("No such referral.", code="referral_not_found")


def _lock(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("service", "organization", "resident")
        .get(pk=referral.pk)
    )


def _move(
    *,
    referral: Referral,
    action: str,
    actor: User | None,
    note: str = "",
    to_status: str | None = None,
    now: datetime | None = None,
) -> Referral:
    """Check and apply one transition on a locked row; the caller holds the transaction."""
    _check(referral, action)
    target = to_status or TRANSITIONS[action][1]
    if target is None:  # "complete" is decided by its outcome, passed as to_status
        raise ValueError(f"{action} needs to_status")
    now = now or timezone.now()
    before = referral.status
    referral.status = target
    referral.updated_at = now
    ReferralEvent.objects.create(
        referral=referral,
        from_status=before,
        to_status=target,
        note=note,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        by_organization_id=actor.organization_id if actor and _is_partner(actor) else None,
    )
    return referral


def _check(referral: Referral, action: str) -> None:
    if referral.status not in TRANSITIONS[action][0]:
        state = ReferralStatus(referral.status).label.lower()
        raise Conflict(
            f"A referral that is {state} cannot be {_past(action)}.",
            code="invalid_transition",
            fields={"status": [referral.status]},
        )


def _past(action: str) -> str:
    return {
        "send": "sent",
        "accept": "accepted",
        "decline": "declined",
        "start": "started",
        "complete": "completed",
        "cancel": "cancelled",
        "expire": "expired",
    }[action]


def referral_create(
    *,
    actor: User,
    resident: Resident,
    service: Service,
    service_at_location: ServiceAtLocation | None = None,
    encounter: Encounter | None = None,
    follow_up: FollowUp | None = None,
    urgency: str = Referral.Urgency.ROUTINE,
    reason: str = "",
    reason_part2: bool | None = None,
    needs: list[str] | None = None,
    client_id: uuid.UUID | None = None,
    send: bool = False,
    consent_override_reason: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """A draft referral of `resident` to `service` (sent at once with `send=True`).

    A retried create with the same `client_id` returns the first referral, even when it races
    the first attempt or the rules below would now refuse it (acs.client_ids; `replayed` tells
    which); another user's client_id is refused. `reason_part2`: the reason mentions substance
    use (42 CFR Part 2); left unsaid (None), a substance-use need implies it, since a reason
    for such a referral rarely avoids the subject."""
    _require_referrer(actor)
    existing = created_before(Referral, client_id=client_id, actor=actor)
    if existing is not None:
        return existing
    if resident.merged_into_id:
        raise DomainError(
            "This resident record was merged: refer the surviving record.",
            code="resident_merged",
            fields={"resident": ["Merged into another record."]},
        )
    if service.status != Service.Status.ACTIVE or not service.accepts_referrals:
        raise DomainError(
            "This service does not take electronic referrals.",
            code="service_not_referrable",
            fields={"service": ["Does not accept referrals."]},
        )
    if service_at_location is not None and service_at_location.service_id != service.pk:
        raise DomainError(
            "That location is not one of the service's.",
            code="invalid",
            fields={"service_at_location": ["Not a location of this service."]},
        )
    if encounter is not None and not encounter.people.filter(resident=resident).exists():
        raise DomainError(
            "The resident is not on that encounter.",
            code="invalid",
            fields={"encounter": ["The resident was not met in this encounter."]},
        )
    if follow_up is not None and follow_up.resident_id != resident.pk:
        raise DomainError(
            "That follow-up is for another resident.",
            code="invalid",
            fields={"follow_up": ["Another resident's follow-up."]},
        )
    from cases.models import Need
    from cases.models.encounters import PART2_NEEDS

    needs = list(dict.fromkeys(needs or []))
    unknown = [n for n in needs if n not in Need.values]
    if unknown:
        raise DomainError(
            "Unknown needs.", code="invalid", fields={"needs": [f"Unknown: {', '.join(unknown)}"]}
        )

    def create() -> Referral:
        referral = Referral.objects.create(
            client_id=client_id,
            resident=resident,
            encounter=encounter,
            follow_up=follow_up,
            service=service,
            service_at_location=service_at_location,
            organization_id=service.organization_id,
            urgency=urgency,
            reason=reason.strip(),
            reason_part2=(
                bool(PART2_NEEDS.intersection(needs)) if reason_part2 is None else reason_part2
            ),
            needs=needs,
            created_by=actor,
        )
        ReferralEvent.objects.create(referral=referral, to_status=S.DRAFT, actor=actor)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=resident,
            request=request,
            detail={"referral": str(referral.public_id)},
        )
        if send:
            referral = referral_send(
                actor=actor,
                referral=referral,
                consent_override_reason=consent_override_reason,
                request=request,
            )
        return referral

    return create_once(Referral, client_id=client_id, actor=actor, create=create)


def referral_send(
    *,
    actor: User,
    referral: Referral,
    consent_override_reason: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """Send a draft to its partner. It needs the resident's consent to share with that partner
    (or with partners in general); without it, only a supervisor may send it, with a reason,
    and the override is on the audit trail."""
    _require_referrer(actor)
    override = consent_override_reason.strip()
    with transaction.atomic():
        referral = _lock(referral)
        _check(referral, "send")
        basis = sharing_consent_basis(referral)
        if basis == "none":
            if not override:
                raise DomainError(
                    "The resident has not consented to share with this partner. Record the "
                    "consent, or ask a supervisor to send it with a reason.",
                    code="consent_required",
                    fields={"consent": ["No sharing consent for this partner."]},
                )
            if not has_any_role(actor, OVERSIGHT_ROLES):
                raise Forbidden(
                    "Only a supervisor can send a referral without consent.",
                    code="override_not_allowed",
                )
            referral.consent_override_by = actor
            referral.consent_override_reason = override[:500]
        now = timezone.now()
        # The override's reason stays at ACS (on the referral and the audit trail): the
        # partner reads the thread, and the reason may say why the person could not consent.
        _move(referral=referral, action="send", actor=actor, now=now)
        referral.sent_at = now
        referral.respond_by = now + timedelta(hours=referral.service.referral_response_hours)
        referral.save()
        if referral.consent_override_by_id:
            audit_record(
                actor=actor,
                action=AuditAction.DISCLOSE,
                target=referral.resident,
                request=request,
                reason=f"Consent override: {referral.consent_override_reason}",
                detail={"referral": str(referral.public_id), "consent_override": True},
            )
        webhooks.event_queue(referral=referral, event_type="referral.sent")
        _notify_partner(referral)
    return referral


def _notify_partner(referral: Referral) -> None:
    """Partners without a system of their own hear of a new referral by e-mail."""
    from cases.services.notifications import notification_schedule

    if not referral.organization.email:
        return
    notification_schedule(
        template="partner_new_referral",
        channel="email",
        organization=referral.organization,
        referral=referral,
        context={
            "referral": str(referral.public_id),
            "respond_by": timezone.localtime(referral.respond_by).strftime("%Y-%m-%d %H:%M"),
        },
        dedupe_key=f"referral:{referral.pk}:partner-new",
        expires_at=referral.respond_by,
    )


def _notify_after_answer(referral: Referral) -> None:
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
        referral = _lock(referral)
        _require_partner_of(actor, referral)
        now = timezone.now()
        _move(
            referral=referral, action=action, actor=actor, note=note, to_status=to_status, now=now
        )
        if action in {"accept", "decline"}:
            referral.responded_at = now
        if referral.status in {S.DECLINED, S.COMPLETED, S.NOT_COMPLETED}:
            referral.closed_at = now
        referral.outcome = outcome
        referral.save()
        webhooks.event_queue(referral=referral, event_type="referral.status_changed")
        _notify_after_answer(referral)
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
    _require_referrer(actor)
    reason = reason.strip()
    if not reason:
        raise DomainError(
            "Say why the referral is cancelled.", code="invalid", fields={"reason": ["Required."]}
        )
    with transaction.atomic():
        referral = _lock(referral)
        was_sent = referral.sent_at is not None
        now = timezone.now()
        _move(referral=referral, action="cancel", actor=actor, note=reason, now=now)
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
    partner = _is_partner(actor)
    if not partner:
        _require_referrer(actor)
    with transaction.atomic():
        referral = _lock(referral)
        if partner:
            _require_partner_of(actor, referral)
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


def referrals_expire_overdue(
    *, now: datetime | None = None, batch: int = EXPIRY_BATCH
) -> list[Referral]:
    """Expire sent referrals whose response window ran out; returns the expired ones.

    Claims rows with SKIP LOCKED in bounded batches, so two sweeps never fight over a row and
    a partner answering at the same moment wins or loses cleanly."""
    now = now or timezone.now()
    expired = []
    with transaction.atomic():
        rows = list(
            Referral.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("service", "organization", "resident")
            .filter(status=S.SENT, respond_by__lte=now)
            .order_by("respond_by", "id")[:batch]
        )
        for referral in rows:
            _move(
                referral=referral,
                action="expire",
                actor=None,
                note="No answer within the response window.",
                now=now,
            )
            referral.closed_at = now
            referral.save()
            webhooks.event_queue(referral=referral, event_type="referral.status_changed")
            _notify_after_answer(referral)
            expired.append(referral)
    return expired
