"""Open-now at the edges: midnight, seasons, monthly rules, closures and daylight saving time.

All instants are written in America/Denver; 2026-03-08 02:00 MST jumps to 03:00 MDT and
2026-11-01 02:00 MDT falls back to 01:00 MST.
"""

from datetime import UTC, date, datetime, time

import pytest

from resources.opening_hours import (
    DEPARTMENT_TZ,
    Rule,
    ScheduleError,
    effective_schedules,
    is_open,
    occurs_on,
)


def den(*args, fold=0) -> datetime:
    return datetime(*args, tzinfo=DEPARTMENT_TZ, fold=fold)


WEEKDAYS_9_TO_5 = Rule(freq="WEEKLY", byday="MO,TU,WE,TH,FR", opens_at=time(9), closes_at=time(17))
NIGHTLY_7PM_TO_7AM = Rule(
    freq="WEEKLY", byday="MO,TU,WE,TH,FR,SA,SU", opens_at=time(19), closes_at=time(7)
)


def test_weekly_hours_open_at_opening_and_closed_at_closing_time():
    # 2026-11-24 is a Tuesday.
    assert not is_open([WEEKDAYS_9_TO_5], den(2026, 11, 24, 8, 59))
    assert is_open([WEEKDAYS_9_TO_5], den(2026, 11, 24, 9, 0))
    assert is_open([WEEKDAYS_9_TO_5], den(2026, 11, 24, 16, 59, 59))
    assert not is_open([WEEKDAYS_9_TO_5], den(2026, 11, 24, 17, 0))


def test_weekly_hours_are_closed_on_days_not_listed():
    assert not is_open([WEEKDAYS_9_TO_5], den(2026, 11, 28, 12, 0))  # Saturday


def test_split_hours_are_closed_over_lunch():
    split = [
        Rule(freq="WEEKLY", byday="MO", opens_at=time(9), closes_at=time(12)),
        Rule(freq="WEEKLY", byday="MO", opens_at=time(13), closes_at=time(17)),
    ]
    assert is_open(split, den(2026, 11, 23, 11, 30))
    assert not is_open(split, den(2026, 11, 23, 12, 30))
    assert is_open(split, den(2026, 11, 23, 13, 0))


def test_overnight_hours_stay_open_past_midnight_into_the_next_morning():
    friday_only = Rule(freq="WEEKLY", byday="FR", opens_at=time(19), closes_at=time(7))
    assert is_open([friday_only], den(2026, 11, 27, 23, 59))
    assert is_open([friday_only], den(2026, 11, 28, 0, 0))  # Saturday, the night goes on
    assert is_open([friday_only], den(2026, 11, 28, 6, 59))
    assert not is_open([friday_only], den(2026, 11, 28, 7, 0))
    # Friday morning belongs to Thursday's night, which does not exist.
    assert not is_open([friday_only], den(2026, 11, 27, 3, 0))


def test_equal_opening_and_closing_times_mean_open_around_the_clock():
    always = Rule(freq="WEEKLY", byday="MO,TU,WE,TH,FR,SA,SU", opens_at=time(0), closes_at=time(0))
    assert is_open([always], den(2026, 11, 24, 0, 0))
    assert is_open([always], den(2026, 11, 24, 23, 59, 59))


def test_a_rule_without_times_is_open_all_day_on_its_days():
    assert is_open([Rule(freq="WEEKLY", byday="SU")], den(2026, 11, 29, 0, 0))
    assert not is_open([Rule(freq="WEEKLY", byday="SU")], den(2026, 11, 30, 0, 0))


def test_no_schedule_means_unknown_hours_and_never_open():
    assert not is_open([], den(2026, 11, 24, 12, 0))


def test_seasonal_shelter_opens_on_its_first_evening_not_the_night_before():
    winter = Rule(
        freq="WEEKLY",
        byday="MO,TU,WE,TH,FR,SA,SU",
        opens_at=time(19),
        closes_at=time(7),
        valid_from=date(2026, 11, 15),
        valid_to=date(2027, 3, 31),
    )
    assert not is_open([winter], den(2026, 11, 15, 2, 0))  # the 14th's night is out of season
    assert not is_open([winter], den(2026, 11, 15, 18, 59))
    assert is_open([winter], den(2026, 11, 15, 19, 0))


def test_seasonal_shelter_last_night_runs_into_the_morning_after_valid_to():
    winter = Rule(
        freq="WEEKLY",
        byday="MO,TU,WE,TH,FR,SA,SU",
        opens_at=time(19),
        closes_at=time(7),
        valid_from=date(2026, 11, 15),
        valid_to=date(2027, 3, 31),
    )
    assert is_open([winter], den(2027, 3, 31, 23, 0))
    assert is_open([winter], den(2027, 4, 1, 6, 59))
    assert not is_open([winter], den(2027, 4, 1, 19, 0))


def test_first_saturday_of_the_month():
    first_saturday = Rule(freq="MONTHLY", byday="1SA", opens_at=time(9), closes_at=time(17))
    assert is_open([first_saturday], den(2026, 12, 5, 10, 0))
    assert not is_open([first_saturday], den(2026, 12, 12, 10, 0))
    assert is_open([first_saturday], den(2027, 1, 2, 10, 0))


def test_last_friday_and_month_days_from_the_end():
    assert occurs_on(Rule(freq="MONTHLY", byday="-1FR"), date(2026, 11, 27))
    assert not occurs_on(Rule(freq="MONTHLY", byday="-1FR"), date(2026, 11, 20))
    assert occurs_on(Rule(freq="MONTHLY", bymonthday="-1"), date(2026, 2, 28))
    assert occurs_on(Rule(freq="MONTHLY", bymonthday="1,15"), date(2026, 11, 15))
    assert not occurs_on(Rule(freq="MONTHLY", bymonthday="1,15"), date(2026, 11, 16))


def test_monthly_until_is_the_last_date_with_a_session():
    rule = Rule(freq="MONTHLY", byday="1SA", dtstart=date(2026, 7, 4), until=date(2026, 11, 7))
    assert occurs_on(rule, date(2026, 11, 7))
    assert not occurs_on(rule, date(2026, 12, 5))
    assert not occurs_on(rule, date(2026, 6, 6))


def test_every_other_week_counts_from_the_week_of_dtstart():
    fortnightly = Rule(freq="WEEKLY", byday="WE", interval=2, dtstart=date(2026, 11, 4))
    assert occurs_on(fortnightly, date(2026, 11, 4))
    assert not occurs_on(fortnightly, date(2026, 11, 11))
    assert occurs_on(fortnightly, date(2026, 11, 18))


def test_holiday_closure_closes_the_day_whatever_the_weekly_rule_says():
    thanksgiving = Rule(closed=True, valid_from=date(2026, 11, 26))
    assert is_open([WEEKDAYS_9_TO_5], den(2026, 11, 26, 10, 0))
    assert not is_open([WEEKDAYS_9_TO_5, thanksgiving], den(2026, 11, 26, 10, 0))
    assert is_open([WEEKDAYS_9_TO_5, thanksgiving], den(2026, 11, 27, 10, 0))


def test_closure_range_is_inclusive_and_an_overnight_session_from_before_it_runs_out():
    closed = Rule(closed=True, valid_from=date(2026, 12, 24), valid_to=date(2026, 12, 25))
    nights = [NIGHTLY_7PM_TO_7AM, closed]
    assert is_open(nights, den(2026, 12, 24, 6, 0))  # the 23rd's night
    assert not is_open(nights, den(2026, 12, 24, 20, 0))
    assert not is_open(nights, den(2026, 12, 25, 20, 0))
    assert not is_open(nights, den(2026, 12, 26, 3, 0))  # the 25th's night did not happen
    assert is_open(nights, den(2026, 12, 26, 20, 0))


def test_overnight_session_across_spring_forward_closes_at_seven_daylight_time():
    # The night of Saturday 7 March 2026 is one hour shorter: 11 hours long.
    assert is_open([NIGHTLY_7PM_TO_7AM], den(2026, 3, 8, 1, 59))
    assert is_open([NIGHTLY_7PM_TO_7AM], den(2026, 3, 8, 3, 0))
    assert is_open([NIGHTLY_7PM_TO_7AM], den(2026, 3, 8, 6, 59))
    assert not is_open([NIGHTLY_7PM_TO_7AM], den(2026, 3, 8, 7, 0))
    assert not is_open([NIGHTLY_7PM_TO_7AM], datetime(2026, 3, 8, 14, 0, tzinfo=UTC))  # 07:00 MDT


def test_overnight_session_across_fall_back_closes_at_seven_standard_time():
    # 2026-11-01 07:00 MST is 14:00 UTC; 13:30 UTC is 06:30 MST, still open.
    assert is_open([NIGHTLY_7PM_TO_7AM], datetime(2026, 11, 1, 13, 30, tzinfo=UTC))
    assert not is_open([NIGHTLY_7PM_TO_7AM], datetime(2026, 11, 1, 14, 0, tzinfo=UTC))
    # Both 01:30s of the repeated hour are inside the night.
    assert is_open([NIGHTLY_7PM_TO_7AM], den(2026, 11, 1, 1, 30, fold=0))
    assert is_open([NIGHTLY_7PM_TO_7AM], den(2026, 11, 1, 1, 30, fold=1))


def test_opening_in_the_spring_forward_gap_reads_the_time_before_the_change():
    gap = Rule(freq="WEEKLY", byday="SU", opens_at=time(2, 30), closes_at=time(5))
    # 02:30 MST does not exist; it is 03:30 MDT.
    assert not is_open([gap], den(2026, 3, 8, 3, 15))
    assert is_open([gap], den(2026, 3, 8, 3, 30))


def test_daytime_hours_follow_the_wall_clock_on_both_sides_of_dst():
    # 9:00 local is 16:00 UTC in winter, 15:00 UTC in summer.
    assert is_open([WEEKDAYS_9_TO_5], datetime(2026, 3, 6, 16, 0, tzinfo=UTC))
    assert not is_open([WEEKDAYS_9_TO_5], datetime(2026, 3, 6, 15, 30, tzinfo=UTC))
    assert is_open([WEEKDAYS_9_TO_5], datetime(2026, 3, 9, 15, 0, tzinfo=UTC))


def test_an_instant_in_utc_is_judged_by_the_local_date():
    # Tuesday 2026-11-24 23:30 MST is Wednesday 06:30 UTC; Tuesday-only hours still apply.
    tuesday_evening = Rule(freq="WEEKLY", byday="TU", opens_at=time(18), closes_at=time(23, 59))
    assert is_open([tuesday_evening], datetime(2026, 11, 25, 6, 30, tzinfo=UTC))


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open([WEEKDAYS_9_TO_5], datetime(2026, 11, 24, 12, 0))  # noqa: DTZ001


def test_bad_byday_is_a_schedule_error():
    with pytest.raises(ScheduleError):
        occurs_on(Rule(freq="WEEKLY", byday="MX"), date(2026, 11, 24))


def test_most_specific_level_with_hours_wins_and_closures_from_every_level_apply():
    sal_hours = [Rule(freq="WEEKLY", byday="MO", opens_at=time(8), closes_at=time(10))]
    service_hours = [WEEKDAYS_9_TO_5]
    location_closure = [Rule(closed=True, valid_from=date(2026, 11, 23))]

    governing = effective_schedules(sal_hours, service_hours, location_closure)

    assert not is_open(governing, den(2026, 11, 23, 9, 0))  # closed by the location
    assert is_open(governing, den(2026, 11, 30, 9, 0))
    assert not is_open(governing, den(2026, 11, 30, 12, 0))  # service hours do not apply
    assert effective_schedules([], service_hours, []) == service_hours
