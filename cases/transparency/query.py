"""The query both versions of the transparency dashboard read (the public pages,
cases/transparency/public/, and the staff version in the admin, cases/transparency/admin.py:
`start`, `end` as YYYY-MM, `district`), and what a query builds, cached under the last
refresh's id: a new refresh makes new keys, and a repeated query costs one small query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.core.cache import cache
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import translation

from cases.models import ALL_DISTRICTS
from cases.transparency.definitions import METRICS
from cases.transparency.sections import MAPPABLE
from cases.transparency.selectors import Dashboard, DashboardHeader, dashboard_get, latest_refresh

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DISTRICT = re.compile(r"^[0-9A-Za-z*]{1,8}$")
CACHE_SECONDS = 6 * 3600


class MonthField(forms.CharField):
    """YYYY-MM (what `<input type="month">` sends) as the first day of that month."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        match = _MONTH.match(value)
        if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
            raise forms.ValidationError(
                translation.gettext_lazy("Give a month as YYYY-MM, for example 2026-03.")
            )
        return date(int(match[1]), int(match[2]), 1)


class FilterForm(forms.Form):
    start = MonthField(required=False, label="From")
    end = MonthField(required=False, label="To")
    district = forms.CharField(required=False, max_length=8)
    map = forms.ChoiceField(
        required=False, choices=[(k, METRICS[k].title) for k in MAPPABLE], label="Map"
    )


def cached_dashboard(
    request: HttpRequest, *, public: bool, what: str, build: Callable[[Dashboard], Any]
) -> tuple[FilterForm, DashboardHeader, Any]:
    """`build(dashboard)` for the query, from the cache when this refresh already built it.
    A bad query falls back to the defaults (the form keeps its errors)."""
    form = FilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    district = data.get("district") or ALL_DISTRICTS
    if not _DISTRICT.match(district):
        district = ALL_DISTRICTS
    refresh = latest_refresh()
    key = ":".join(
        [
            "transparency",
            translation.get_language() or "en",
            str(refresh.public_id) if refresh else "none",
            what,
            "public" if public else "staff",
            f"{data.get('start') or ''}",
            f"{data.get('end') or ''}",
            district,
        ]
    )
    hit = cache.get(key)
    if hit is None:
        dashboard = dashboard_get(
            first=data.get("start"),
            last=data.get("end"),
            district=district,
            public=public,
            refresh=refresh,
        )
        hit = (dashboard.header(), build(dashboard))
        cache.set(key, hit, CACHE_SECONDS)
    header, value = hit
    header.refresh = refresh
    return form, header, value


def sections_html(dashboard: Dashboard) -> str:
    return render_to_string("cases/transparency/_sections.html", {"dashboard": dashboard})


def query_string(dashboard: DashboardHeader) -> str:
    return f"start={dashboard.first:%Y-%m}&end={dashboard.last:%Y-%m}&district={dashboard.district}"
