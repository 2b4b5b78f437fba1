"""Issue 21, equity: the people-based figures by race and ethnicity (HUD categories, several
allowed), age band and preferred language, against records counted by hand (people who
named two races, people with no race recorded, unknown ages); complementary suppression;
and a check over every filter combination that no suppressed value can be derived by
subtraction from what is shown. March 2026, council district 3."""

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.models import MetricRollup
from cases.services.transparency import transparency_refresh
from cases.transparency.selectors import dashboard_get, month_range
from cases.transparency.suppression import Cell, lines_of, suppress
from tests.cases.transparency_world import encounter, follow_up, referral
from tests.factories import CallFactory, ResidentFactory

pytestmark = pytest.mark.django_db

ABQ = ZoneInfo("America/Denver")
MARCH = date(2026, 3, 1)


def at(day, hour=12):
    return datetime(2026, 3, day, hour, tzinfo=ABQ)


def cell(metric, dimension, district="3", month=MARCH):
    row = MetricRollup.objects.filter(
        month=month, district=district, metric=metric, dimension=dimension
    ).first()
    return (row.count, row.denominator) if row else None


@pytest.fixture
def people(responder, unit):
    """Five named people met in March in district 3:
    a: Black and Hispanic (two categories), 30 years old, Spanish; referred, connected.
    b: "white", 70, English; transported, police requested.
    c: nothing recorded for race, no date of birth, English; a follow-up tried within 48 h.
    d: "Refused" (not a category), 17, other language; a follow-up tried only after 72 h.
    e: "Black", 30, English; met twice (counted once).
    """
    a = ResidentFactory(
        race_ethnicity=["Black", "Hispanic/Latina/e/o"],
        date_of_birth=date(1995, 6, 1),
        preferred_language="es",
    )
    b = ResidentFactory(race_ethnicity=["white"], date_of_birth=date(1955, 1, 1))
    c = ResidentFactory(race_ethnicity=[], date_of_birth=None)
    d = ResidentFactory(
        race_ethnicity=["Refused"], date_of_birth=date(2008, 12, 1), preferred_language="other"
    )
    e = ResidentFactory(race_ethnicity=["Black"], date_of_birth=date(1996, 3, 1))
    c1 = CallFactory(received_at=at(2), status_changed_at=at(2), council_district="3",
                     on_scene_at=at(2, 13))  # fmt: skip
    c2 = CallFactory(received_at=at(3), status_changed_at=at(3), council_district="3",
                     on_scene_at=at(3, 13))  # fmt: skip
    ea = encounter(unit, responder, call=c1, occurred=at(2, 13), residents=[a, c, d, e])
    eb = encounter(
        unit,
        responder,
        call=c2,
        occurred=at(3, 13),
        residents=[b, e],
        disposition="transported",
        transport_destination="UNM Hospital",
        police_requested=True,
    )
    referral(a, ea, responder, sent=at(2, 15), status="completed", closed=at(9))
    follow_up(c, ea, attempts=[24])
    follow_up(d, ea, attempts=[72])
    assert eb
    transparency_refresh(full=True, now=datetime(2026, 4, 2, tzinfo=ABQ))


def test_race_counts_people_in_every_category_they_named(people):
    assert cell("equity_race", "served:black") == (2, 5)  # a and e
    assert cell("equity_race", "served:hispanic_latina_e_o") == (1, 5)  # a, also Black
    assert cell("equity_race", "served:white") == (1, 5)
    # c (nothing recorded) and d ("Refused": no category) are "Not recorded".
    assert cell("equity_race", "served:not_recorded") == (2, 5)
    assert cell("equity_race", "referred:black") == (1, 2)
    assert cell("equity_race", "connected:hispanic_latina_e_o") == (1, 1)
    assert cell("equity_race", "transported:white") == (1, 1)
    assert cell("equity_race", "police:black") == (1, 2)  # e was on the police call
    assert cell("equity_race", "follow_up_48h:not_recorded") == (1, 2)  # c yes, d after 72 h


def test_age_bands_at_the_months_start_and_unknown_ages(people):
    assert cell("equity_age", "served:25_34") == (2, 5)  # a (30) and e (30 on 1 March)
    assert cell("equity_age", "served:65_plus") == (1, 5)
    assert cell("equity_age", "served:under_18") == (1, 5)  # d is 17
    assert cell("equity_age", "served:unknown") == (1, 5)  # c
    assert cell("equity_age", "transported:65_plus") == (1, 1)


def test_preferred_language(people):
    assert cell("equity_language", "served:en") == (3, 5)
    assert cell("equity_language", "served:es") == (1, 5)
    assert cell("equity_language", "referred:es") == (1, 1)
    assert cell("equity_language", "served:other") == (1, 5)
    # All districts: the same people, once.
    assert cell("equity_language", "served:en", district="*") == (3, 5)


def test_the_public_sees_none_of_these_small_groups(people, client):
    body = client.get("/transparency/metrics.json?start=2026-03&end=2026-03&district=3").json()
    equity = [f for f in body["figures"] if f["metric"].startswith("equity_") and f["count"]]
    assert equity == []
    shown = [f for f in body["figures"] if f["metric"] == "equity_race"]
    assert shown and all(f["suppressed"] or f["count"] == 0 for f in shown)


# --- complementary suppression of the groups ---------------------------------------------


def grid_of(*cells):
    return {c.key: c for c in cells}


def test_a_hidden_group_takes_another_group_of_the_figure_with_it():
    big = [Cell(MARCH, "3", "equity_age", f"served:{g}", n, n, 100, 100)
           for g, n in (("25_34", 40), ("35_44", 30), ("45_54", 25))]  # fmt: skip
    small = Cell(MARCH, "3", "equity_age", "served:under_18", 5, 5, 100, 100)
    suppress(grid_of(*big, small))
    assert small.suppressed == "primary"
    # The smallest other group is hidden too, so 100 - 40 - 30 - 25 gives nothing away.
    assert [c.suppressed for c in big] == ["", "", "complementary"]


def test_a_hidden_served_count_hides_the_groups_other_shares():
    """A group's referred share has the group's served count as its denominator: where that
    count is hidden (here as the complement of a small group), the share goes too."""
    small = Cell(MARCH, "3", "equity_language", "served:other", 5, 5, 100, 100)
    served = Cell(MARCH, "3", "equity_language", "served:es", 12, 12, 100, 100)
    other = Cell(MARCH, "3", "equity_language", "served:en", 83, 83, 100, 100)
    referred = Cell(MARCH, "3", "equity_language", "referred:es", 0, 0, 12, 12)
    referred_en = Cell(MARCH, "3", "equity_language", "referred:en", 40, 40, 83, 83)
    suppress(grid_of(small, served, other, referred, referred_en))
    assert small.suppressed == "primary" and served.suppressed == "complementary"
    assert not other.suppressed
    assert referred.suppressed  # its denominator, 12, would give "served:es" away
    # ... and, alone hidden among the referred groups, it takes the other one with it.
    assert referred_en.suppressed == "complementary"


# --- every filter combination, no value derivable by subtraction -----------------------------


@pytest.fixture
def busy(responder, unit):
    """Two months, three districts, groups of every size: some published, some not."""
    langs = ["en"] * 14 + ["es"] * 11 + ["other"] * 3
    races = [["Black"]] * 12 + [["White"]] * 10 + [["Black", "White"]] * 2 + [[]] * 4
    for month, district, n in ((3, "3", 28), (3, "5", 19), (4, "3", 24), (4, "5", 12)):
        residents = [
            ResidentFactory(
                preferred_language=langs[i],
                race_ethnicity=races[i],
                date_of_birth=None if i % 7 == 0 else date(1990 - i, 1, 1),
            )
            for i in range(n)
        ]
        when = datetime(2026, month, 10, 12, tzinfo=ABQ)
        call = CallFactory(received_at=when, status_changed_at=when, council_district=district,
                           on_scene_at=when)  # fmt: skip
        encounter(unit, responder, call=call, occurred=when, residents=residents[: n // 2])
        encounter(
            unit, responder, call=call, occurred=when + timedelta(hours=1),
            residents=residents[n // 2 :], disposition="transported",
            transport_destination="Gateway Center", police_requested=True,
        )  # fmt: skip
    transparency_refresh(full=True, now=datetime(2026, 5, 20, tzinfo=ABQ))


def test_no_filter_combination_lets_a_suppressed_value_be_derived_by_subtraction(busy):
    months = month_range(date(2026, 2, 1), date(2026, 5, 1))
    views = {}
    for first, last in itertools.combinations_with_replacement(months, 2):
        for district in ("*", "3", "5", ""):
            dashboard = dashboard_get(first=first, last=last, district=district, public=True)
            views[(first, last, district)] = dashboard.grid
    # 1. A cell is hidden or shown the same way whichever filters bring it: no two views
    #    combine into more than one of them shows.
    verdicts: dict[tuple, set[bool]] = {}
    for grid in views.values():
        for key, c in grid.items():
            verdicts.setdefault(key, set()).add(bool(c.suppressed))
    assert all(len(v) == 1 for v in verdicts.values())
    # 2. Within every view, no line (parts and their total, districts and all districts,
    #    groups of an equity figure) has exactly one hidden cell: none is a subtraction away.
    hidden_somewhere = 0
    for grid in views.values():
        for line in lines_of(grid):
            hidden = [c for c in line if c.suppressed]
            hidden_somewhere += len(hidden)
            assert len(hidden) != 1, [(c.key, c.count) for c in line]
        # 3. A hidden group's "served" count is never a published denominator.
        for c in grid.values():
            if c.metric.startswith("equity_") and not c.suppressed and c.denominator:
                figure, group = c.dimension.split(":")
                if figure != "served":
                    base = grid[(c.month, c.district, c.metric, f"served:{group}")]
                    assert not base.suppressed, c.key
    # The data really has hidden and shown equity cells (the check is not vacuous).
    equity = [c for g in views.values() for c in g.values() if c.metric.startswith("equity")]
    assert any(c.suppressed for c in equity) and any(c.count and not c.suppressed for c in equity)
    assert hidden_somewhere
