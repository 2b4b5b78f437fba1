"""The case managers' dashboard at the admin index: their work queues, a click from each record.

Each queue is two queries whatever the tables' size: its first rows (select_related done) and
a capped count ("100+"), both over indexed filters. Rows name records as staff speak of them
(cases/display.py: the resident's name, the service and partner, the call and unit); the
dashboard is for the roles that see every resident. Links go to the admin change page (pk in an
admin URL is allowed), and "see all" to the changelist with the same filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from acs.roles import STAFF_ROLES, Role, has_any_role
from cases.display import (
    addendum_label,
    encounter_label,
    follow_up_label,
    referral_label,
    resident_label,
)
from cases.selectors import work_queues
from resources.models import TO_REROUTE, WAITING_ON_PARTNER

QUEUE_ROWS = 10
COUNT_CAP = 100
REROUTE_DAYS = 30


def capped_count(queryset: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """How many rows, counting no further than `cap`: `SELECT COUNT(*) FROM (... LIMIT cap+1)`
    reads at most cap+1 index entries, however large the table."""
    cap = COUNT_CAP if cap is None else cap
    n = queryset.order_by()[: cap + 1].count()
    return min(n, cap), n > cap


@dataclass(frozen=True)
class Row:
    label: str
    url: str
    detail: str
    when: datetime | None
    late: bool = False
    # What `when` is: "Due", "Answer due", "Occurred"...
    when_label: str = ""


@dataclass
class Queue:
    key: str
    title: str
    empty: str
    see_all: str
    rows: list[Row] = field(default_factory=list)
    count: int = 0
    capped: bool = False

    @property
    def count_label(self) -> str:
        return f"{self.count}+" if self.capped else str(self.count)


def _changelist(model: str, **params) -> str:
    url = reverse(f"admin:{model.replace('.', '_')}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def _change(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def _fill(queue: Queue, queryset: QuerySet, to_row) -> Queue:
    queue.rows = [to_row(obj) for obj in queryset[:QUEUE_ROWS]]
    queue.count, queue.capped = capped_count(queryset)
    return queue


def _follow_up_row(now):
    def to_row(follow_up) -> Row:
        who = follow_up.assignee.get_username() if follow_up.assignee_id else "unassigned"
        return Row(
            label=follow_up_label(follow_up),
            url=_change(follow_up),
            detail=f"{resident_label(follow_up.resident)} · {follow_up.get_status_display()} · "
            f"{follow_up.attempts_made}/{follow_up.max_attempts} attempts · {who}",
            when=follow_up.due_at,
            late=follow_up.due_at < now,
            when_label="Due",
        )

    return to_row


def _referral_row(now):
    def to_row(referral) -> Row:
        answer_due = referral.status == "sent"
        return Row(
            label=referral_label(referral),
            url=_change(referral),
            detail=f"{referral.get_status_display()} · referred by "
            f"{referral.created_by.get_username()}",
            when=referral.respond_by if answer_due else referral.updated_at,
            late=bool(answer_due and referral.respond_by and referral.respond_by < now),
            when_label="Answer due" if answer_due else "Last change",
        )

    return to_row


def _encounter_row(encounter) -> Row:
    people = [resident_label(link.resident) for link in encounter.people.all()]
    return Row(
        label=encounter_label(encounter),
        url=_change(encounter),
        detail=" · ".join(
            [encounter.get_disposition_display() or "draft", *(people or ["nobody identified"])]
        ),
        when=encounter.occurred_at,
        when_label="Occurred",
    )


def _people() -> QuerySet:
    from cases.models import EncounterResident

    return EncounterResident.objects.select_related("resident").order_by("id")


def _referrals_of(user) -> QuerySet:
    """Referrals the user made, or someone of their team (the referrer's index serves it)."""
    from resources.selectors import referral_queryset_for_user

    mine = Q(created_by=user)
    if user.team_id:
        mine |= Q(created_by__team_id=user.team_id)
    return referral_queryset_for_user(user).filter(mine)


def referrals_waiting_on_partners(user) -> QuerySet:
    """Sent, accepted or in progress: the partner has the next move. The closest deadline
    first."""
    return (
        _referrals_of(user)
        .filter(status__in=WAITING_ON_PARTNER)
        .order_by("respond_by", "updated_at", "id")
    )


def referrals_to_reroute(user) -> QuerySet:
    """Declined, expired or not completed lately, whose re-routing follow-up (if any) is not
    closed yet: the resident still needs a service."""
    from cases.models import FollowUp

    done = FollowUp.objects.filter(referral=OuterRef("pk"), status=FollowUp.Status.CLOSED)
    since = timezone.now() - timedelta(days=REROUTE_DAYS)
    return (
        _referrals_of(user)
        .filter(status__in=TO_REROUTE, updated_at__gte=since)
        .exclude(Exists(done))
        .order_by("-updated_at", "-id")
    )


def _addendum_row(addendum) -> Row:
    return Row(
        label=addendum_label(addendum),
        url=_change(addendum),
        # Two addenda to one call read the same by their labels: their first words differ.
        detail=f"“{Truncator(' '.join(addendum.text.split())).chars(90)}”",
        when=addendum.created_at,
        when_label="Written",
    )


def dashboard_for(user) -> list[Queue]:
    """The user's queues, mine first then my team's; empty for roles without a desk."""
    if not has_any_role(user, STAFF_ROLES):
        return []
    now = timezone.now()
    team = user.team.name if user.team_id else None
    follow_up = _follow_up_row(now)
    referral = _referral_row(now)
    supervising = []
    if user.has_role(Role.SUPERVISOR):
        supervising.append(
            _fill(
                Queue(
                    "addenda_to_approve",
                    "Addenda awaiting my approval",
                    "No addendum waits for you.",
                    _changelist("cases.addendum", awaiting="me"),
                ),
                work_queues.addenda_awaiting_approval(user).select_related("encounter__call"),
                _addendum_row,
            )
        )
    return [
        _fill(
            Queue(
                "my_follow_ups",
                "My follow-ups due today or overdue",
                "Nothing due today.",
                _changelist("cases.followup", due="due_now", mine="me"),
            ),
            work_queues.follow_ups_due_for_user(user, whose="mine"),
            follow_up,
        ),
        _fill(
            Queue(
                "team_follow_ups",
                f"{team}: other follow-ups due today or overdue"
                if team
                else "Unassigned follow-ups due today or overdue",
                "Nothing waiting for the team.",
                _changelist("cases.followup", due="due_now", mine="team"),
            ),
            work_queues.follow_ups_due_for_user(user, whose="team"),
            follow_up,
        ),
        _fill(
            Queue(
                "referrals_waiting",
                "Referrals waiting on partners",
                "No referral is waiting on a partner.",
                _changelist("resources.referral", queue="waiting", referrer="mine"),
            ),
            referrals_waiting_on_partners(user),
            referral,
        ),
        _fill(
            Queue(
                "referrals_reroute",
                "Referrals to re-route (declined, expired, not completed)",
                "No referral to re-route.",
                _changelist("resources.referral", queue="reroute", referrer="mine"),
            ),
            referrals_to_reroute(user),
            referral,
        ),
        _fill(
            Queue(
                "recent_encounters",
                "Recent encounters of residents I follow",
                "No recent encounter of the residents you follow.",
                _changelist("cases.encounter", followed="me"),
            ),
            work_queues.recent_encounters_of_followed(user).prefetch_related(
                Prefetch("people", queryset=_people())
            ),
            _encounter_row,
        ),
        *supervising,
    ]


def install(site) -> None:
    """Show the dashboard above the app list of `site`'s index page."""
    original = site.index

    def index(request, extra_context=None):
        context = {"dashboard": dashboard_for(request.user), **(extra_context or {})}
        return original(request, extra_context=context)

    site.index = index
    site.index_template = "admin/dashboard_index.html"
