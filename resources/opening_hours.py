"""Is a place open at an instant? HSDS 3.0 schedules evaluated in the department's time zone.

Pure Python over anything shaped like `resources.models.Schedule` (model rows or the `Rule`
dataclass below), so it is cheap to test at the edges and to run over a bounded candidate set
in the search selector.

The rules, all in America/Denver wall-clock time:

- A schedule produces at most one *session* per local date D on which it occurs: from
  `opens_at` on D to `closes_at` on D, or on D+1 when `closes_at` is at or before `opens_at`
  (overnight; equal times mean 24 hours). No `opens_at` means from midnight; no `closes_at`
  means to the next midnight; neither means the whole day.
- It occurs on D when D is within `valid_from`..`valid_to`, `dtstart`..`until` (all inclusive,
  all optional) and matches the recurrence: blank `freq` is every day (narrowed by `byday` if
  given); WEEKLY matches `byday` (MO,TU...; default the weekday of `dtstart`, else every day),
  every `interval` weeks from the week of `dtstart`; MONTHLY matches `byday` with an optional
  ordinal (1SA = first Saturday, -1FR = last Friday) and/or `bymonthday` (1,15,-1), every
  `interval` months from `dtstart`. `count`, `byweekno` and `byyearday` are not supported.
- A session belongs to the date it *starts* on: a seasonal shelter valid to 31 March that opens
  at 19:00 is still open at 05:00 on 1 April; one valid from 1 November is not open at 02:00 on
  1 November.
- A closure (`closed=True`, beyond HSDS) cancels every session starting on a date from
  `valid_from` to `valid_to` (or on `valid_from` alone). A session that began the evening before
  a closed day runs to its end.
- Times that do not exist (the spring-forward gap) are read with the offset before the change,
  so 02:30 on 8 March 2026 is 03:30 MDT; repeated times (fall back) take the first occurrence.
  Instants are compared in UTC, so a night across a change is exactly as long as it was.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

DEPARTMENT_TZ = ZoneInfo("America/Denver")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class ScheduleLike(Protocol):
    """A Schedule row or a Rule: read only (a Rule is frozen)."""

    @property
    def valid_from(self) -> date | None: ...

    @property
    def valid_to(self) -> date | None: ...

    @property
    def dtstart(self) -> date | None: ...

    @property
    def until(self) -> date | None: ...

    @property
    def wkst(self) -> str: ...

    @property
    def freq(self) -> str: ...

    @property
    def interval(self) -> int | None: ...

    @property
    def byday(self) -> str: ...

    @property
    def bymonthday(self) -> str: ...

    @property
    def opens_at(self) -> time | None: ...

    @property
    def closes_at(self) -> time | None: ...

    @property
    def closed(self) -> bool: ...


@dataclass(frozen=True)
class Rule:
    """A schedule outside the database (tests, imports); same fields as the model."""

    freq: str = ""
    byday: str = ""
    bymonthday: str = ""
    opens_at: time | None = None
    closes_at: time | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    dtstart: date | None = None
    until: date | None = None
    interval: int | None = None
    wkst: str = ""
    closed: bool = False


RULE_FIELDS = tuple(Rule.__dataclass_fields__)


class ScheduleError(ValueError):
    """A schedule field that cannot be read (a bad `byday` entry, say)."""


def _parse_byday(byday: str) -> list[tuple[int | None, int]]:
    """'MO,1SA,-1FR' -> [(None, 0), (1, 5), (-1, 4)]."""
    entries = []
    for raw in byday.replace(" ", "").upper().split(","):
        if not raw:
            continue
        code, ordinal = raw[-2:], raw[:-2]
        if code not in WEEKDAYS:
            raise ScheduleError(f"byday entry {raw!r} is not a weekday")
        try:
            n = int(ordinal) if ordinal else None
        except ValueError as exc:
            raise ScheduleError(f"byday entry {raw!r} has a bad ordinal") from exc
        if n == 0:
            raise ScheduleError(f"byday entry {raw!r} has ordinal 0")
        entries.append((n, WEEKDAYS.index(code)))
    return entries


def _parse_monthdays(bymonthday: str) -> list[int]:
    try:
        days = [int(p) for p in bymonthday.replace(" ", "").split(",") if p]
    except ValueError as exc:
        raise ScheduleError(f"bymonthday {bymonthday!r} is not a list of numbers") from exc
    if any(d == 0 or not -31 <= d <= 31 for d in days):
        raise ScheduleError(f"bymonthday {bymonthday!r} is out of range")
    return days


def _week_start(day: date, wkst: str) -> date:
    first = WEEKDAYS.index(wkst) if wkst else 0
    return day - timedelta(days=(day.weekday() - first) % 7)


def _weekday_matches(day: date, entries: list[tuple[int | None, int]]) -> bool:
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    for n, weekday in entries:
        if day.weekday() != weekday:
            continue
        if n is None:
            return True
        if n > 0 and (day.day - 1) // 7 + 1 == n:
            return True
        if n < 0 and (days_in_month - day.day) // 7 + 1 == -n:
            return True
    return False


def _monthday_matches(day: date, monthdays: list[int]) -> bool:
    days_in_month = calendar.monthrange(day.year, day.month)[1]
    return any(day.day == (d if d > 0 else days_in_month + d + 1) for d in monthdays)


def occurs_on(rule: ScheduleLike, day: date) -> bool:
    """Whether `rule` has a session starting on local date `day` (closures aside)."""
    if rule.valid_from and day < rule.valid_from:
        return False
    if rule.valid_to and day > rule.valid_to:
        return False
    if rule.dtstart and day < rule.dtstart:
        return False
    if rule.until and day > rule.until:
        return False
    interval = rule.interval or 1
    anchor = rule.dtstart
    byday = _parse_byday(rule.byday)

    if rule.freq == "MONTHLY":
        monthdays = _parse_monthdays(rule.bymonthday)
        if not byday and not monthdays:
            if anchor is None:
                return False
            monthdays = [anchor.day]
        if byday and not _weekday_matches(day, byday):
            return False
        if monthdays and not _monthday_matches(day, monthdays):
            return False
        if interval > 1 and anchor is not None:
            months = (day.year - anchor.year) * 12 + day.month - anchor.month
            return months % interval == 0
        return True

    # WEEKLY, or blank freq (every day, narrowed by byday when given).
    if byday:
        if day.weekday() not in {weekday for _n, weekday in byday}:
            return False
    elif rule.freq == "WEEKLY" and anchor is not None and day.weekday() != anchor.weekday():
        return False
    if rule.freq == "WEEKLY" and interval > 1 and anchor is not None:
        weeks = (_week_start(day, rule.wkst) - _week_start(anchor, rule.wkst)).days // 7
        return weeks % interval == 0
    return True


def _local(day: date, at: time) -> datetime:
    """Wall-clock time on `day` in the department's zone, as a UTC instant."""
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=DEPARTMENT_TZ).astimezone(UTC)


def session_on(rule: ScheduleLike, day: date) -> tuple[datetime, datetime]:
    """The [start, end) UTC instants of the session `rule` would have starting on `day`."""
    opens, closes = rule.opens_at, rule.closes_at
    start = _local(day, opens or time(0))
    if closes is None:
        return start, _local(day + timedelta(days=1), time(0))
    end_day = day if opens is None or closes > opens else day + timedelta(days=1)
    return start, _local(end_day, closes)


def is_closed_on(closures: Iterable[ScheduleLike], day: date) -> bool:
    return any(
        c.valid_from and c.valid_from <= day <= (c.valid_to or c.valid_from) for c in closures
    )


def is_open(schedules: Iterable[ScheduleLike], at: datetime) -> bool:
    """Whether any session of `schedules` (closures among them) covers the instant `at`."""
    if at.tzinfo is None:
        raise ValueError("is_open needs a timezone-aware datetime")
    schedules = list(schedules)
    regular = [s for s in schedules if not s.closed]
    closures = [s for s in schedules if s.closed]
    at_utc = at.astimezone(UTC)
    today = at.astimezone(DEPARTMENT_TZ).date()
    # A session started yesterday may still run (overnight); none starts tomorrow before today.
    for day in (today - timedelta(days=1), today):
        if is_closed_on(closures, day):
            continue
        for rule in regular:
            if occurs_on(rule, day):
                start, end = session_on(rule, day)
                if start <= at_utc < end:
                    return True
    return False


def effective_schedules(
    service_at_location: Sequence[ScheduleLike],
    service: Sequence[ScheduleLike],
    location: Sequence[ScheduleLike],
) -> list[ScheduleLike]:
    """The schedules that govern one service at one location.

    Regular hours come from the most specific level that has any (the service at location,
    then the service, then the location); closures at every level apply.
    """
    levels = (service_at_location, service, location)
    regular: list[ScheduleLike] = []
    for level in levels:
        regular = [s for s in level if not s.closed]
        if regular:
            break
    closures = [s for level in levels for s in level if s.closed]
    return regular + closures


def candidate_days(at: datetime) -> tuple[date, date]:
    """The local dates whose sessions may cover `at`: yesterday (overnight) and today."""
    today = at.astimezone(DEPARTMENT_TZ).date()
    return today - timedelta(days=1), today


def sessions_between(
    schedules: Iterable[ScheduleLike], first_day: date, last_day: date
) -> list[tuple[datetime, datetime]]:
    """Every [start, end) UTC span of `schedules` (closures among them) for the sessions that
    start on a local date from `first_day` to `last_day`, overlapping or touching spans merged.

    The same rules as `is_open`, day by day: for an instant whose local date D and D-1 are both
    in the range, `is_open(schedules, at)` is exactly "some span contains `at`". Sessions that
    are empty (a spring-forward gap can make the close come before the open) are left out, as
    `is_open` never finds an instant in them. Raises ScheduleError like `is_open`.
    """
    schedules = list(schedules)
    regular = [s for s in schedules if not s.closed]
    closures = [s for s in schedules if s.closed]
    spans = []
    day = first_day
    while day <= last_day:
        if not is_closed_on(closures, day):
            for rule in regular:
                if occurs_on(rule, day):
                    start, end = session_on(rule, day)
                    if start < end:
                        spans.append((start, end))
        day += timedelta(days=1)
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
