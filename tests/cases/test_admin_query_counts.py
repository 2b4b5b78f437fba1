"""The busy admin lists and change pages cost the same number of queries whatever the number of
rows (select_related, no per-row lookups), and never count a whole big table."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs.admin_base import LIST_COUNT_CAP, CappedCountPaginator
from cases.models import (
    Addendum,
    Encounter,
    EncounterResident,
    FollowUp,
    Notification,
    Resident,
)
from tests.factories import CallFactory, ResidentFactory, ServiceFactory, UnitFactory
from tests.resources.referral_helpers import referrable_service, referral_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def build(case_manager, responder, agency_a):
    """One more row of each listed model, with its relations filled in."""
    unit = UnitFactory(call_sign="ACS-77")
    service, _ = referrable_service(agency_a)
    now = timezone.now()

    def one(kind: str):
        resident = ResidentFactory()
        if kind == "resident":
            return resident
        if kind == "call":
            return CallFactory()
        if kind == "service":
            return ServiceFactory()
        if kind == "encounter":
            encounter = Encounter.objects.create(
                client_id=uuid.uuid4(),
                unit=unit,
                call=CallFactory(),
                created_by=responder,
                occurred_at=now,
            )
            EncounterResident.objects.create(encounter=encounter, resident=resident)
            return encounter
        if kind == "addendum":
            return Addendum.objects.create(
                encounter=one("encounter"), author=responder, text="Called back"
            )
        if kind == "followup":
            return FollowUp.objects.create(
                resident=resident,
                kind="phone",
                due_at=now - timedelta(hours=1),
                window_ends_at=now + timedelta(days=7),
                assignee=case_manager,
            )
        if kind == "referral":
            return referral_in("sent", service=service, resident=resident, created_by=case_manager)
        if kind == "residentmerge":
            from cases.services import resident_merge

            return resident_merge(
                actor=case_manager, survivor=resident, duplicate=ResidentFactory()
            )
        if kind == "notification":
            return Notification.objects.create(
                recipient_kind="resident",
                resident=resident,
                channel="sms",
                template="checkin",
                due_at=now,
                expires_at=now + timedelta(hours=4),
                next_attempt_at=now,
            )
        raise AssertionError(kind)

    return one


LISTS = {
    "resident": "/admin/cases/resident/",
    "call": "/admin/cases/call/",
    "encounter": "/admin/cases/encounter/",
    "addendum": "/admin/cases/addendum/",
    "followup": "/admin/cases/followup/",
    "referral": "/admin/resources/referral/",
    "notification": "/admin/cases/notification/",
    # Both residents named on every row (cases/display.py): selected with the row.
    "residentmerge": "/admin/cases/residentmerge/",
    # Reads only the columns it shows (BestMatchFirst.columns): one left out would be read
    # row by row.
    "service": "/admin/resources/service/",
}


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("kind", sorted(LISTS))
def test_a_changelist_costs_the_same_with_one_row_or_thirty(client, case_manager, build, kind):
    first = build(kind)
    client.force_login(case_manager)
    client.get("/admin/")  # the session's first request does the MFA check
    one = queries(client, LISTS[kind])
    client.get(f"{LISTS[kind]}{first.pk}/change/")  # warms the content-type cache
    page_one = queries(client, f"{LISTS[kind]}{first.pk}/change/")

    listed = client.get(LISTS[kind]).context["cl"].result_count  # the fixture's own rows too
    for _ in range(29):
        build(kind)
    response = client.get(LISTS[kind])

    assert response.context["cl"].result_count == listed + 29 >= 30
    assert queries(client, LISTS[kind]) == one
    assert queries(client, f"{LISTS[kind]}{first.pk}/change/") == page_one


@pytest.mark.parametrize("kind", sorted(LISTS))
def test_no_changelist_counts_the_whole_table(client, case_manager, build, kind):
    build(kind)
    client.force_login(case_manager)
    client.get("/admin/")

    with CaptureQueriesContext(connection) as captured:
        client.get(LISTS[kind])

    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    # Each count reads a LIMITed subquery: bounded, however big the table grows.
    assert counts and all(" LIMIT " in sql.upper() for sql in counts), counts


def test_the_paginator_stops_counting_at_the_cap(monkeypatch, case_manager):
    for _ in range(4):
        ResidentFactory()
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)

    paginator = CappedCountPaginator(Resident.objects.order_by("id"), 2)
    assert (paginator.count, paginator.capped) == (3, True)
    monkeypatch.setattr(CappedCountPaginator, "cap", 4)
    paginator = CappedCountPaginator(Resident.objects.order_by("id"), 2)
    assert (paginator.count, paginator.capped) == (4, False)
    assert LIST_COUNT_CAP >= 1000


def test_the_residents_page_costs_the_same_with_one_row_or_ten_in_each_list(
    client, case_manager, responder, agency_a
):
    """The working page's lists (open follow-ups, active referrals, the linked timeline) and
    the refer panel: no per-row queries, whatever the resident's history."""
    from cases.models import Consent

    resident = ResidentFactory()
    unit = UnitFactory(call_sign="ACS-78")
    service, _ = referrable_service(agency_a)
    now = timezone.now()

    def one_more_of_each():
        FollowUp.objects.create(
            resident=resident,
            kind="phone",
            due_at=now,
            window_ends_at=now + timedelta(days=7),
            assignee=case_manager,
        )
        referral_in("sent", service=service, resident=resident, created_by=case_manager)
        encounter = Encounter.objects.create(
            client_id=uuid.uuid4(), unit=unit, created_by=responder, occurred_at=now
        )
        EncounterResident.objects.create(encounter=encounter, resident=resident)
        Consent.objects.create(
            resident=resident, scope="share_partners", method="verbal", recorded_by=case_manager
        )

    one_more_of_each()
    client.force_login(case_manager)
    client.get("/admin/")
    url = f"/admin/cases/resident/{resident.pk}/change/"
    client.get(url)  # warms the content-type cache
    first = queries(client, url)

    for _ in range(9):
        one_more_of_each()
    html = client.get(url).content.decode()

    assert html.count("/admin/cases/followup/") >= 10
    assert html.count("/admin/resources/referral/") >= 20  # listed, and in the timeline
    assert queries(client, url) == first
