"""The case managers' morning digest: follow-ups due today and overdue, counted per assignee."""

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

    users = {u.pk: u for u in User.objects.filter(pk__in=[c["assignee"] for c in counts])}
    for row in counts:
        notification_schedule(
            template="staff_digest",
            channel="email",
            user=users[row["assignee"]],
            context={"due": row["due"], "overdue": row["overdue"]},
            dedupe_key=f"digest:{row['assignee']}:{now.date().isoformat()}",
        )
    return len(counts)
