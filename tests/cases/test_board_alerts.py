"""Threshold crossings on the operations board notify the on-duty supervisors through the
notification outbox, each crossing exactly once (cases/board/alerts.py)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from acs.roles import Role
from cases.board.alerts import board_alerts_schedule
from cases.models import BoardAlert, Notification
from cases.services.notifications import notification_send
from cases.tasks import board_alerts
from tests.factories import CallFactory, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_duty(settings):
    settings.BOARD_PENDING_MINUTES = {1: 10, 2: 15, 3: 30, 4: 60, 5: 120}
    settings.BOARD_ON_SCENE_MINUTES = 45
    return UserFactory(
        username="sup-duty",
        role=Role.SUPERVISOR,
        email="duty@acs.invalid",
        last_login=timezone.now() - timedelta(hours=1),
    )


def test_a_call_pending_past_its_limit_emails_the_on_duty_supervisor_once(on_duty):
    now = timezone.now()
    late = CallFactory(
        incident_number="A-1", status="pending", priority=2, received_at=now - timedelta(minutes=16)
    )
    CallFactory(status="pending", priority=2, received_at=now - timedelta(minutes=14))
    CallFactory(status="dispatched", priority=1, received_at=now - timedelta(minutes=30))

    assert board_alerts() == 1
    assert board_alerts() == 0  # the next minute's run: nothing new

    alert = BoardAlert.objects.get()
    assert (alert.call, alert.since, alert.notified) == (late, late.received_at, 1)
    (row,) = Notification.objects.all()
    assert row.user == on_duty and row.template == "board_alert"
    assert notification_send(row.pk) == Notification.Status.SENT
    (message,) = mail.outbox
    assert message.to == ["duty@acs.invalid"]
    assert "A-1" in message.subject and "15 min" in message.subject
    assert "/board/" in message.body and late.address not in message.body


def test_a_unit_on_scene_too_long_without_a_status_is_a_missed_check_in(on_duty):
    unit = UnitFactory(
        call_sign="ACS-50",
        status="on_scene",
        status_changed_at=timezone.now() - timedelta(minutes=46),
    )
    UnitFactory(status="on_scene", status_changed_at=timezone.now() - timedelta(minutes=40))

    assert board_alerts_schedule() == 1

    (row,) = Notification.objects.all()
    assert row.context == {"kind": "unit_on_scene", "minutes": 45, "unit": "ACS-50"}
    notification_send(row.pk)
    assert "check-in is missed" in mail.outbox[0].body
    # A new status, then on scene again for too long: a new clock, a new crossing.
    unit.status_changed_at = timezone.now() - timedelta(minutes=50)
    unit.save()
    assert board_alerts_schedule() == 1
    assert BoardAlert.objects.count() == 2


def test_supervisors_who_are_not_on_shift_are_not_told(on_duty):
    UserFactory(
        username="sup-away",
        role=Role.SUPERVISOR,
        email="away@acs.invalid",
        last_login=timezone.now() - timedelta(days=3),
    )
    CallFactory(status="pending", priority=1, received_at=timezone.now() - timedelta(minutes=11))

    board_alerts_schedule()

    assert list(Notification.objects.values_list("user__username", flat=True)) == ["sup-duty"]


def test_when_no_supervisor_is_signed_in_every_active_supervisor_is_told(settings):
    settings.BOARD_PENDING_MINUTES = {1: 10, 2: 15, 3: 30, 4: 60, 5: 120}
    for name in ("sup-a", "sup-b"):
        UserFactory(username=name, role=Role.SUPERVISOR, email=f"{name}@acs.invalid")
    UserFactory(username="cm", role=Role.CASE_MANAGER, email="cm@acs.invalid")
    CallFactory(status="pending", priority=1, received_at=timezone.now() - timedelta(minutes=11))

    board_alerts_schedule()

    assert sorted(Notification.objects.values_list("user__username", flat=True)) == [
        "sup-a",
        "sup-b",
    ]


def test_a_crossing_already_recorded_by_an_overlapping_run_is_not_told_twice(on_duty):
    call = CallFactory(
        status="pending", priority=1, received_at=timezone.now() - timedelta(minutes=11)
    )
    # The other run recorded it between this run's query and its insert.
    BoardAlert.objects.create(kind="call_pending", call=call, since=call.received_at, minutes=10)
    from cases.board import alerts

    assert (
        alerts._record(
            kind="call_pending",
            call=call,
            since=call.received_at,
            minutes=10,
            context={},
            people=[on_duty],
        )
        is False
    )
    assert not Notification.objects.exists()
