"""The case managers' and supervisors' work queues (the admin dashboard,
cases/admin/dashboard.py): what is due, whom they follow, what waits for approval."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from acs.roles import Role
from cases.models import Encounter, EncounterResident
from cases.selectors import encounter_queryset_for_user, follow_up_queryset_for_user

if TYPE_CHECKING:
    from cases.models import Addendum, FollowUp
    from responders.models import User


def end_of_today() -> datetime:
    """The end of the local day (the department's time zone)."""
    return timezone.localtime().replace(hour=23, minute=59, second=59, microsecond=999999)


def follow_ups_due_for_user(user: User, *, whose: str) -> QuerySet[FollowUp]:
    """Open follow-ups due today or overdue, the most overdue first (the partial index on
    open work by due time serves it). `whose`: "mine" (assigned to the user), or "team"
    (assigned to someone else of the user's team, or to nobody)."""
    from cases.models import FollowUp

    qs = (
        follow_up_queryset_for_user(user)
        .filter(due_at__lte=end_of_today())
        .exclude(status=FollowUp.Status.CLOSED)
    )
    if whose == "mine":
        qs = qs.filter(assignee=user)
    else:
        team = Q(assignee__isnull=True)
        if user.team_id:
            team |= Q(assignee__team_id=user.team_id)
        qs = qs.filter(team).exclude(assignee=user)
    return qs.order_by("due_at", "id")


def residents_followed_by(user: User) -> QuerySet[FollowUp, Any]:
    """The residents the user follows: those with an open follow-up assigned to them."""
    from cases.models import FollowUp

    return (
        follow_up_queryset_for_user(user)
        .filter(assignee=user)
        .exclude(status=FollowUp.Status.CLOSED)
        .values("resident_id")
    )


def recent_encounters_of_followed(user: User, *, days: int = 14) -> QuerySet[Encounter]:
    """Encounters of the last `days` days with a resident the user follows, newest first."""
    since = timezone.now() - timedelta(days=days)
    met = EncounterResident.objects.filter(
        encounter=OuterRef("pk"), resident_id__in=residents_followed_by(user)
    )
    return (
        encounter_queryset_for_user(user)
        .filter(Exists(met), occurred_at__gte=since)
        .order_by("-occurred_at", "-id")
    )


def addenda_awaiting_approval(user: User) -> QuerySet[Addendum]:
    """Addenda a supervisor may approve or reject: on encounters of units of their team,
    written by someone else, not decided yet; the oldest first (the partial index on pending
    addenda). Nobody else has any."""
    from cases.models import ADDENDUM_PENDING, Addendum

    if not user.has_role(Role.SUPERVISOR) or user.team_id is None:
        return Addendum.objects.none()
    return (
        Addendum.objects.filter(ADDENDUM_PENDING, encounter__unit__team_id=user.team_id)
        .exclude(author=user)
        .select_related("encounter__unit", "author")
        .order_by("created_at", "id")
    )
