"""Threshold crossings, told to the on-duty supervisors through the notification outbox.

Two clocks (cases/board/selectors/urgency.py `Thresholds`): a call still waiting for a unit past
its priority's BOARD_PENDING_MINUTES, and a unit on scene past BOARD_ON_SCENE_MINUTES without a
status since (its safety check-in missed: a status from the unit is its check-in). Each
crossing is recorded once (`BoardAlert`, unique on kind, call or unit, and the moment its clock
started), in the same transaction as its e-mails, so it notifies exactly once however often and
however concurrently the sweep runs; a call that is dispatched and comes back to pending, or a
unit back on scene, starts a new clock and may cross again.

The on-duty supervisors: active supervisors with an e-mail address who signed in within a
session's lifetime (SESSION_COOKIE_AGE, a shift); when none has, every active supervisor, so
that a crossing always reaches someone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from acs.roles import Role
from cases.board.selectors import WAITING, Thresholds
from cases.models import BoardAlert, BoardAlertKind, Call
from cases.services.notifications import notification_schedule
from responders.models import Unit, UnitStatus, User

# Crossings recorded per run, oldest first; the next run (a minute later) takes the rest.
ALERT_BATCH = 200


def on_duty_supervisors(*, now: datetime) -> list[User]:
    supervisors = User.objects.filter(is_active=True, groups__name=Role.SUPERVISOR.value).exclude(
        email=""
    )
    recent = supervisors.filter(
        last_login__gte=now - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    )
    return list(recent.order_by("id")) or list(supervisors.order_by("id"))


def _calls_crossed(now: datetime, thresholds: Thresholds):
    told = BoardAlert.objects.filter(
        kind=BoardAlertKind.CALL_PENDING, call=OuterRef("pk"), since=OuterRef("received_at")
    )
    by_priority = reduce(
        or_,
        (
            Q(priority=priority, received_at__lte=now - timedelta(minutes=minutes))
            for priority, minutes in thresholds.pending_minutes.items()
        ),
    )
    return (
        Call.objects.filter(status__in=WAITING)
        .filter(by_priority)
        .exclude(Exists(told))
        .order_by("received_at", "id")[:ALERT_BATCH]
    )


def _units_crossed(now: datetime, thresholds: Thresholds):
    told = BoardAlert.objects.filter(
        kind=BoardAlertKind.UNIT_ON_SCENE, unit=OuterRef("pk"), since=OuterRef("status_changed_at")
    )
    return (
        Unit.objects.filter(
            status=UnitStatus.ON_SCENE,
            status_changed_at__lte=now - timedelta(minutes=thresholds.on_scene_minutes),
        )
        .exclude(Exists(told))
        .order_by("status_changed_at", "id")[:ALERT_BATCH]
    )


def _record(*, kind: str, since: datetime, minutes: int, context: dict, people, **target) -> bool:
    """Record one crossing and schedule its e-mails, together; False when it was recorded
    already (another run got there first)."""
    try:
        with transaction.atomic():
            alert = BoardAlert.objects.create(kind=kind, since=since, minutes=minutes, **target)
            for person in people:
                notification_schedule(
                    template="board_alert",
                    channel="email",
                    user=person,
                    context={"kind": kind, "minutes": minutes, **context},
                    dedupe_key=f"board:{alert.public_id}:{person.pk}",
                    expires_at=timezone.now() + timedelta(hours=2),
                )
            alert.notified = len(people)
            alert.save(update_fields=["notified", "updated_at"])
    except IntegrityError:
        return False
    return True


def board_alerts_schedule(*, now: datetime | None = None) -> int:
    """Record the threshold crossings not yet told and e-mail the on-duty supervisors about
    each (at most ALERT_BATCH of each kind per run); returns how many crossings were new."""
    now = now or timezone.now()
    thresholds = Thresholds.from_settings()
    people = on_duty_supervisors(now=now)
    new = 0
    for call in _calls_crossed(now, thresholds):
        minutes = thresholds.pending_minutes[call.priority]
        new += _record(
            kind=BoardAlertKind.CALL_PENDING,
            call=call,
            since=call.received_at,
            minutes=minutes,
            context={"incident": call.incident_number, "priority": call.priority},
            people=people,
        )
    for unit in _units_crossed(now, thresholds):
        new += _record(
            kind=BoardAlertKind.UNIT_ON_SCENE,
            unit=unit,
            since=unit.status_changed_at,
            minutes=thresholds.on_scene_minutes,
            context={"unit": unit.call_sign},
            people=people,
        )
    return new
