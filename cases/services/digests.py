"""The desk's morning digest: follow-ups due today and overdue, counted per assignee, and for
supervisors the addenda of their team's encounters awaiting their approval."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from cases.models import FollowUp
from cases.services.notifications import notification_schedule


def digests_schedule(*, now: datetime | None = None) -> int:
    """Once DIGEST_HOUR has come (department time), schedule today's digest for every active
    assignee with work due today or overdue. Runs hourly; the dedupe key makes it once a day."""
    now = timezone.localtime(now or timezone.now())
    if now.hour < settings.DIGEST_HOUR:
        return 0
    end_of_day = timezone.make_aware(
        datetime.combine(now.date() + timedelta(days=1), time()), now.tzinfo
    )
    counts = (
        FollowUp.objects.exclude(status=FollowUp.Status.CLOSED)
        .filter(assignee__isnull=False, assignee__is_active=True, due_at__lt=end_of_day)
        .values("assignee")
        .annotate(
            overdue=Count("id", filter=Q(due_at__lt=now)),
            due=Count("id", filter=Q(due_at__gte=now)),
        )
    )
    from responders.models import User

    work = {c["assignee"]: {"due": c["due"], "overdue": c["overdue"]} for c in counts}
    for supervisor_id, waiting in _addenda_waiting().items():
        work.setdefault(supervisor_id, {"due": 0, "overdue": 0})["addenda"] = waiting
    users = {u.pk: u for u in User.objects.filter(pk__in=list(work))}
    for user_id, context in work.items():
        notification_schedule(
            template="staff_digest",
            channel="email",
            user=users[user_id],
            context=context,
            dedupe_key=f"digest:{user_id}:{now.date().isoformat()}",
        )
    return len(work)


def _addenda_waiting() -> dict[int, int]:
    """Active supervisors' counts of addenda awaiting their approval (their team's encounters,
    not their own addenda), as work_queues.addenda_awaiting_approval counts them: two queries."""
    from acs.roles import Role
    from cases.models import ADDENDUM_PENDING, Addendum
    from responders.models import User

    pending = (
        Addendum.objects.filter(ADDENDUM_PENDING)
        .values("encounter__unit__team_id", "author_id")
        .annotate(n=Count("id"))
    )
    by_team: dict[int, list[tuple[int, int]]] = {}
    for row in pending:
        if row["encounter__unit__team_id"] is not None:
            by_team.setdefault(row["encounter__unit__team_id"], []).append(
                (row["author_id"], row["n"])
            )
    if not by_team:
        return {}
    supervisors = User.objects.filter(
        is_active=True, groups__name=Role.SUPERVISOR, team_id__in=list(by_team)
    ).values_list("pk", "team_id")
    waiting = {
        pk: sum(n for author, n in by_team[team_id] if author != pk) for pk, team_id in supervisors
    }
    return {pk: n for pk, n in waiting.items() if n}
