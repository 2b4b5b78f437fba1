"""ACS staff make a referral (a draft, or sent at once) and send it; the partner hears of it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from acs.audit import audit_record
from acs.client_ids import create_once, created_before
from acs.errors import DomainError, Forbidden
from acs.models import AuditAction
from acs.roles import OVERSIGHT_ROLES, has_any_role
from resources import webhooks
from resources.models import Referral, ReferralEvent, Service, ServiceAtLocation
from resources.selectors.referrals import sharing_consent_basis
from resources.services.referrals.transitions import S, check_move, lock_row, move, require_referrer

if TYPE_CHECKING:
    from django.http import HttpRequest

    from cases.models import Encounter, FollowUp, Resident
    from responders.models import User


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
    require_referrer(actor)
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
    require_referrer(actor)
    override = consent_override_reason.strip()
    with transaction.atomic():
        referral = lock_row(referral)
        check_move(referral, "send")
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
        move(referral=referral, action="send", actor=actor, now=now)
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
