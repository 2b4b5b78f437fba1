"""Directory invariants held by the database itself, whatever code writes the rows."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from resources.models import Capacity, Phone, Schedule, Service
from tests.factories import ScheduleFactory, ServiceAtLocationFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_capacity_cannot_exceed_total():
    with pytest.raises(IntegrityError):
        Capacity.objects.create(
            service_at_location=ServiceAtLocationFactory(), available=5, total=4
        )


def test_a_phone_needs_an_owner():
    with pytest.raises(IntegrityError):
        Phone.objects.create(number="505-555-0000")


def test_a_closure_needs_a_date():
    with pytest.raises(IntegrityError):
        ScheduleFactory(service=ServiceFactory(), closed=True)


def test_schedule_validity_must_not_end_before_it_starts():
    with pytest.raises(IntegrityError):
        ScheduleFactory(
            service=ServiceFactory(), valid_from=date(2026, 3, 1), valid_to=date(2026, 2, 1)
        )


def test_schedule_freq_is_weekly_monthly_or_blank():
    with pytest.raises(IntegrityError):
        ScheduleFactory(service=ServiceFactory(), freq="YEARLY")


def test_service_status_is_an_hsds_status():
    with pytest.raises(IntegrityError):
        ServiceFactory(status="open")


def test_service_age_range_is_ordered():
    with pytest.raises(IntegrityError):
        ServiceFactory(minimum_age=30, maximum_age=18)


def test_schedule_clean_refuses_an_unreadable_byday():
    schedule = Schedule(service=ServiceFactory(), freq="WEEKLY", byday="MONDAY")

    with pytest.raises(ValidationError):
        schedule.clean()


def test_an_unreadable_schedule_never_makes_a_service_open(directory):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from resources.selectors import service_search

    pantry = Service.objects.get(name="Food pantry")
    Schedule.objects.filter(service=pantry).update(byday="MO,XX,TU,WE,TH,FR")
    noon = datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("America/Denver"))

    assert "Food pantry" not in [s.service.name for s in service_search(open_now=True, at=noon)]
