"""Opening intervals: open-now search answered by the database inside their window, by the
schedules outside it, and kept equal to the schedules by every way they are written (admin,
model saves, the HSDS import, the daily roll, generate_directory)."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, time, timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resources.hsds_import import directory_import
from resources.models import (
    OpeningHoursWindow,
    OpeningInterval,
    OpeningSpans,
    Schedule,
    SearchPlace,
    Service,
)
from resources.models.opening_hours import hour_of_week
from resources.selectors import service_search
from resources.services.opening_hours import (
    opening_intervals_roll,
    window_for,
    window_recorded,
)
from resources.tasks import roll_opening_intervals
from tests.factories import ScheduleFactory
from tests.resources.conftest import place
from tests.resources.test_search import DENVER, TUESDAY_11PM, TUESDAY_NOON, names

pytestmark = pytest.mark.django_db

TUESDAY = TUESDAY_NOON.date()


def every_hour(first: date, days: int) -> list[datetime]:
    start = datetime.combine(first, time(0), tzinfo=DENVER)
    return [start + timedelta(hours=i) for i in range(days * 24)]


def spans_agree_with_intervals() -> bool:
    """Each service at location's OpeningSpans row is the range_agg of its intervals, and
    a place with no interval has no row; each search row holds its place's spans (null
    without)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM (
                SELECT service_at_location_id, range_agg(during) AS spans
                FROM resources_openinginterval GROUP BY 1
            ) i FULL JOIN resources_openingspans o USING (service_at_location_id)
            WHERE o.spans IS DISTINCT FROM i.spans"""
        )
        spans_differ = cursor.fetchone()[0]
        cursor.execute(
            """SELECT count(*) FROM resources_searchplace p
            LEFT JOIN resources_openingspans o USING (service_at_location_id)
            WHERE p.spans IS DISTINCT FROM o.spans"""
        )
        return spans_differ == 0 and cursor.fetchone()[0] == 0


# How the search names the spans it asks (on the search row: SearchPlace.spans).
SPANS_SQL = '"resources_searchplace"."spans" @>'


def tables_read(at: datetime, **filters) -> tuple[list[str], str]:
    with CaptureQueriesContext(connection) as ctx:
        found = names(service_search(open_now=True, at=at, **filters))
    return found, " ".join(q["sql"] for q in ctx.captured_queries)


def test_inside_the_window_open_now_is_one_condition_on_the_intervals(directory):
    instants = every_hour(TUESDAY, 2)
    by_schedules = [names(service_search(open_now=True, at=at)) for at in instants]
    assert not OpeningInterval.objects.exists()

    opening_intervals_roll(today=TUESDAY)

    for at, expected in zip(instants, by_schedules, strict=True):
        found, sql = tables_read(at)
        assert found == expected, at
        assert SPANS_SQL in sql and '"resources_schedule"' not in sql
    assert spans_agree_with_intervals()
    assert by_schedules[instants.index(TUESDAY_11PM)] == [
        "Crisis stabilization",
        "Overnight emergency shelter",
    ]


def test_the_open_now_condition_is_served_by_the_range_index(directory):
    opening_intervals_roll(today=TUESDAY)
    assert SPANS_SQL in tables_read(TUESDAY_NOON)[1]  # asked on the search row, whose index
    qs = SearchPlace.objects.filter(spans__contains=TUESDAY_NOON)  # serves it
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = qs.explain()
    assert "resources_searchplace_spans" in plan


def test_outside_the_window_open_now_judges_the_schedules(directory):
    opening_intervals_roll(today=TUESDAY)
    first, last = window_recorded()

    # The window's first day needs the night before it, which the table does not hold.
    for at in (
        datetime.combine(first, time(3), tzinfo=DENVER),
        datetime.combine(last + timedelta(days=1), time(12), tzinfo=DENVER),
    ):
        _found, sql = tables_read(at)
        assert '"resources_schedule"' in sql and SPANS_SQL not in sql
    _found, sql = tables_read(datetime.combine(last, time(12), tzinfo=DENVER))
    assert SPANS_SQL in sql


def test_a_schedule_saved_moved_or_deleted_is_reflected_after_the_commit(
    directory, django_capture_on_commit_callbacks
):
    opening_intervals_roll(today=TUESDAY)
    pantry = directory["pantry"]
    assert "Food pantry" in names(service_search(open_now=True, at=TUESDAY_NOON))

    with django_capture_on_commit_callbacks(execute=True):
        saturday = ScheduleFactory(
            service_at_location=pantry, byday="SA", opens_at="10:00", closes_at="12:00"
        )
    assert "Food pantry" not in tables_read(TUESDAY_NOON)[0]

    # Moved to the shelter's service: the pantry's hours are its service's again, and the
    # shelter opens on Saturday mornings too.
    saturday_morning = TUESDAY_NOON + timedelta(days=4, hours=-1)
    assert "Overnight emergency shelter" not in tables_read(saturday_morning)[0]
    with django_capture_on_commit_callbacks(execute=True):
        saturday.service_at_location = None
        saturday.service = Service.objects.get(name="Overnight emergency shelter")
        saturday.save()
    assert tables_read(TUESDAY_NOON)[0] == ["Crisis stabilization", "Food pantry", "Walk-in clinic"]
    assert "Overnight emergency shelter" in tables_read(saturday_morning)[0]

    with django_capture_on_commit_callbacks(execute=True):
        Schedule.objects.filter(service__name="Overnight emergency shelter").delete()
    assert "Overnight emergency shelter" not in tables_read(TUESDAY_11PM)[0]
    with django_capture_on_commit_callbacks(execute=True):
        ScheduleFactory(service=saturday.service, opens_at=time(19), closes_at=time(7))
    assert "Overnight emergency shelter" in tables_read(TUESDAY_11PM)[0]
    assert spans_agree_with_intervals()
    with django_capture_on_commit_callbacks(execute=True):
        pantry.delete()
    assert spans_agree_with_intervals()


def test_a_new_place_of_a_service_gets_the_service_hours(
    directory, django_capture_on_commit_callbacks
):
    opening_intervals_roll(today=TUESDAY)
    with django_capture_on_commit_callbacks(execute=True):
        place(Service.objects.get(name="Food pantry"), "Pantry annex", 35.08, -106.65)

    found = [
        sal.location.name for sal in service_search(open_now=True, at=TUESDAY_NOON, text="pantry")
    ]
    assert found == ["Pantry", "Pantry annex"]


def test_a_closure_added_in_the_admin_closes_the_place(
    client, admin_user, directory, django_capture_on_commit_callbacks
):
    opening_intervals_roll(today=TUESDAY)
    location = directory["pantry"].location
    path = f"/admin/resources/location/{location.pk}/change/"
    client.force_login(admin_user)
    context = client.get(path).context
    body = {
        field.html_name: field.value()
        for field in context["adminform"].form
        if field.value() is not None
    }
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        body[f"{formset.prefix}-TOTAL_FORMS"] = str(len(formset.initial_forms))
        body[f"{formset.prefix}-INITIAL_FORMS"] = str(len(formset.initial_forms))
        for form in formset.initial_forms:
            for field in form:
                if field.value() is not None:
                    body[field.html_name] = field.value()
    body.update(
        {
            "schedules-TOTAL_FORMS": "1",
            "schedules-0-valid_from": TUESDAY.isoformat(),
            "schedules-0-closed": "on",
            "schedules-0-description": "Thanksgiving week",
        }
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, body)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert location.schedules.filter(closed=True).exists()
    assert "Food pantry" not in tables_read(TUESDAY_NOON)[0]


def hsds_service(hours: str) -> dict:
    return {
        "id": "1f6c2ad6-58f4-4b55-9d2a-3a4c9a7d1e01",
        "name": "Imported pantry",
        "status": "active",
        "organization": {
            "id": "5a0d8f7e-1c2b-4e59-8d7a-3f0e2b1c4d5e",
            "name": "Imported organization",
            "description": "Runs imported services.",
        },
        "schedules": [
            {
                "id": "0b2d8c55-8f7e-4a0e-9a55-5d7c2b1e3f10",
                "freq": "WEEKLY",
                "byday": "MO,TU,WE,TH,FR",
                "opens_at": hours.split("-")[0],
                "closes_at": hours.split("-")[1],
            }
        ],
        "service_at_locations": [
            {
                "id": "7c1e9a3b-2d4f-4b6a-8e0c-1a2b3c4d5e6f",
                "location": {
                    "id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
                    "name": "Imported hall",
                    "location_type": "physical",
                },
            }
        ],
    }


def test_the_hsds_import_rebuilds_the_intervals_it_changes(tmp_path, db):
    opening_intervals_roll(today=TUESDAY)
    path = tmp_path / "service.json"
    path.write_text(json.dumps(hsds_service("09:00-17:00")), encoding="utf-8")

    directory_import(path)
    assert tables_read(TUESDAY_NOON)[0] == ["Imported pantry"]
    assert tables_read(TUESDAY_NOON - timedelta(hours=4))[0] == []

    path.write_text(json.dumps(hsds_service("06:00-10:00")), encoding="utf-8")
    directory_import(path)
    assert tables_read(TUESDAY_NOON)[0] == []
    assert tables_read(TUESDAY_NOON - timedelta(hours=4))[0] == ["Imported pantry"]
    assert spans_agree_with_intervals()


def test_the_roll_moves_the_window_once_a_day(directory):
    assert opening_intervals_roll(today=TUESDAY) > 0
    assert window_recorded() == (TUESDAY - timedelta(days=1), date(2026, 12, 8))

    assert opening_intervals_roll(today=TUESDAY) is None  # already done today
    kept = set(OpeningInterval.objects.filter(day__gte=TUESDAY).values_list("id", flat=True))
    assert opening_intervals_roll(today=TUESDAY + timedelta(days=1)) > 0
    # One day dropped, one added; the days both windows share are left as they were.
    assert kept <= set(OpeningInterval.objects.values_list("id", flat=True))
    assert set(OpeningInterval.objects.values_list("day", flat=True)) == {
        TUESDAY + timedelta(days=n) for n in range(16)
    }
    assert window_recorded() == window_for(TUESDAY + timedelta(days=1))
    starts = OpeningInterval.objects.values_list("during", flat=True)
    assert min(r.lower for r in starts) >= datetime.combine(TUESDAY, time(0), tzinfo=DENVER)
    assert spans_agree_with_intervals()  # the dropped day's spans gone, the new day's there


def test_a_roll_while_another_runs_does_nothing(directory):
    with psycopg.connect(
        **{k: v for k, v in connection.get_connection_params().items() if k != "cursor_factory"}
    ) as other:
        other.execute("SELECT pg_advisory_lock(7301018)")
        assert opening_intervals_roll(today=TUESDAY) is None
    assert not OpeningHoursWindow.objects.exists()


def test_the_daily_task_rolls_to_today(directory):
    assert roll_opening_intervals() > 0
    assert roll_opening_intervals() is None
    today = datetime.now(DENVER).date()
    assert window_recorded() == window_for(today)


def test_build_opening_intervals_command_builds_the_window(directory):
    stdout = io.StringIO()
    call_command("build_opening_intervals", stdout=stdout)
    assert "opening intervals for sessions starting" in stdout.getvalue()
    assert OpeningInterval.objects.filter(service_at_location=directory["shelter"]).exists()


def test_generate_directory_builds_the_intervals(db):
    call_command("generate_directory", services=20, force=True, stdout=io.StringIO())
    assert window_recorded() is not None
    assert OpeningInterval.objects.exists()
    assert OpeningSpans.objects.exists() and spans_agree_with_intervals()


def test_out_of_season_hours_still_outrank_the_next_level_on_both_paths(
    directory, django_capture_on_commit_callbacks
):
    # The reference: regular hours of the most specific level that has any, whatever the date.
    with django_capture_on_commit_callbacks(execute=True):
        ScheduleFactory(
            service_at_location=directory["pantry"],
            opens_at=time(9),
            closes_at=time(17),
            valid_from=date(2026, 6, 1),
            valid_to=date(2026, 8, 31),
        )
    assert "Food pantry" not in tables_read(TUESDAY_NOON)[0]  # by the schedules

    opening_intervals_roll(today=TUESDAY)
    found, sql = tables_read(TUESDAY_NOON)
    assert "Food pantry" not in found and SPANS_SQL in sql


def test_words_open_now_are_counted_as_the_planner_chooses(directory):
    """Words open now were once counted with sequential and ordered index scans off, because
    PostgreSQL took open now for far more places than were open. Since words ask the hour
    from their own index (migration 0030) it estimates them well: no statement of the count
    changes how PostgreSQL plans, with or without words, inside or outside the window."""
    from resources.selectors import counted_page_keys

    opening_intervals_roll(today=TUESDAY)

    def planned_off(**filters) -> bool:
        with CaptureQueriesContext(connection) as ctx:
            counted_page_keys(service_search(**filters), 5, limit=1000)
        return any("set_config('enable_" in q["sql"] for q in ctx)

    assert not planned_off(text="shelter", open_now=True, at=TUESDAY_11PM)
    assert not planned_off(text="shelter")
    assert not planned_off(open_now=True, at=TUESDAY_11PM)
    first, _last = window_recorded()
    before_the_window = datetime.combine(first, time(3), tzinfo=DENVER)
    assert not planned_off(text="shelter", open_now=True, at=before_the_window)


def test_words_open_now_are_found_from_the_words_index_then_checked_on_the_rows(directory):
    """A word open now (Spanish too) is one scan of the words' GIN index, which holds each
    place's hours of the week open (migration 0030), not the words' bitmap ANDed with the
    spans' of every place open now; the spans are then checked on the rows found."""
    from resources.selectors.directory.pages import _planned_without

    opening_intervals_roll(today=TUESDAY)
    found = service_search(text="shelter", open_now=True, at=TUESDAY_11PM, language="es")
    with _planned_without(connection.alias, "seqscan", "indexscan"):
        plan = found.order_by().values("pk").explain()
    # (Which index serves the words and the hour at scale is PostgreSQL's choice, shown in
    # docs/benchmarks.md; on this tiny directory it may read another.)
    assert "resources_searchplace_spans" not in plan, plan
    assert "open_hours @>" in plan and "multirange_contains_elem(" in plan, plan
    # Every place with spans has its hours, and a place open at an instant opens in its hour.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE open_hours IS NULL),"
            " count(*) FILTER (WHERE spans @> %s AND NOT open_hours @> ARRAY[%s]::smallint[])"
            " FROM resources_searchplace WHERE spans IS NOT NULL",
            [TUESDAY_11PM, hour_of_week(TUESDAY_11PM)],
        )
        assert cursor.fetchone() == (0, 0)
    words_open = service_search(text="shelter", open_now=True, at=TUESDAY_11PM)
    assert [s.service.name for s in words_open] == ["Overnight emergency shelter"]


def test_a_term_open_now_is_found_from_the_terms_index_then_checked_on_the_rows(directory):
    """A taxonomy term open now is one scan of the terms' GIN index, which holds each place's
    hours of the week open too (migration 0031), not every place of the term read to check
    its spans; the term's keys are a constant the planner can count, not a subquery."""
    from resources.models import TaxonomyTerm
    from resources.selectors.directory.pages import _planned_without

    opening_intervals_roll(today=TUESDAY)
    shelter = TaxonomyTerm.objects.get(code="shelter-emergency")
    found = service_search(taxonomy_terms=[shelter], open_now=True, at=TUESDAY_11PM)
    with _planned_without(connection.alias, "seqscan", "indexscan"):
        plan = found.order_by().values("pk").explain()
    # (Which index serves the terms and the hour at scale is PostgreSQL's choice, shown in
    # docs/benchmarks.md; on this tiny directory it may read another.)
    assert "open_hours @>" in plan and "multirange_contains_elem(" in plan, plan
    assert "resources_searchplace_spans" not in plan, plan
    assert "InitPlan" not in plan and "SubPlan" not in plan, plan  # the keys, read before
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'resources_searchplace_terms'"
        )
        assert "USING gin (terms, open_hours)" in cursor.fetchone()[0]
    assert [s.service.name for s in found] == ["Overnight emergency shelter"]
    assert [s.service.name for s in service_search(taxonomy_terms=[shelter])] == [
        "Overnight emergency shelter"
    ]
