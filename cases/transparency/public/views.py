"""The public transparency pages (/transparency/, cases/transparency/public/urls.py).

No sign-in, no personal data: every figure comes through `dashboard_get(public=True)`, which
applies the small-cell rule. The page, its CSV and its JSON show the same figures for the
same query (`start`, `end` as YYYY-MM, `district`).

Figures change only when the rollups are refreshed, so what a query builds (the rendered
charts, the download's records) is cached under the last refresh's id: a new refresh makes
new keys, and a repeated query costs one small query (cases/transparency/query.py, which the
staff version in the admin reads too).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.views.decorators.http import require_GET

from acs.csv_cells import CsvDictWriter
from cases.transparency.definitions import (
    METRICS,
    SMALL_CELL,
    SUPPRESSED_TEXT,
)
from cases.transparency.district_map import choropleth
from cases.transparency.query import FilterForm, cached_dashboard, query_string, sections_html
from cases.transparency.sections import MAPPABLE, SECTIONS
from cases.transparency.selectors import Dashboard, DashboardHeader, figure, map_regions

PAGE_LANGUAGES = ("en", "es")


def page_language(request: HttpRequest) -> str:
    """English or Spanish: `?lang=` (the page's switch, links only, no script), else what the
    browser asks for (LocaleMiddleware), else English."""
    asked = request.GET.get("lang", "")
    if asked in PAGE_LANGUAGES:
        return asked
    current = (translation.get_language() or "en")[:2]
    return current if current in PAGE_LANGUAGES else "en"


def in_page_language(view):
    """Render the page in its language; the downloads stay in English (machine-read)."""

    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        language = page_language(request)
        with translation.override(language):
            response = view(request, *args, **kwargs)
        response["Content-Language"] = language
        return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def page_parts(dashboard: Dashboard) -> tuple[str, dict]:
    return sections_html(dashboard), map_regions(dashboard)


def district_map(dashboard: DashboardHeader, regions: dict, chosen: str | None) -> dict:
    """The map of the chosen figure (the first mappable by default) and its table."""
    key = chosen if chosen in regions else MAPPABLE[0]
    definition = METRICS[key]
    rows = regions[key]
    month = date_format(dashboard.last, "F Y")
    title = translation.gettext("%(title)s by council district, %(month)s") % {
        "title": translation.gettext(definition.title),
        "month": month,
    }
    desc = (
        translation.gettext(definition.question)
        + " "
        + "; ".join(f"{r.label}: {r.text}" for r in rows)
    )
    return {
        "key": key,
        "title": title,
        "svg": choropleth(regions=rows, title=title, desc=desc, map_id="district-map"),
        "rows": rows,
        "choices": [(k, translation.gettext(METRICS[k].title)) for k in MAPPABLE],
        "definition": definition,
    }


@require_GET
@in_page_language
def page(request: HttpRequest) -> HttpResponse:
    form, dashboard, (sections, regions) = cached_dashboard(
        request, public=True, what="page", build=page_parts
    )
    chosen = form.cleaned_data.get("map") if form.is_valid() else None
    return render(
        request,
        "cases/transparency/page.html",
        {
            "dashboard": dashboard,
            "sections": sections,
            "map": district_map(dashboard, regions, chosen),
            "form": form,
            "query": query_string(dashboard),
            "small_cell": SMALL_CELL,
        },
        status=200 if form.is_valid() else 400,
    )


@require_GET
@in_page_language
def definitions(request: HttpRequest) -> HttpResponse:
    sections = [(s, [METRICS[k] for k in s.metrics]) for s in SECTIONS]
    return render(
        request,
        "cases/transparency/definitions.html",
        {"sections": sections, "small_cell": SMALL_CELL, "suppressed_text": SUPPRESSED_TEXT},
    )


def _bad_query(form: FilterForm) -> JsonResponse:
    return JsonResponse(
        {
            "error": {
                "code": "invalid",
                "message": "The query is not valid.",
                "fields": {name: [str(e) for e in errors] for name, errors in form.errors.items()},
            }
        },
        status=400,
    )


def figure_records(dashboard: Dashboard) -> list[dict]:
    """The figures of the chosen district as flat records: what the CSV and JSON contain.
    A suppressed figure has no numbers, only `"suppressed": true` and its words."""
    records = []
    for cell in dashboard.cells():
        definition = METRICS[cell.metric]
        hidden = dashboard.public and bool(cell.suppressed)
        shown = figure(cell, public=dashboard.public)
        record = {
            "month": f"{cell.month:%Y-%m}",
            "district": cell.district,
            "metric": cell.metric,
            "dimension": cell.dimension,
            "kind": definition.kind.value,
            "unit": definition.unit,
            "value": shown.text,
            "count": None if hidden else cell.count,
            "denominator": None if hidden else cell.denominator,
            "share": None if hidden or cell.share is None else round(cell.share, 4),
            "median_seconds": None if hidden else _round(cell.median_seconds),
            "p90_seconds": None if hidden else _round(cell.p90_seconds),
            "suppressed": hidden,
        }
        records.append(record)
    return records


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def in_english(view):
    """The downloads are read by machines: their words stay English whatever the browser."""

    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        with translation.override("en"):
            return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_GET
@in_english
def metrics_json(request: HttpRequest) -> JsonResponse:
    form, dashboard, records = cached_dashboard(
        request, public=True, what="records", build=figure_records
    )
    if not form.is_valid():
        return _bad_query(form)
    definitions_url = request.build_absolute_uri(reverse("transparency:definitions"))
    refresh = dashboard.refresh
    return JsonResponse(
        {
            "start": f"{dashboard.first:%Y-%m}",
            "end": f"{dashboard.last:%Y-%m}",
            "district": dashboard.district,
            "refreshed_at": refresh.finished_at.isoformat() if refresh else None,
            "data_dictionary": request.build_absolute_uri(reverse("transparency:datapackage")),
            "suppression": f"Figures about fewer than {SMALL_CELL} people, and figures that "
            f"would let one be worked out by subtraction, are shown as {SUPPRESSED_TEXT!r}.",
            "metrics": [
                {
                    "key": m.key,
                    "title": m.title,
                    "kind": m.kind.value,
                    "unit": m.unit,
                    "definition": f"{definitions_url}#{m.anchor}",
                }
                for m in METRICS.values()
            ],
            "figures": records,
        }
    )


@require_GET
@in_english
def metrics_csv(request: HttpRequest) -> HttpResponse:
    form, dashboard, records = cached_dashboard(
        request, public=True, what="records", build=figure_records
    )
    if not form.is_valid():
        return _bad_query(form)
    name = f"acs-transparency-{query_string(dashboard).replace('&', '-').replace('=', '-')}"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name.replace("*", "all")}.csv"'
    columns = list(records[0]) if records else ["month", "district", "metric", "dimension"]
    # A destination is free text: no cell may run as a formula (acs/csv_cells.py).
    writer = CsvDictWriter(response, fieldnames=columns)
    writer.writeheader()
    writer.writerows(records)
    return response


@require_GET
def data_dictionary(request: HttpRequest) -> JsonResponse:
    """The Frictionless Data Package describing the downloads (cases/transparency/
    data_dictionary.py); its figures resource is metrics.csv of the same query."""
    from cases.transparency.data_dictionary import data_package

    query = request.GET.urlencode()
    csv_url = request.build_absolute_uri(reverse("transparency:csv"))
    return JsonResponse(
        data_package(
            figures_path=f"{csv_url}?{query}" if query else csv_url,
            definitions_url=request.build_absolute_uri(reverse("transparency:definitions")),
        )
    )
