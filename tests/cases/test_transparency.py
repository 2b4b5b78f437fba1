"""The transparency dashboard: each figure against records counted by hand, the small-cell
rule, the public page and its downloads, and the staff version in the admin.

The hand-made month is March 2026 in council district 3 (Albuquerque time), with a
February encounter before it and a busier April for figures large enough to publish.
"""

import csv
import io
import json
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.models import (
    ContactAttempt,
    Encounter,
    EncounterResident,
    FollowUp,
    MetricRefresh,
    MetricRollup,
    UnitAssignment,
)
from cases.services.transparency import transparency_refresh
from cases.transparency.definitions import METRICS, SECTIONS
from cases.transparency.suppression import COMPLEMENTARY, PRIMARY, Cell, suppress
from resources.models import Referral, ReferralEvent
from tests.factories import CallFactory, ResidentFactory, ServiceFactory, UnitFactory

pytestmark = pytest.mark.django_db

ABQ = ZoneInfo("America/Denver")
FEBRUARY, MARCH, APRIL = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
MAY, JUNE = date(2026, 5, 1), date(2026, 6, 1)
MIN = timedelta(minutes=1)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ABQ)


def call(received, *, district="3", source="911", call_type="WELFARE", **steps):
    """A call with its step times given as minutes after `received`."""
    times = {f"{step}_at": received + minutes * MIN for step, minutes in steps.items()}
    return CallFactory(
        received_at=received,
        status_changed_at=received,
        council_district=district,
        source=source,
        call_type=call_type,
        **times,
    )


def encounter(unit, user, *, call=None, occurred, residents=(), anonymous=0, **fields):
    row = Encounter.objects.create(
        client_id=uuid.uuid4(),
        call=call,
        unit=unit,
        created_by=user,
        status="submitted",
        occurred_at=occurred,
        submitted_at=occurred + timedelta(hours=1),
        anonymous_people=anonymous,
        disposition=fields.pop("disposition", "settled_by_contact"),
        **fields,
    )
    for resident in residents:
        EncounterResident.objects.create(encounter=row, resident=resident)
    return row


def referral(resident, enc, user, *, sent, status="sent", accepted=None, closed=None):
    service = ServiceFactory()
    row = Referral.objects.create(
        resident=resident,
        encounter=enc,
        service=service,
        organization=service.organization,
        status=status,
        outcome="enrolled" if status == "completed" else "",
        created_by=user,
        sent_at=sent,
        responded_at=accepted,
        closed_at=closed,
    )
    if accepted:
        ReferralEvent.objects.create(referral=row, from_status="sent", to_status="accepted")
        ReferralEvent.objects.filter(referral=row).update(created_at=accepted)
    return row


def follow_up(resident, enc, *, attempts=(), outcome="", referral_row=None):
    row = FollowUp.objects.create(
        resident=resident,
        encounter=enc,
        referral=referral_row,
        kind="phone",
        status="closed" if outcome else "open",
        outcome=outcome,
        closed_at=enc.occurred_at + timedelta(days=5) if outcome and enc else None,
        due_at=(enc.occurred_at if enc else at(3, 20, 9)) + timedelta(hours=48),
        window_ends_at=(enc.occurred_at if enc else at(3, 20, 9)) + timedelta(days=7),
    )
    for hours in attempts:
        ContactAttempt.objects.create(
            follow_up=row,
            at=enc.occurred_at + timedelta(hours=hours),
            channel="phone",
            outcome="reached",
            by=enc.created_by,
        )
    return row


@pytest.fixture
def records(responder, unit):
    """March 2026, district 3, counted by hand in the tests below."""
    other_unit = UnitFactory(call_sign="ACS-12", team=unit.team)
    r1, r2, r3 = ResidentFactory(), ResidentFactory(), ResidentFactory()
    # February: r2 is met for the first time (an encounter without a call).
    encounter(unit, responder, occurred=at(2, 10, 12), residents=[r2])

    c1 = call(at(3, 2, 10), dispatched=2, on_scene=12, cleared=42)
    e1 = encounter(unit, responder, call=c1, occurred=c1.on_scene_at, residents=[r1])
    # Two units: A is sent first (+4) but B, sent at +6, arrives first (+18).
    c2 = call(
        at(3, 2, 14),
        source="311",
        call_type="MNTL",
        dispatched=4,
        en_route=5,
        on_scene=18,
        transporting=50,
        cleared=80,
    )
    UnitAssignment.objects.create(
        call=c2,
        unit=unit,
        status="cleared",
        dispatched_at=c2.received_at + 4 * MIN,
        on_scene_at=c2.received_at + 20 * MIN,
        cleared_at=c2.received_at + 80 * MIN,
    )
    UnitAssignment.objects.create(
        call=c2,
        unit=other_unit,
        status="cleared",
        dispatched_at=c2.received_at + 6 * MIN,
        on_scene_at=c2.received_at + 18 * MIN,
        cleared_at=c2.received_at + 80 * MIN,
    )
    e2 = encounter(
        unit,
        responder,
        call=c2,
        occurred=c2.on_scene_at,
        residents=[r2, r3],
        disposition="transported",
        transport_destination="  unm   hospital ",
    )
    # 23:00 on 31 March in Albuquerque is 1 April in UTC: it belongs to March (and so does
    # its encounter, at 23:30).
    c3 = call(
        at(3, 31, 23),
        source="police_request",
        dispatched=6,
        on_scene=30,
        escalated=35,
        cleared=60,
    )
    e3 = encounter(  # nobody gave a name: no resident, two people
        unit,
        responder,
        call=c3,
        occurred=c3.on_scene_at,
        anonymous=2,
        disposition="escalated",
        police_requested=True,
    )
    call(at(3, 5, 9), call_type="INTOX", dispatched=3, cancelled=8)  # cancelled on the way
    call(at(3, 6, 9), source="311", returned_to_police=40)  # no unit was free
    c6 = call(at(3, 7, 12), source="self_initiated", call_type="VAG", on_scene=0, cleared=20)
    e4 = encounter(
        unit, responder, call=c6, occurred=c6.on_scene_at, residents=[r1], disposition="referred"
    )
    call(at(3, 8, 9), district="")  # no district, still pending
    # A draft encounter counts nowhere.
    Encounter.objects.create(
        client_id=uuid.uuid4(), call=c1, unit=unit, created_by=responder, occurred_at=at(3, 2, 11)
    )

    ref1 = referral(r1, e4, responder, sent=at(3, 7, 13), accepted=at(3, 9, 10))
    referral(  # accepted after 39 days, completed after 41: late on both counts
        r2,
        e2,
        responder,
        sent=at(3, 2, 16),
        status="completed",
        accepted=at(4, 10, 10),
        closed=at(4, 12, 10),
    )
    Referral.objects.create(  # a draft: never sent
        resident=r3,
        encounter=e2,
        service=ServiceFactory(),
        organization_id=ServiceFactory().organization_id,
        created_by=responder,
    )
    follow_up(r1, e1, attempts=[24])
    follow_up(r3, e2, attempts=[72], outcome="connected")
    follow_up(r2, e2)
    follow_up(r1, None, referral_row=ref1)  # from a referral event: not an encounter's
    return {"e1": e1, "e2": e2, "e3": e3, "e4": e4}


def rollup(metric, dimension="", month=MARCH, district="3"):
    return MetricRollup.objects.get(
        month=month, district=district, metric=metric, dimension=dimension
    )


def values(metric, month=MARCH, district="3"):
    return dict(
        MetricRollup.objects.filter(month=month, district=district, metric=metric).values_list(
            "dimension", "count"
        )
    )


@pytest.fixture
def refreshed(records):
    return transparency_refresh(full=True)


# --- each figure, counted by hand -------------------------------------------------------------


def test_calls_received_by_source_type_and_hour(refreshed):
    assert rollup("calls_received").count == 6
    assert rollup("calls_received", district="*").count == 7  # with the call without district
    assert rollup("calls_received", district="").count == 1
    assert values("calls_by_source") == {
        "911": 2,
        "311": 2,
        "police_request": 1,
        "self_initiated": 1,
    }
    assert values("calls_by_type") == {"WELFARE": 3, "MNTL": 1, "INTOX": 1, "VAG": 1}
    assert values("calls_by_hour") == {"09": 2, "10": 1, "12": 1, "14": 1, "23": 1}


def test_a_call_late_on_the_last_evening_of_the_month_counts_in_that_month(refreshed):
    assert not MetricRollup.objects.filter(month=APRIL, district="3").exists()


def test_call_outcomes_count_pending_returned_and_cancelled_calls(refreshed):
    assert values("call_outcomes") == {"attended": 4, "cancelled": 1, "returned_to_police": 1}
    assert values("call_outcomes", district="*")["open"] == 1


def test_handled_without_police_leaves_out_cancelled_and_open_calls(refreshed):
    figure = rollup("handled_without_police")
    # Reached: c1, c2, c3, c6; returned to police: c5. Police asked for on c3.
    assert (figure.count, figure.denominator) == (3, 5)


def test_escalations_are_a_share_of_the_calls_reached(refreshed):
    figure = rollup("escalated")
    assert (figure.count, figure.denominator) == (1, 4)


def test_response_time_is_to_the_first_arrival_and_leaves_out_self_initiated_calls(refreshed):
    figure = rollup("response_time")
    # c1 12 min, c2 18 min (unit B, the first to arrive), c3 30 min; c6 is self-initiated.
    assert figure.count == 3
    assert figure.median_seconds == pytest.approx(18 * 60)
    assert figure.p90_seconds == pytest.approx(18 * 60 + 0.8 * 12 * 60)  # percentile_cont


def test_queue_time_includes_a_call_cancelled_after_dispatch(refreshed):
    figure = rollup("queue_time")
    # c1 2, c2 4 (the first dispatch), c3 6, and the cancelled c4 3 minutes.
    assert figure.count == 4
    assert figure.median_seconds == pytest.approx(210)
    assert figure.p90_seconds == pytest.approx(240 + 0.7 * 120)


def test_travel_time_runs_from_the_first_dispatch_to_the_first_arrival(refreshed):
    figure = rollup("travel_time")
    # c1 10, c2 14 (dispatch of A at +4 to arrival of B at +18), c3 24 minutes.
    assert figure.count == 3
    assert figure.median_seconds == pytest.approx(14 * 60)
    assert figure.p90_seconds == pytest.approx(14 * 60 + 0.8 * 10 * 60)


def test_time_on_scene_ends_when_a_transport_starts(refreshed):
    figure = rollup("time_on_scene")
    # c1 30, c2 32 (on scene +18, transport +50), c3 30, c6 20 minutes.
    assert figure.count == 4
    assert figure.median_seconds == pytest.approx(30 * 60)


def test_encounters_and_dispositions_count_submitted_encounters_only(refreshed):
    figure = rollup("encounters")
    assert figure.count == 4  # the draft is left out
    assert figure.people == 5  # r1 (twice), r2, r3 and two people without a name
    assert values("dispositions") == {
        "settled_by_contact": 1,
        "transported": 1,
        "escalated": 1,
        "referred": 1,
    }


def test_transports_by_destination_tidy_the_free_text(refreshed):
    assert values("transports_by_destination") == {"Unm Hospital": 1}


def test_people_served_counts_people_without_a_name_once_per_encounter(refreshed):
    assert rollup("people_served").count == 5
    # February's encounter had no call: its district is "not recorded".
    assert rollup("people_served", month=FEBRUARY, district="").count == 1
    assert rollup("people_served", month=FEBRUARY, district="*").count == 1


def test_repeat_contacts_are_named_people_met_in_an_earlier_month(refreshed):
    figure = rollup("repeat_contacts")
    # r2 was met in February; r1, met twice in March, was not met before March.
    assert (figure.count, figure.denominator) == (1, 3)


def test_people_referred_and_connected(refreshed):
    referred = rollup("people_referred")
    connected = rollup("people_connected")
    assert (referred.count, referred.denominator) == (2, 3)  # r1 and r2; r3's is a draft
    # r2's referral was completed, r3's follow-up closed as connected.
    assert (connected.count, connected.denominator) == (2, 3)


def test_referrals_accepted_and_completed_within_30_days(refreshed):
    accepted = rollup("referrals_accepted_30d")
    completed = rollup("referrals_completed_30d")
    assert (accepted.count, accepted.denominator) == (1, 2)
    assert (completed.count, completed.denominator) == (0, 2)


def test_follow_up_within_48_hours_counts_encounter_follow_ups_only(refreshed):
    figure = rollup("follow_up_within_48h")
    # r1 after 24 h: yes; r3 after 72 h: no; r2 never; the referral's follow-up is left out.
    assert (figure.count, figure.denominator) == (1, 3)


def test_all_districts_rows_count_each_person_once(refreshed, records):
    assert rollup("people_served", district="*").count == 5


def test_every_metric_is_defined_in_docs_and_on_a_page():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text()
    on_page = {key for section in SECTIONS for key in section.metrics}
    for key, definition in METRICS.items():
        assert f"`{key}`" in docs, key
        assert key in on_page, key
        assert definition.counts and definition.timestamps and definition.excluded


# --- refresh ----------------------------------------------------------------------------------


def test_a_refresh_is_recorded_and_running_it_again_changes_nothing(records):
    first = transparency_refresh(full=True)
    rows = list(MetricRollup.objects.values_list("metric", "district", "dimension", "count"))
    second = transparency_refresh(full=True)

    assert first.rows == second.rows == len(rows)
    assert sorted(rows) == sorted(
        MetricRollup.objects.values_list("metric", "district", "dimension", "count")
    )
    assert first.first_month == FEBRUARY
    assert MetricRefresh.objects.count() == 2


def test_a_routine_refresh_recomputes_recent_months_only(records, responder, unit):
    transparency_refresh(full=True)
    january = call(at(1, 15, 10))
    call(at(3, 20, 10))
    before = rollup("calls_received").count

    refresh = transparency_refresh(full=False, now=at(4, 20, 12))

    assert refresh.scope == "recent"
    assert (refresh.first_month, refresh.last_month) == (FEBRUARY, APRIL)
    assert rollup("calls_received").count == before + 1
    assert not MetricRollup.objects.filter(month=date(2026, 1, 1)).exists()
    assert january.pk


def test_the_task_does_a_full_refresh_first_then_recent_ones(records):
    from cases.tasks import refresh_transparency

    assert refresh_transparency() == MetricRollup.objects.count() > 0
    refresh_transparency()  # recent months: none has records in this test
    assert list(MetricRefresh.objects.order_by("id").values_list("scope", flat=True)) == [
        "full",
        "recent",
    ]


# --- the small-cell rule ----------------------------------------------------------------------


def grid_of(*cells):
    return {cell.key: cell for cell in cells}


def test_a_count_under_10_is_suppressed_and_10_is_shown():
    nine = Cell(MARCH, "*", "calls_received", count=9, people=9)
    ten = Cell(APRIL, "*", "calls_received", count=10, people=10)
    suppress(grid_of(nine, ten))
    assert nine.suppressed == PRIMARY
    assert not ten.suppressed


def test_a_count_of_many_records_about_few_people_is_suppressed():
    cell = Cell(MARCH, "*", "encounters", count=40, people=6)
    suppress(grid_of(cell))
    assert cell.suppressed == PRIMARY


def test_a_share_is_suppressed_when_its_numerator_or_complement_is_small():
    def share(month, count, denominator):
        return Cell(month, "*", "escalated", count=count, people=count,
                    denominator=denominator, denominator_people=denominator)  # fmt: skip

    small_part, small_rest, fine = share(MARCH, 8, 100), share(APRIL, 95, 100), share(MAY, 50, 100)
    none_of_many = share(JUNE, 0, 100)
    suppress(grid_of(small_part, small_rest, fine, none_of_many))
    assert small_part.suppressed == small_rest.suppressed == PRIMARY
    assert not fine.suppressed
    assert not none_of_many.suppressed  # 0 of 100: about no one


def test_a_duration_measured_on_fewer_than_10_calls_is_suppressed():
    few = Cell(MARCH, "*", "response_time", count=9, people=9, median_seconds=600)
    many = Cell(APRIL, "*", "response_time", count=10, people=10, median_seconds=600)
    suppress(grid_of(few, many))
    assert few.suppressed and not many.suppressed


def test_the_smallest_other_part_of_a_breakdown_is_suppressed_with_a_small_one():
    total = Cell(MARCH, "*", "calls_received", count=100, people=100)
    parts = [
        Cell(MARCH, "*", "calls_by_source", "911", count=50, people=50),
        Cell(MARCH, "*", "calls_by_source", "311", count=5, people=5),
        Cell(MARCH, "*", "calls_by_source", "hotline", count=45, people=45),
    ]
    suppress(grid_of(total, *parts))
    assert [p.suppressed for p in parts] == ["", PRIMARY, COMPLEMENTARY]
    assert not total.suppressed


def test_a_suppressed_district_takes_another_district_with_it():
    cells = [
        Cell(MARCH, "1", "calls_received", count=30, people=30),
        Cell(MARCH, "2", "calls_received", count=4, people=4),
        Cell(MARCH, "3", "calls_received", count=25, people=25),
        Cell(MARCH, "*", "calls_received", count=59, people=59),
    ]
    suppress(grid_of(*cells))
    assert [c.suppressed for c in cells] == ["", PRIMARY, COMPLEMENTARY, ""]


def test_two_small_parts_need_no_third():
    total = Cell(MARCH, "*", "calls_received", count=100, people=100)
    parts = [
        Cell(MARCH, "*", "calls_by_source", "911", count=92, people=92),
        Cell(MARCH, "*", "calls_by_source", "311", count=5, people=5),
        Cell(MARCH, "*", "calls_by_source", "hotline", count=3, people=3),
    ]
    suppress(grid_of(total, *parts))
    assert [p.suppressed for p in parts] == ["", PRIMARY, PRIMARY]


def test_a_suppressed_total_hides_a_part_too():
    # 12 calls, but about 6 people: the total is small; its one non-zero part would give it.
    total = Cell(MARCH, "2", "calls_received", count=12, people=6)
    parts = [
        Cell(MARCH, "2", "call_outcomes", "attended", count=12, people=12),
        Cell(MARCH, "2", "call_outcomes", "cancelled", count=0, people=0),
    ]
    suppress(grid_of(total, *parts))
    assert total.suppressed == PRIMARY
    assert parts[0].suppressed == COMPLEMENTARY
    assert not parts[1].suppressed  # a zero is about no one, and hides nothing


def test_zero_is_published_and_never_chosen_to_hide_a_small_cell():
    cells = [
        Cell(MARCH, "1", "calls_received", count=0, people=0),
        Cell(MARCH, "2", "calls_received", count=4, people=4),
        Cell(MARCH, "3", "calls_received", count=25, people=25),
        Cell(MARCH, "*", "calls_received", count=29, people=29),
    ]
    suppress(grid_of(*cells))
    assert [c.suppressed for c in cells] == ["", PRIMARY, COMPLEMENTARY, ""]


# --- the public page and its downloads ---------------------------------------------------------


@pytest.fixture
def busy_april(refreshed, unit, responder):
    """April: 30 calls in district 3 (20 from 911, 10 from 311 returned to police) and 12 in
    district 5 (8 from 911, 4 from 311)."""
    for i in range(20):
        call(at(4, 1 + i, 10), dispatched=2, on_scene=10 + i, cleared=40)
    for i in range(10):
        call(at(4, 1 + i, 15), source="311", returned_to_police=30)
    for i in range(12):
        call(
            at(4, 1 + i, 11),
            district="5",
            source="911" if i < 8 else "311",
            dispatched=2,
            on_scene=12,
            cleared=40,
        )
    return transparency_refresh(full=True)


def figures(client, **query):
    response = client.get("/transparency/metrics.json", query)
    assert response.status_code == 200
    return response.json()


def find(body, metric, month="2026-04", dimension=""):
    (record,) = [
        r
        for r in body["figures"]
        if r["metric"] == metric and r["month"] == month and r["dimension"] == dimension
    ]
    return record


def test_a_month_with_fewer_than_10_people_shows_only_fewer_than_10(client, busy_april):
    body = figures(client, start="2026-03", end="2026-03", district="3")
    march = [r for r in body["figures"] if r["month"] == "2026-03"]
    hidden = [r for r in march if r["suppressed"]]

    assert len(hidden) > 20
    assert {r["value"] for r in hidden} == {"fewer than 10"}
    assert all(r["count"] is None and r["median_seconds"] is None for r in hidden)
    # What is shown is zero: about no one.
    assert all(r["count"] == 0 for r in march if not r["suppressed"])
    assert find(body, "calls_by_source", month="2026-03", dimension="hotline")["value"] == "0"


def test_large_figures_are_published_and_a_small_district_hides_another(client, busy_april):
    district_3 = figures(client, start="2026-04", end="2026-04", district="3")
    district_5 = figures(client, start="2026-04", end="2026-04", district="5")
    everyone = figures(client, start="2026-04", end="2026-04")

    assert find(district_3, "calls_received")["count"] == 30
    assert find(district_5, "calls_received")["count"] == 12
    assert find(everyone, "calls_received")["count"] == 42
    assert find(everyone, "calls_by_source", dimension="911")["count"] == 28
    assert find(everyone, "calls_by_source", dimension="311")["count"] == 14
    # District 5's 8 calls from 911 are too few; district 3's 20 would give them away.
    assert find(district_5, "calls_by_source", dimension="911")["suppressed"]
    assert find(district_3, "calls_by_source", dimension="911")["suppressed"]
    assert find(district_3, "calls_by_source", dimension="hotline")["value"] == "0"
    assert find(district_3, "response_time")["median_seconds"] == pytest.approx(19.5 * 60)


def test_the_filters_choose_months_and_district(client, busy_april):
    body = figures(client, start="2026-04", end="2026-04", district="5")
    assert {r["month"] for r in body["figures"]} == {"2026-04"}
    assert {r["district"] for r in body["figures"]} == {"5"}
    assert (body["start"], body["end"], body["district"]) == ("2026-04", "2026-04", "5")
    body = figures(client, start="2026-02", end="2026-04")
    assert {r["month"] for r in body["figures"]} == {"2026-02", "2026-03", "2026-04"}
    assert {r["district"] for r in body["figures"]} == {"*"}


def test_a_bad_query_is_refused_with_the_error_shape(client, busy_april):
    response = client.get("/transparency/metrics.json", {"start": "March"})
    assert response.status_code == 400
    assert "start" in response.json()["error"]["fields"]
    assert client.get("/transparency/", {"end": "2026-13"}).status_code == 400


def test_the_csv_has_the_same_figures_as_the_json(client, busy_april):
    query = {"start": "2026-03", "end": "2026-04", "district": "3"}
    body = figures(client, **query)
    response = client.get("/transparency/metrics.csv", query)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(body["figures"])
    for row, record in zip(rows, body["figures"], strict=True):
        assert row["metric"] == record["metric"] and row["value"] == record["value"]
        assert row["count"] == ("" if record["count"] is None else str(record["count"]))


def test_the_public_page_shows_every_chart_with_its_table_and_definition(client, busy_april):
    response = client.get("/transparency/", {"start": "2026-03", "end": "2026-04"})
    html = response.content.decode()

    assert response.status_code == 200
    charts = html.count('<figure class="metric"')
    assert charts >= len(METRICS)
    assert html.count('<details class="table-view">') == charts
    assert html.count("<table>") == charts
    assert html.count("/transparency/definitions/#") == charts + 1  # and the district map's
    assert "fewer than 10" in html and "<svg" in html
    assert "<script" not in html and "onclick" not in html
    assert "/transparency/metrics.csv?start=2026-03&amp;end=2026-04" in html
    assert "Unm Hospital" not in html  # one transport: its destination is not named
    assert "Other destinations" in html


def test_the_definitions_page_has_an_anchor_for_every_metric(client):
    html = client.get("/transparency/definitions/").content.decode()
    for definition in METRICS.values():
        assert f'id="{definition.anchor}"' in html


def test_the_public_page_runs_the_same_queries_whatever_the_range(client, busy_april):
    counts = []
    for query in (
        {"start": "2026-03", "end": "2026-03"},
        {"start": "2026-02", "end": "2026-04"},
        {"start": "2026-04", "end": "2026-04", "district": "5"},
        {},
    ):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/transparency/", query).status_code == 200
        counts.append(len(queries))
    assert len(set(counts)) == 1 and counts[0] <= 4


# --- the staff version -------------------------------------------------------------------------

STAFF_URL = "/admin/cases/metricrollup/"


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "admin_user"])
def test_staff_see_unsuppressed_figures_and_their_freshness(client, request, persona, refreshed):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(STAFF_URL, {"start": "2026-03", "end": "2026-03", "district": "3"})
    html = response.content.decode()

    assert response.status_code == 200
    assert "18:00" in html  # March's median response time, from 3 calls
    assert "Unm Hospital" in html
    assert "Data as of" in html
    assert refreshed.finished_at.astimezone(ABQ).strftime("%Y-%m-%d %H:%M") in html


def test_the_public_page_hides_what_the_staff_page_shows(client, refreshed):
    html = client.get(
        "/transparency/", {"start": "2026-03", "end": "2026-03", "district": "3"}
    ).content.decode()
    assert "18:00" not in html
    assert "fewer than 10" in html


@pytest.mark.parametrize("persona", ["partner_a", "responder", "outsider"])
def test_others_cannot_open_the_staff_page(client, request, persona, refreshed):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(STAFF_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_anonymous_visitor_cannot_open_the_staff_page(client, refreshed):
    response = client.get(STAFF_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_can_ask_for_a_refresh(
    client, supervisor, refreshed, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("cases.tasks.refresh_transparency.delay", lambda **kw: queued.append(kw))
    client.force_login(supervisor)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(STAFF_URL, {"refresh": "1"})

    assert response.status_code == 302
    assert queued == [{"full": True}]


def test_the_json_names_each_metric_with_its_definition(client, refreshed):
    body = json.loads(client.get("/transparency/metrics.json").content)
    assert {m["key"] for m in body["metrics"]} == set(METRICS)
    assert all("/transparency/definitions/#" in m["definition"] for m in body["metrics"])
    assert body["refreshed_at"]


def test_a_repeated_query_comes_from_the_cache_until_the_next_refresh(client, busy_april):
    query = {"start": "2026-04", "end": "2026-04", "district": "3"}
    first = figures(client, **query)
    with CaptureQueriesContext(connection) as queries:
        again = figures(client, **query)
    assert again == first
    assert len(queries) == 1  # the last refresh: the cache key

    for day in range(5):
        call(at(4, 20 + day, 9))
    transparency_refresh(full=True)

    assert find(figures(client, **query), "calls_received")["count"] == 35
