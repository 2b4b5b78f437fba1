"""The transparency dashboard: each figure against records counted by hand, and the refresh.
The small-cell rule is in test_transparency_suppression.py, the public page, its downloads and
the staff version in test_transparency_page.py.

The hand-made month is March 2026 in council district 3 (Albuquerque time), with a
February encounter before it and a busier April for figures large enough to publish
(tests/cases/transparency_world.py).
"""

from datetime import date

import pytest

from cases.models import (
    MetricRefresh,
    MetricRollup,
)
from cases.services.transparency import transparency_refresh
from cases.transparency.definitions import METRICS
from cases.transparency.sections import SECTIONS
from tests.cases.transparency_world import APRIL, FEBRUARY, at, call, rollup, values

pytestmark = pytest.mark.django_db


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
