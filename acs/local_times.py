"""Moments and days as the desk reads them: one format on the dashboard, in every admin list
and in the records' names ("5 Dec 08:47"; the year only when it is not this year's), local
time (America/Denver), inside `<time datetime="ISO">` and never broken across lines.

`LocalTimesAdmin` shows a list's date and time columns this way: Django's own list cells
would print the locale's long form ("Dec. 5, 2026, 8:47 a.m."), and the dashboard printed
"2026-12-05 08:47", for the same moment on the same desk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db import models
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from django.http import HttpRequest

    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = admin.ModelAdmin  # not subscriptable at run time


def when(at: datetime, *, now: datetime | None = None) -> str:
    """A local moment, short: "5 Dec 08:47"; the year only when it is not this year's."""
    local = timezone.localtime(at)
    return _short(local, now=timezone.localtime(now) if now else None)


def _short(local: datetime, *, now: datetime | None = None) -> str:
    """when() of a moment already local (the current time zone's: its tzinfo tells "now")."""
    this_year = (now or datetime.now(local.tzinfo)).year
    if local.year != this_year:
        return f"{local.day} {local:%b %Y %H:%M}"
    return f"{local.day} {local:%b %H:%M}"


def day(value: date, *, today: date | None = None) -> str:
    """A day, short: "5 Dec"; the year only when it is not this year's."""
    if value.year != (today or timezone.localdate()).year:
        return f"{value.day} {value:%b %Y}"
    return f"{value.day} {value:%b}"


def local_time(value: datetime | date | None) -> SafeString | str:
    """`value` in a `<time>` element: "5 Dec 08:47" (a day: "5 Dec"), the ISO form in its
    `datetime`, class `nowrap` (static/css/admin_site.css). "-" for none."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        # One look-up of the current time zone a moment (a list shows one on every row).
        local = timezone.localtime(value)
        iso, text = local.isoformat(), _short(local)
    else:
        iso, text = value.isoformat(), day(value)
    return format_html('<time class="nowrap" datetime="{}">{}</time>', iso, text)


def time_column(name: str, description: str) -> Callable[[models.Model], SafeString | str]:
    """A list column showing the model field `name` through local_time, sorted by it."""

    @admin.display(description=description, ordering=name)
    def column(obj: models.Model) -> SafeString | str:
        return local_time(getattr(obj, name))

    column.__name__ = name
    return column


def is_time_field(model: type[models.Model], name: object) -> bool:
    """Whether `name` in a list_display is one of `model`'s date or time fields."""
    if not isinstance(name, str):
        return False
    try:
        field = model._meta.get_field(name)
    except Exception:
        return False
    return isinstance(field, models.DateField)  # DateTimeField is a DateField


class LocalTimesAdmin(_ModelAdmin):
    """A list whose date and time fields read as the dashboard's (local_time). Columns that
    are methods return local_time(...) themselves."""

    def get_list_display(
        self, request: HttpRequest
    ) -> list[str | Callable[[Any], SafeString | str | bool]]:
        columns: list[str | Callable[[Any], SafeString | str | bool]] = []
        for name in super().get_list_display(request):
            if isinstance(name, str) and is_time_field(self.model, name):
                field = self.model._meta.get_field(name)
                columns.append(time_column(name, str(field.verbose_name).capitalize()))
            else:
                columns.append(name)
        return columns
