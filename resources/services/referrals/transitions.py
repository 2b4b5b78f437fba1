"""The referral life cycle's moves: which action may start from which status (TRANSITIONS), who
may act, and one checked move on a locked row with its ReferralEvent."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from acs.errors import Conflict, Forbidden, NotFound
from acs.roles import ACS_ROLES, Role, has_any_role
from resources.models import OPEN_STATUSES, Referral, ReferralEvent, ReferralStatus

if TYPE_CHECKING:
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


def is_partner(actor: User) -> bool:
    return has_any_role(actor, {Role.PARTNER_USER})


def require_referrer(actor: User) -> None:
    if not has_any_role(actor, ACS_ROLES):
        raise Forbidden("Your role cannot make referrals.")


def require_partner_of(actor: User, referral: Referral) -> None:
    """A partner acts only on referrals sent to its own organization; to anyone else the
    referral does not exist (404, never a hint that it does)."""
    if (
        not is_partner(actor)
        or actor.organization_id is None
        or actor.organization_id != referral.organization_id
        or referral.sent_at is None
    ):
        raise NotFound("No such referral.", code="referral_not_found")


def lock_row(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("service", "organization", "resident")
        .get(pk=referral.pk)
    )


def move(
    *,
    referral: Referral,
    action: str,
    actor: User | None,
    note: str = "",
    to_status: str | None = None,
    now: datetime | None = None,
) -> Referral:
    """Check and apply one transition on a locked row; the caller holds the transaction."""
    check_move(referral, action)
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
        by_organization_id=actor.organization_id if actor and is_partner(actor) else None,
    )
    return referral


def check_move(referral: Referral, action: str) -> None:
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
