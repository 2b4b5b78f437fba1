"""The opening intervals agree with `opening_hours.is_open`, the reference, on random schedules
and instants within the window: seasonal, monthly, overnight, 24-hour, closures at every level,
and America/Denver's spring-forward (2026-03-08) and fall-back (2026-11-01) nights.

Two properties: the spans `sessions_between` computes (pure, many examples), and the rows the
database holds and `service_search(open_now=True)` reads through its `@>` condition, and with
words through the hours of the week each row opens in (fewer examples: each writes a small
directory and rolls it back).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from resources.models import Location, Service, ServiceAtLocation
from resources.opening_hours import (
    DEPARTMENT_TZ,
    WEEKDAYS,
    Rule,
    effective_schedules,
    is_open,
    sessions_between,
)
from resources.selectors import service_search
from resources.services.opening_hours import opening_intervals_roll, window_for
from tests.factories import OrganizationFactory, ScheduleFactory

SPRING_FORWARD = date(2026, 3, 8)
FALL_BACK = date(2026, 11, 1)

# Windows that hold a change of clocks (either side of it), and any other day.
NEAR_SPRING_FORWARD = st.dates(
    SPRING_FORWARD - timedelta(days=14), SPRING_FORWARD + timedelta(days=1)
)
NEAR_FALL_BACK = st.dates(FALL_BACK - timedelta(days=14), FALL_BACK + timedelta(days=1))
ANY_DAY = st.dates(date(2026, 1, 1), date(2027, 12, 31))
todays = st.one_of(NEAR_SPRING_FORWARD, NEAR_FALL_BACK, ANY_DAY)
# Quarter hours, with the hours around 02:00 (the missing and the repeated hour) likelier.
times = st.one_of(
    st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45])),
    st.builds(time, st.integers(1, 3), st.sampled_from([0, 30, 59])),
)


@st.composite
def rules(draw, today: date, *, closure: bool = False) -> Rule:
    near = st.dates(today - timedelta(days=40), today + timedelta(days=20))
    if closure:
        start = draw(st.dates(today - timedelta(days=3), today + timedelta(days=16)))
        end = draw(st.none() | st.dates(start, start + timedelta(days=4)))
        return Rule(closed=True, valid_from=start, valid_to=end)
    freq = draw(st.sampled_from(["", "WEEKLY", "MONTHLY"]))
    days = draw(st.lists(st.sampled_from(WEEKDAYS), max_size=3, unique=True))
    bymonthday = ""
    if freq == "MONTHLY":
        ordinals = st.sampled_from(["", "1", "2", "-1"])
        days = [draw(ordinals) + d for d in days[:2]]
        bymonthday = ",".join(
            str(d) for d in draw(st.lists(st.sampled_from([1, 2, 15, 28, 30, 31, -1]), max_size=2))
        )
    valid_from = draw(st.none() | near)
    valid_to = draw(st.none() | near)
    if valid_from and valid_to and valid_from > valid_to:
        valid_from, valid_to = valid_to, valid_from
    return Rule(
        freq=freq,
        byday=",".join(days),
        bymonthday=bymonthday,
        # None, None is all day; equal is 24 hours; a close at or before the open is overnight.
        opens_at=draw(st.none() | times),
        closes_at=draw(st.none() | times),
        valid_from=valid_from,
        valid_to=valid_to,
        dtstart=draw(st.none() | near),
        until=draw(st.none() | st.dates(today, today + timedelta(days=30))),
        interval=draw(st.none() | st.integers(1, 3)),
        wkst=draw(st.sampled_from(["", "MO", "SU"])),
    )


@st.composite
def places(draw, days=todays):
    """Today (one of `days`), and the schedules of one service at location at its three
    levels."""
    today = draw(days)

    def level(max_regular: int) -> list[Rule]:
        regular = draw(st.lists(rules(today), max_size=max_regular))
        closures = draw(st.lists(rules(today, closure=True), max_size=1))
        return regular + closures

    return today, level(2), level(2), level(2)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=DEPARTMENT_TZ).astimezone(UTC)


def instants(today: date, spans, offsets: list[int]) -> list[datetime]:
    """Instants the window answers for (local dates today .. last day): random ones, and
    each span's edges and the minute before them."""
    lo, hi = local_midnight(today), local_midnight(window_for(today)[1] + timedelta(days=1))
    found = [lo + timedelta(seconds=s) for s in offsets]
    for start, end in spans:
        for edge in (start, end):
            found += [edge, edge - timedelta(minutes=1)]
    return [at for at in found if lo <= at < hi]


def inside(spans, at: datetime) -> bool:
    return any(start <= at < end for start, end in spans)


@settings(max_examples=600, deadline=None)
@given(place=places(), offsets=st.lists(st.integers(0, 16 * 24 * 3600 - 1), max_size=30))
@example(  # an overnight session across the spring-forward night
    place=(
        SPRING_FORWARD,
        [Rule(opens_at=time(22), closes_at=time(6))],
        [],
        [Rule(closed=True, valid_from=SPRING_FORWARD + timedelta(days=2))],
    ),
    offsets=[8 * 3600, 9 * 3600, 30 * 3600],
)
@example(  # opening in the repeated hour of the fall-back night, closing in the missing one
    place=(
        FALL_BACK - timedelta(days=1),
        [],
        [Rule(opens_at=time(1, 30), closes_at=time(1, 15))],
        [Rule(freq="MONTHLY", byday="-1SA", opens_at=time(2, 30), closes_at=time(2, 45))],
    ),
    offsets=[],
)
def test_spans_contain_exactly_the_instants_is_open_finds_open(place, offsets):
    today, at_sal, at_service, at_location = place
    governing = effective_schedules(at_sal, at_service, at_location)
    spans = sessions_between(governing, *window_for(today))

    for at in instants(today, spans, offsets):
        assert inside(spans, at) == is_open(governing, at), at.astimezone(DEPARTMENT_TZ)
    # Merged: sorted, never overlapping nor touching, never empty.
    for (_s1, end), (start, _e2) in itertools.pairwise(spans):
        assert end < start
    assert all(start < end for start, end in spans)


class Rollback(Exception):
    pass


def _write(rule: Rule, **owner) -> None:
    fields = {name: getattr(rule, name) for name in Rule.__dataclass_fields__}
    ScheduleFactory(**owner, **fields)


def _service_search_property(days):
    """The property below for the todays in `days`: one test for each of the three kinds of
    day `todays` draws from, so that pytest-xdist runs them side by side (#19); the three
    together take the 60 examples the one test took over `todays`, a third each."""

    @pytest.mark.django_db
    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(place=places(days), offsets=st.lists(st.integers(0, 16 * 24 * 3600 - 1), max_size=12))
    def test(place, offsets):
        _service_search_reads_from_the_intervals_what_is_open_finds(place, offsets)

    return test


def _service_search_reads_from_the_intervals_what_is_open_finds(place, offsets):
    today, at_sal, at_service, at_location = place
    governing = effective_schedules(at_sal, at_service, at_location)
    spans = sessions_between(governing, *window_for(today))
    try:
        with transaction.atomic():
            organization = OrganizationFactory()
            service = Service.objects.create(organization=organization, name="Random hours")
            location = Location.objects.create(organization=organization, name="Somewhere")
            sal = ServiceAtLocation.objects.create(service=service, location=location)
            # A neighbour at the same location with other hours, to keep the levels apart.
            other = Service.objects.create(organization=organization, name="Neighbour")
            ServiceAtLocation.objects.create(service=other, location=location)
            for rule in at_sal:
                _write(rule, service_at_location=sal)
            for rule in at_service:
                _write(rule, service=service)
            for rule in at_location:
                _write(rule, location=location)
            assert opening_intervals_roll(today=today, force=True) is not None

            for at in instants(today, spans, offsets)[:12]:
                found = service_search(open_now=True, at=at, active_only=False)
                assert (sal in found) == is_open(governing, at), at.astimezone(DEPARTMENT_TZ)
                # With words, from the hours of the week the row opens in (migration 0030),
                # then its spans: the same answer.
                found = service_search(text="random", open_now=True, at=at, active_only=False)
                assert (sal in found) == is_open(governing, at), at.astimezone(DEPARTMENT_TZ)
            raise Rollback
    except Rollback:
        pass


test_service_search_reads_from_the_intervals_what_is_open_finds_near_spring_forward = (
    _service_search_property(NEAR_SPRING_FORWARD)
)
test_service_search_reads_from_the_intervals_what_is_open_finds_near_fall_back = (
    _service_search_property(NEAR_FALL_BACK)
)
test_service_search_reads_from_the_intervals_what_is_open_finds_on_any_day = (
    _service_search_property(ANY_DAY)
)
