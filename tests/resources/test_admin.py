"""Directory maintenance in the admin: pages load for a case manager, search is typo-tolerant,
the stale-listing filter works, and capacity saved in the admin lands in the history."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resources.models import CapacityHistory, Service
from tests.factories import CapacityFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "page",
    [
        "organization",
        "service",
        "location",
        "serviceatlocation",
        "capacity",
        "taxonomy",
        "taxonomyterm",
    ],
)
def test_directory_admin_pages_load(client, admin_user, directory, page):
    client.force_login(admin_user)

    assert client.get(f"/admin/resources/{page}/").status_code == 200


def test_service_change_page_shows_inlines(client, admin_user, directory):
    client.force_login(admin_user)
    service = directory["shelter"].service

    response = client.get(f"/admin/resources/service/{service.pk}/change/")

    assert response.status_code == 200
    assert b"schedules-TOTAL_FORMS" in response.content


def test_admin_service_search_tolerates_typos(client, admin_user, directory):
    client.force_login(admin_user)

    response = client.get("/admin/resources/service/", {"q": "shleter"})

    assert b"Overnight emergency shelter" in response.content
    assert b"Food pantry" not in response.content


def test_admin_lists_services_not_verified_for_180_days(client, admin_user, directory):
    client.force_login(admin_user)
    Service.objects.update(last_verified_at=timezone.now())
    Service.objects.filter(name="Food pantry").update(
        last_verified_at=timezone.now() - timedelta(days=181)
    )

    response = client.get("/admin/resources/service/", {"verification": "stale"})

    assert b"Food pantry" in response.content
    assert b"Walk-in clinic" not in response.content


def test_capacity_saved_in_the_admin_is_recorded_in_history(client, admin_user):
    capacity = CapacityFactory()
    client.force_login(admin_user)

    response = client.post(
        f"/admin/resources/capacity/{capacity.pk}/change/",
        {
            "service_at_location": capacity.service_at_location.pk,
            "available": 3,
            "total": 40,
            "unit": "beds",
        },
    )

    assert response.status_code == 302
    entry = CapacityHistory.objects.get()
    assert (entry.available, entry.recorded_by) == (3, admin_user)


@pytest.mark.parametrize(
    "page", ["organization", "service", "location", "serviceatlocation", "capacity"]
)
def test_directory_lists_never_count_the_whole_table(client, admin_user, directory, page):
    """At 200,000 services an exact COUNT(*) of the list (and the unfiltered total beside a
    search) is a scan on every page: each count reads a LIMITed subquery instead
    (cases.admin.CappedCountPaginator), and the unfiltered total is not asked for."""

    client.force_login(admin_user)
    client.get("/admin/")

    with CaptureQueriesContext(connection) as captured:
        # A search too (Capacity has no search box): the admin would count the table unfiltered.
        response = client.get(
            f"/admin/resources/{page}/", {} if page == "capacity" else {"q": "shelter"}
        )

    assert response.status_code == 200
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert counts and all(" LIMIT " in sql.upper() for sql in counts), counts
    assert response.context["cl"].show_full_result_count is False


def test_a_list_longer_than_its_count_says_so(monkeypatch, client, admin_user):
    """Past the cap a list says "3+ organizations", searched or not: "3" would be a count."""
    from acs.admin_base import CappedCountPaginator
    from tests.factories import OrganizationFactory

    for n in range(4):
        OrganizationFactory(name=f"Kit {n}")
    client.force_login(admin_user)
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)

    listed = client.get("/admin/resources/organization/").content.decode()
    searched = client.get("/admin/resources/organization/", {"q": "Kit"}).content.decode()

    assert "3+ organizations" in listed
    assert "3+ results" in searched and "3+ organizations" in searched
    monkeypatch.setattr(CappedCountPaginator, "cap", 4)
    listed = client.get("/admin/resources/organization/").content.decode()
    assert "4 organizations" in listed and "4+" not in listed


def test_a_searched_service_list_counts_as_far_as_the_hsds_list(monkeypatch, client, admin_user):
    """Best match first, 20 pages of 50 are the search's; its count stops where the HSDS
    list's does (MATCHES_COUNTED), the list's own (LIST_COUNT_CAP) when not searched."""
    from acs.admin_base import CappedCountPaginator
    from resources import selectors
    from resources.admin import directory
    from resources.api import hsds_pagination
    from tests.factories import ServiceFactory

    for n in range(4):
        ServiceFactory(name=f"Night shelter {n}")
    client.force_login(admin_user)
    monkeypatch.setattr(directory, "MATCHES_COUNTED", 2)
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    assert hsds_pagination.COUNT_CAP == selectors.MATCHES_COUNTED == 1000

    searched = client.get("/admin/resources/service/", {"q": "shelter"})
    listed = client.get("/admin/resources/service/")

    assert searched.context["cl"].result_count == 2 and searched.context["cl"].paginator.capped
    assert "2+ results" in searched.content.decode()
    assert listed.context["cl"].result_count == 3 and listed.context["cl"].paginator.capped


def test_a_searched_service_list_counts_its_matches_from_the_documents_alone(client, admin_user):
    """A search and no list filter is counted from the documents' index alone (no join to
    the services, whose key order PostgreSQL walked); with a filter, through the services:
    the same count either way, the filter's rows left out."""
    from tests.factories import ServiceFactory

    for n in range(3):
        ServiceFactory(name=f"Night shelter {n}")
    ServiceFactory(name="Closed shelter", status="inactive")
    ServiceFactory(name="Laundry vouchers")
    client.force_login(admin_user)

    with CaptureQueriesContext(connection) as searched:
        everything = client.get("/admin/resources/service/", {"q": "shelter"})
    with CaptureQueriesContext(connection) as filtered:
        active = client.get("/admin/resources/service/", {"q": "shelter", "status": "active"})

    assert everything.context["cl"].result_count == 4
    assert active.context["cl"].result_count == 3
    (count,) = [q["sql"] for q in searched if "COUNT(" in q["sql"].upper()]
    assert "resources_servicesearchdocument" in count and '"resources_service"' not in count
    (count,) = [q["sql"] for q in filtered if "COUNT(" in q["sql"].upper()]
    assert '"resources_service"."status"' in count


def test_only_a_search_standing_alone_is_counted_from_the_documents(db):
    """only_text_match names the search's tsquery only when it is the list's one condition:
    not beside a filter, and not inside an OR with another condition."""
    from django.db.models import Q

    from resources.selectors import only_text_match, text_search
    from resources.selectors.directory.text import text_matches, text_query

    searched, _ranked = text_search(Service.objects.all(), "shelter", service="")
    assert only_text_match(searched) == text_query("shelter").tsquery
    assert only_text_match(searched.filter(status="active")) is None
    assert only_text_match(Service.objects.all()) is None
    either = Q(text_matches(text_query("shelter"), service="")) | Q(name="Quilt drive")
    assert only_text_match(Service.objects.filter(either)) is None


def test_admin_service_search_finds_every_service_best_match_first(client, admin_user):
    """The service list searches every service it lists: staff look for an inactive one to
    reopen it, or one with no place yet to place it (the field app and the refer pickers
    offer active places only). Best match first while searching, unless a column is sorted."""
    from resources.models import ServiceStatus
    from tests.factories import ServiceFactory

    closed = ServiceFactory(name="Winter shelter", status=ServiceStatus.INACTIVE)
    unplaced = ServiceFactory(name="Youth shelter")  # no service at location yet
    mentioned = ServiceFactory(name="Aardvark meals", description="Meals; ask about shelter.")
    ServiceFactory(name="Dental clinic")
    client.force_login(admin_user)

    response = client.get("/admin/resources/service/", {"q": "shelter"})

    assert response.status_code == 200
    listed = list(response.context["cl"].result_list)
    assert set(listed) == {closed, unplaced, mentioned}
    assert listed[-1] == mentioned  # named for it first; mentioned in passing last
    assert response.context["cl"].get_ordering_field_columns() == {}  # no header claims it
    assert client.get("/admin/resources/service/").context["cl"].get_ordering_field_columns()
    by_name = client.get("/admin/resources/service/", {"q": "shelter", "o": "1"})
    assert next(iter(by_name.context["cl"].result_list)) == mentioned  # the user's sort
    nothing = client.get("/admin/resources/service/", {"q": "the"})  # only a stop word
    assert nothing.status_code == 200 and not nothing.context["cl"].result_list


def test_a_searched_service_list_pages_by_keys_then_rows_in_the_search_order(
    client, admin_user, monkeypatch
):
    """Past one page, the list finds the page's keys in its order over the keys alone (no
    organization joined into the sort of every match), then reads those rows: each page is
    the search's own slice, best match first, and pages meet without a gap or a repeat."""
    from django.contrib import admin

    from tests.factories import ServiceFactory

    for i in range(7):
        ServiceFactory(name=f"Shelter {i}")
        ServiceFactory(name=f"Clinic {i}", description="Ask about the shelter.")
    monkeypatch.setattr(admin.site._registry[Service], "list_per_page", 3)
    client.force_login(admin_user)
    everything = list(
        client.get("/admin/resources/service/", {"q": "shelter", "all": ""})
        .context["cl"]
        .result_list
    )
    assert len(everything) == 14 and everything[0].name.startswith("Shelter")

    paged = []
    for page in range(1, 6):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/admin/resources/service/", {"q": "shelter", "p": page})
        rows = list(response.context["cl"].result_list)
        paged += rows
        keys = [
            q["sql"] for q in captured if q["sql"].startswith('SELECT "resources_service"."id"')
        ]
        assert keys and "resources_organization" not in keys[0], page  # narrow: no join

    assert paged == everything


def test_a_word_held_heavily_by_enough_documents_is_counted_from_their_index(db):
    """documents_matching: a word whose heavy documents (a name's word) reach the limit is
    the limit without counting the documents; below it, every match is counted, the light
    ones (a description's single mention) too, and words together are counted as before."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from resources.selectors.directory.text import documents_matching, text_query
    from tests.factories import ServiceFactory

    for n in range(3):
        ServiceFactory(name=f"Night shelter {n}")
    for n in range(2):
        ServiceFactory(name=f"Pantry {n}", description="Next to the shelter on Main Street.")
    shelter = text_query("shelter").tsquery

    def counted(tsquery: str, limit: int) -> tuple[int, bool]:
        with CaptureQueriesContext(connection) as statements:
            n = documents_matching(tsquery, limit=limit)
        (sql,) = [q["sql"] for q in statements]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        # Whether the documents themselves were read (their scan ran at least once).
        read = any(
            "resources_servicesearchdocument" in line and "never executed" not in line
            for line in plan.splitlines()
        )
        return n, read

    assert counted(shelter, 3) == (3, False)  # three names say it: settled by their index
    assert counted(shelter, 10) == (5, True)  # two more mention it: every match counted
    assert counted(shelter, 5) == (5, True)
    together = text_query("night shelter").tsquery
    assert counted(together, 10) == (3, True)
