"""Issue 21's new figures against records counted by hand: coverage of eligible calls (the
department's rules, CAD's flag, calls routed elsewhere), police involvement, involuntary
holds, people met 3+ times in 90 days and their share of encounters, and the time from an
encounter to the first completed referral. March 2026, council district 3."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.models import EligibilityRule, MetricRollup
from cases.services.transparency import transparency_refresh
from tests.cases.transparency_world import encounter, referral
from tests.factories import CallFactory, ResidentFactory

pytestmark = pytest.mark.django_db

ABQ = ZoneInfo("America/Denver")
MARCH = date(2026, 3, 1)
MIN = timedelta(minutes=1)
DAY = timedelta(days=1)


def at(year, month, day, hour=12):
    return datetime(year, month, day, hour, tzinfo=ABQ)


def call(received, call_type="WELFARE", *, on_scene=10, cancelled=None, district="3", **fields):
    return CallFactory(
        received_at=received,
        status_changed_at=received,
        council_district=district,
        call_type=call_type,
        source=fields.pop("source", "911"),
        priority=fields.pop("priority", 3),
        on_scene_at=received + on_scene * MIN if on_scene is not None else None,
        cancelled_at=received + cancelled * MIN if cancelled is not None else None,
        **fields,
    )


def utc(moment):
    """Days added in UTC are whole days of elapsed time (8 March 2026 is one hour short)."""
    return moment.astimezone(UTC)


def rollup(metric, month=MARCH, district="3"):
    return MetricRollup.objects.get(month=month, district=district, metric=metric, dimension="")


@pytest.fixture
def records(responder, unit):
    EligibilityRule.objects.create(call_type="WELFARE")  # any source, any priority
    EligibilityRule.objects.create(call_type="MNTL", priority=1)
    EligibilityRule.objects.create(call_type="VAG", active=False)  # retired: counts for nothing
    r1, r2, r3 = ResidentFactory(), ResidentFactory(), ResidentFactory()

    a = call(at(2026, 3, 5, 10))  # eligible by rule, reached
    call(at(2026, 3, 6), on_scene=None, cancelled=5)  # eligible, cancelled: not responded
    call(at(2026, 3, 7), on_scene=None, routed_to="police")  # eligible, CAD sent it to police
    call(at(2026, 3, 8), on_scene=None, routed_to="none", district="5")  # another district
    d = call(at(2026, 3, 10, 9), "MNTL", priority=2)  # the MNTL rule wants priority 1
    e = call(at(2026, 3, 2, 9), "MNTL", priority=1)  # eligible by the priority rule
    call(at(2026, 3, 11), "INTOX", acs_eligible=True, source="police_request")  # CAD's flag
    call(at(2026, 3, 12), "WELFARE", acs_eligible=False)  # CAD's "no" wins over the rule
    h = call(at(2026, 3, 3, 9), "VAG")  # only a retired rule: not eligible

    # r1: met 20 January and 25 February (no call), then 5 March: the third in 45 days.
    encounter(unit, responder, occurred=at(2026, 1, 20), residents=[r1])
    encounter(unit, responder, occurred=at(2026, 2, 25), residents=[r1])
    e_a = encounter(
        unit,
        responder,
        call=a,
        occurred=a.on_scene_at,
        residents=[r1],
        police_requested=True,
        involuntary_hold=True,
    )
    # r2: November, January and March: never three within 90 days.
    encounter(unit, responder, occurred=at(2025, 11, 15), residents=[r2])
    encounter(unit, responder, occurred=at(2026, 1, 10), residents=[r2])
    encounter(unit, responder, call=d, occurred=d.on_scene_at, residents=[r2])
    # r3: 1 December, then 2 and 3 March: the December one is 91 days before: not three.
    encounter(unit, responder, occurred=at(2025, 12, 1, 9), residents=[r3])
    e_e = encounter(
        unit, responder, call=e, occurred=e.on_scene_at, residents=[r3], involuntary_hold=True
    )
    encounter(unit, responder, call=h, occurred=h.on_scene_at, residents=[r3])

    # Completed referrals: r1 after 3 and 5 days (the first counts), r3 after 10 days; r2's
    # was sent and never completed.
    for days in (5, 3):
        referral(
            r1, e_a, responder, sent=e_a.occurred_at, status="completed",
            accepted=e_a.occurred_at + DAY, closed=utc(e_a.occurred_at) + days * DAY,
        )  # fmt: skip
    referral(
        r3, e_e, responder, sent=e_e.occurred_at, status="completed",
        accepted=e_e.occurred_at + DAY, closed=utc(e_e.occurred_at) + 10 * DAY,
    )  # fmt: skip
    referral(r2, e_e, responder, sent=e_e.occurred_at)
    transparency_refresh(full=True)


def test_coverage_counts_eligible_calls_by_rule_and_cad_flag_routed_ones_included(records):
    # Eligible in district 3: the WELFARE reached, cancelled and routed calls, MNTL at
    # priority 1, INTOX by CAD's flag = 5; responded: WELFARE reached, MNTL, INTOX = 3.
    coverage = rollup("coverage")
    assert (coverage.count, coverage.denominator) == (3, 5)
    # District 5: one eligible call, routed to no one.
    five = rollup("coverage", district="5")
    assert (five.count, five.denominator) == (0, 1)
    everywhere = rollup("coverage", district="*")
    assert (everywhere.count, everywhere.denominator) == (3, 6)


def test_routed_calls_count_only_in_coverage(records):
    # Eight calls in district 3, one of them routed to police: seven ACS calls.
    assert rollup("calls_received").count == 7
    # District 5's only call was routed: no ACS call there (a missing row reads as zero).
    assert not MetricRollup.objects.filter(district="5", metric="calls_received").exists()
    outcomes = dict(
        MetricRollup.objects.filter(month=MARCH, district="3", metric="call_outcomes").values_list(
            "dimension", "count"
        )
    )
    assert outcomes == {"attended": 6, "cancelled": 1}


def test_police_involvement_is_police_requested_or_a_police_request(records):
    # Reached: WELFARE (police requested on scene), MNTL x2, INTOX (a police request), the
    # WELFARE CAD called ineligible, VAG = 6; police involved: 2.
    police = rollup("police_involvement")
    assert (police.count, police.denominator) == (2, 6)


def test_involuntary_holds_are_a_share_of_encounters(records):
    holds = rollup("involuntary_holds")
    assert (holds.count, holds.denominator) == (2, 4)
    assert rollup("involuntary_holds", month=date(2026, 1, 1), district="").count == 0


def test_frequent_contacts_are_third_encounters_within_90_days(records):
    # r1's 5 March encounter is the third in 90 days; r2's and r3's are not (r3's first one
    # is 91 days before).
    people = rollup("frequent_contacts")
    assert (people.count, people.denominator) == (1, 3)
    # Their share of encounters: 1 of the 4 March encounters with a named person, resting
    # on 1 person out of 3.
    encounters = rollup("frequent_contact_encounters")
    assert (encounters.count, encounters.denominator) == (1, 4)
    assert (encounters.people, encounters.denominator_people) == (1, 3)


def test_time_to_referral_is_to_the_first_completed_referral(records):
    # r1: the first of two completed referrals, after 3 days; r3: after 10 days; r2's was
    # never completed. Median of 3 and 10 days: 6.5 days; 90th percentile: 9.3 days.
    time = rollup("time_to_referral")
    assert time.count == 2
    assert time.median_seconds == pytest.approx(6.5 * 86400)
    assert time.p90_seconds == pytest.approx(9.3 * 86400)
