"""Capacity: updated through the service, history appended, stale after the configured age."""

from datetime import timedelta

import pytest
from django.utils import timezone

from acs.errors import DomainError
from resources.models import Capacity, CapacityHistory
from resources.services import capacity_update
from tests.factories import ServiceAtLocationFactory

pytestmark = pytest.mark.django_db


def test_capacity_update_sets_the_figure_and_appends_history(partner_a):
    sal = ServiceAtLocationFactory()

    capacity_update(service_at_location=sal, available=12, total=40, by=partner_a)
    capacity_update(service_at_location=sal, available=9, total=40, by=partner_a)

    capacity = Capacity.objects.get(service_at_location=sal)
    assert (capacity.available, capacity.total, capacity.unit) == (9, 40, "beds")
    assert capacity.updated_by == partner_a
    assert list(
        CapacityHistory.objects.filter(service_at_location=sal).values_list("available", flat=True)
    ) == [9, 12]


@pytest.mark.parametrize(("available", "total"), [(41, 40), (-1, 40)])
def test_capacity_update_refuses_impossible_figures(available, total):
    sal = ServiceAtLocationFactory()

    with pytest.raises(DomainError):
        capacity_update(service_at_location=sal, available=available, total=total)

    assert not Capacity.objects.exists()
    assert not CapacityHistory.objects.exists()


def test_capacity_is_stale_after_the_configured_age(settings):
    settings.CAPACITY_STALE_AFTER = timedelta(hours=1)
    capacity = capacity_update(service_at_location=ServiceAtLocationFactory(), available=1, total=2)
    assert not capacity.is_stale

    Capacity.objects.update(updated_at=timezone.now() - timedelta(minutes=61))
    capacity.refresh_from_db()

    assert capacity.is_stale


def test_capacity_goes_stale_after_twelve_hours_by_default(settings):
    assert timedelta(hours=12) == settings.CAPACITY_STALE_AFTER
    capacity = capacity_update(service_at_location=ServiceAtLocationFactory(), available=1, total=2)
    Capacity.objects.update(updated_at=timezone.now() - timedelta(hours=11, minutes=59))
    capacity.refresh_from_db()
    assert not capacity.is_stale

    Capacity.objects.update(updated_at=timezone.now() - timedelta(hours=12, minutes=1))
    capacity.refresh_from_db()
    assert capacity.is_stale
