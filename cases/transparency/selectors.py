"""Reads of the transparency figures: the grid of a month range, suppressed for the public.

`dashboard_get` is the one way to the figures, for the public page, its CSV and JSON, and the
staff version in the admin: the same rollup rows, with `public=True` passed through the
small-cell rule (cases/transparency/suppression.py) over every district of every month in the
range, whatever district the reader picked. Three queries, whatever the range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Max, Min
from django.utils.safestring import SafeString
from django.utils.text import slugify
from django.utils.translation import gettext

from cases.models import ALL_DISTRICTS, MetricRefresh, MetricRollup
from cases.services.transparency import add_months, current_month
from cases.transparency import charts, equity
from cases.transparency.definitions import (
    METRICS,
    NOT_RECORDED,
    OTHER_DESTINATIONS,
    SUPPRESSED_TEXT,
    Kind,
    MetricDef,
    dimensions_of,
    district_label,
)
from cases.transparency.sections import SECTIONS
from cases.transparency.suppression import Cell, Grid, suppress

# The longest range one request may ask for, and the default one.
MAX_MONTHS = 36
DEFAULT_MONTHS = 12

_FIELDS = (
    "month",
    "district",
    "metric",
    "dimension",
    "count",
    "people",
    "denominator",
    "denominator_people",
    "median_seconds",
    "p90_seconds",
)


def month_range(first: date, last: date) -> list[date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def format_duration(seconds: float) -> str:
    """12:51 (minutes:seconds), or 1:02:03 from an hour up."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True)
class Figure:
    """One cell as the page, the table and the downloads show it."""

    cell: Cell
    text: str
    value: float | None  # what a chart draws; None when suppressed
    detail: str = ""

    @property
    def suppressed(self) -> bool:
        return bool(self.cell.suppressed)

    @property
    def point(self) -> charts.Point:
        return charts.Point(self.value, self.text, self.suppressed)


def figure(cell: Cell, *, public: bool, which: str = "") -> Figure:
    """The words and the chart value of a cell (`which`: "p90" for a duration's 90th)."""
    definition = METRICS[cell.metric]
    if public and cell.suppressed:
        return Figure(cell, gettext(SUPPRESSED_TEXT), None)
    if definition.kind is Kind.SHARE:
        share = cell.share
        if share is None:
            return Figure(cell, gettext("no %(unit)s") % {"unit": gettext(definition.unit)}, None)
        return Figure(
            cell,
            f"{charts.number_text(share * 100, 1)}%",
            share * 100,
            gettext("%(count)s of %(total)s %(unit)s")
            % {
                "count": charts.number_text(cell.count),
                "total": charts.number_text(cell.denominator),
                "unit": gettext(definition.unit),
            },
        )
    if definition.kind is Kind.DURATION:
        seconds = cell.p90_seconds if which == "p90" else cell.median_seconds
        if seconds is None:
            return Figure(cell, gettext("none measured"), None)
        return Figure(
            cell,
            format_duration(seconds),
            seconds / 60,
            f"{charts.number_text(cell.count)} {gettext(definition.unit)}",
        )
    return Figure(cell, charts.number_text(cell.count), float(cell.count))


@dataclass
class Chart:
    metric: MetricDef
    title: str
    svg: SafeString | None
    # Small multiples: one row per part (label, sparkline svg, latest figure's text).
    rows: list[tuple[str, SafeString, str]] = field(default_factory=list)
    table_head: list[str] = field(default_factory=list)
    table_rows: list[tuple[str, list[str]]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, name)

    @property
    def slug(self) -> str:
        return slugify(self.title)


@dataclass
class SectionView:
    slug: str
    title: str
    charts: list[Chart]


@dataclass
class DashboardHeader:
    """What a page needs besides the charts: the range, the districts, the freshness. Small
    and picklable, so that it can be cached with the rendered charts."""

    public: bool
    first: date
    last: date
    district: str
    months: list[date]
    available: tuple[date, date] | None
    districts: list[tuple[str, str]]
    refresh: MetricRefresh | None

    @property
    def district_label(self) -> str:
        return district_label(self.district)

    @property
    def partial_month(self) -> bool:
        return self.last >= current_month()


@dataclass
class Dashboard(DashboardHeader):
    grid: Grid = field(default_factory=dict)
    sections: list[SectionView] = field(default_factory=list)

    def header(self) -> DashboardHeader:
        return DashboardHeader(
            self.public,
            self.first,
            self.last,
            self.district,
            self.months,
            self.available,
            self.districts,
            self.refresh,
        )

    def cells(self) -> list[Cell]:
        """The cells of the chosen district, in page order: what the downloads contain."""
        order = {key: i for i, key in enumerate(METRICS)}
        chosen = [c for c in self.grid.values() if c.district == self.district]
        return sorted(chosen, key=lambda c: (c.month, order[c.metric], c.dimension))


def latest_refresh() -> MetricRefresh | None:
    """The last refresh of the rollups: the figures' freshness, and the version of every
    cached page (figures change only with a refresh)."""
    return MetricRefresh.objects.order_by("-finished_at", "-id").first()


def available_months() -> tuple[date, date] | None:
    bounds = MetricRollup.objects.aggregate(first=Min("month"), last=Max("month"))
    if bounds["first"] is None:
        return None
    return bounds["first"], bounds["last"]


def default_range(available: tuple[date, date] | None) -> tuple[date, date]:
    last = available[1] if available else current_month()
    first = add_months(last, -(DEFAULT_MONTHS - 1))
    if available:
        first = max(first, available[0])
    return first, last


def load_grid(first: date, last: date) -> Grid:
    """Every rollup row of the range, every district, and a zero cell for each part the data
    lacks (a missing part is a zero, which the small-cell rule leaves alone)."""
    grid: Grid = {}
    dims: dict[str, set[str]] = {}
    districts: set[str] = {ALL_DISTRICTS}
    rows = MetricRollup.objects.filter(month__gte=first, month__lte=last).values_list(*_FIELDS)
    for row in rows.iterator(chunk_size=5000):
        cell = Cell(*row)
        grid[cell.key] = cell
        districts.add(cell.district)
        dims.setdefault(cell.metric, set()).add(cell.dimension)
    for key, definition in METRICS.items():
        parts = {d for d, _ in dimensions_of(definition)} | dims.get(key, set())
        if definition.equity:
            groups = equity.AXES[key][1]
            parts = {f"{f}:{g}" for f, _t, _o in equity.FIGURES for g, _l in groups}
            parts |= dims.get(key, set())
        elif definition.kind is not Kind.BREAKDOWN:
            parts = {""}
        for month in month_range(first, last):
            for district in districts:
                for dimension in parts:
                    cell_key = (month, district, key, dimension)
                    if cell_key not in grid:
                        grid[cell_key] = Cell(month, district, key, dimension)
    return grid


def _group_free_text(grid: Grid) -> None:
    """Public only: a free-text part (a transport destination) that is suppressed everywhere
    in the grid is renamed "Other destinations", so its name is not published either."""
    for key, definition in METRICS.items():
        if not definition.free_text:
            continue
        cells = [c for c in grid.values() if c.metric == key]
        named = {c.dimension for c in cells if c.count and not c.suppressed}
        for cell in cells:
            if cell.dimension in named:
                continue
            del grid[cell.key]
            cell.dimension = OTHER_DESTINATIONS[0]
            merged = grid.setdefault(cell.key, cell)
            if merged is not cell:
                merged.count += cell.count
                merged.people += cell.people
            merged.suppressed = merged.suppressed or cell.suppressed


def dashboard_get(
    *,
    first: date | None = None,
    last: date | None = None,
    district: str = ALL_DISTRICTS,
    public: bool = True,
    refresh: MetricRefresh | None = None,
) -> Dashboard:
    """The figures of months `first`..`last` (default: the last 12 with figures) for one
    district or all; suppressed for the public, unsuppressed for staff."""
    available = available_months()
    default_first, default_last = default_range(available)
    first, last = first or default_first, last or default_last
    if first > last:
        first, last = last, first
    if len(month_range(first, last)) > MAX_MONTHS:
        first = add_months(last, -(MAX_MONTHS - 1))
    grid = load_grid(first, last)
    if public:
        suppress(grid)
        _group_free_text(grid)
    districts = sorted(
        {c.district for c in grid.values()} - {ALL_DISTRICTS},
        key=lambda d: (d == "", int(d) if d.isdigit() else 0, d),
    )
    dashboard = Dashboard(
        public=public,
        first=first,
        last=last,
        district=district if district in districts else ALL_DISTRICTS,
        months=month_range(first, last),
        available=available,
        districts=[(ALL_DISTRICTS, district_label(ALL_DISTRICTS))]
        + [(d, district_label(d)) for d in districts],
        refresh=refresh or latest_refresh(),
        grid=grid,
    )
    dashboard.sections = [_section(dashboard, section) for section in SECTIONS]
    return dashboard


# --- shaping the charts -----------------------------------------------------------------------


def _cell(d: Dashboard, month: date, metric: str, dimension: str = "", district=None) -> Cell:
    district = d.district if district is None else district
    return d.grid[(month, district, metric, dimension)]


def _section(d: Dashboard, section) -> SectionView:
    charts_: list[Chart] = []
    for key in section.metrics:
        definition = METRICS[key]
        if definition.equity:
            charts_.extend(_equity_charts(d, definition))
        elif definition.kind is Kind.BREAKDOWN:
            charts_.append(_breakdown_chart(d, definition))
        else:
            charts_.append(_month_chart(d, definition))
    if d.district == ALL_DISTRICTS:
        charts_.extend(_district_chart(d, METRICS[key]) for key in section.by_district)
    return SectionView(section.slug, section.title, charts_)


def _month_chart(d: Dashboard, definition: MetricDef) -> Chart:
    public = d.public
    cells = [_cell(d, m, definition.key) for m in d.months]
    if definition.kind is Kind.DURATION:
        medians = [figure(c, public=public) for c in cells]
        p90s = [figure(c, public=public, which="p90") for c in cells]
        series = [(gettext("median"), medians), (gettext("90th percentile"), p90s)]
        unit, fixed_max = "min", None
        head = [
            gettext("Month"),
            gettext("Median (min:s)"),
            gettext("90th percentile (min:s)"),
            gettext("Calls measured"),
        ]
        suppressed = gettext(SUPPRESSED_TEXT)
        rows = [
            (
                charts.month_label(m),
                [
                    a.text,
                    b.text,
                    suppressed if public and a.suppressed else charts.number_text(c.count),
                ],
            )
            for m, a, b, c in zip(d.months, medians, p90s, cells, strict=True)
        ]
        legend = [("s1", gettext("Median")), ("s2", gettext("90th percentile"))]
        label_unit = gettext("minutes")
    else:
        figures = [figure(c, public=public) for c in cells]
        series = [(gettext(definition.title), figures)]
        legend = []
        if definition.kind is Kind.SHARE:
            unit, fixed_max, label_unit = "%", 100.0, gettext("percent")
            head = [
                gettext("Month"),
                gettext("Share"),
                gettext(definition.unit).capitalize(),
                gettext("Out of"),
            ]
            rows = [
                (
                    charts.month_label(m),
                    [f.text, *_share_counts(c, f, public)],
                )
                for m, f, c in zip(d.months, figures, cells, strict=True)
            ]
        else:
            unit, fixed_max, label_unit = "", None, gettext(definition.unit)
            head = [gettext("Month"), gettext(definition.unit).capitalize()]
            rows = [
                (charts.month_label(m), [f.text]) for m, f in zip(d.months, figures, strict=True)
            ]
    label = gettext("%(title)s, %(district)s, by month (%(unit)s): ") % {
        "title": gettext(definition.title),
        "district": d.district_label,
        "unit": label_unit,
    } + "; ".join(f"{month}: {', '.join(values[: len(series)])}" for month, values in rows)
    svg = charts.month_bars(
        months=d.months,
        series=[(name, [f.point for f in figs]) for name, figs in series],
        label=label,
        unit=unit,
        fixed_max=fixed_max,
    )
    return Chart(
        definition, gettext(definition.title), svg, table_head=head, table_rows=rows, legend=legend
    )


def _share_counts(cell: Cell, fig: Figure, public: bool) -> list[str]:
    if public and fig.suppressed:
        return [gettext("not shown")] * 2
    return [charts.number_text(cell.count), charts.number_text(cell.denominator or 0)]


def _small_multiples(
    d: Dashboard, definition: MetricDef, title: str, rows_in: list[tuple[str, list[Cell]]]
) -> Chart:
    figures = [(label, [figure(c, public=d.public) for c in cells]) for label, cells in rows_in]
    values = [f.value for _, figs in figures for f in figs if f.value is not None]
    top = 100.0 if definition.kind is Kind.SHARE else charts.nice_max(max(values, default=0))
    rows = []
    for label, figs in figures:
        summary = f"{title}, {label}: " + "; ".join(
            f"{charts.month_label(m)}: {f.text}" for m, f in zip(d.months, figs, strict=True)
        )
        svg = charts.sparkbars(
            points=[f.point for f in figs], top_value=top, label=summary, months=d.months
        )
        rows.append((label, svg, figs[-1].text))
    head = ["", *[charts.month_label(m) for m in d.months]]
    table_rows = [(label, [f.text for f in figs]) for label, figs in figures]
    return Chart(definition, title, None, rows=rows, table_head=head, table_rows=table_rows)


def _breakdown_chart(d: Dashboard, definition: MetricDef) -> Chart:
    known = dict(dimensions_of(definition))
    present = {
        c.dimension
        for c in d.grid.values()
        if c.metric == definition.key and c.district == d.district
    }
    order = [k for k in known if k in present] + sorted(present - set(known))
    if OTHER_DESTINATIONS[0] in order and definition.free_text:
        order.remove(OTHER_DESTINATIONS[0])
        order.append(OTHER_DESTINATIONS[0])

    def label(dimension: str) -> str:
        if definition.free_text and dimension == OTHER_DESTINATIONS[0]:
            return gettext(OTHER_DESTINATIONS[1])
        if known.get(dimension):
            return gettext(str(known[dimension]))
        return dimension or gettext(NOT_RECORDED)

    rows_in = [(label(dim), [_cell(d, m, definition.key, dim) for m in d.months]) for dim in order]
    chart = _small_multiples(d, definition, gettext(definition.title), rows_in)
    # "Calls by source" -> "Source" (each such word is in the Spanish catalogue).
    chart.table_head[0] = gettext(definition.title.split(" by ")[-1].capitalize())
    return chart


def _district_chart(d: Dashboard, definition: MetricDef) -> Chart:
    title = gettext("%(title)s by district") % {"title": gettext(definition.title)}
    if definition.kind is Kind.DURATION:
        title = gettext("%(title)s by district (median)") % {"title": gettext(definition.title)}
    rows_in = [
        (label, [_cell(d, m, definition.key, "", district) for m in d.months])
        for district, label in d.districts
        if district != ALL_DISTRICTS
    ]
    chart = _small_multiples(d, definition, title, rows_in)
    chart.table_head[0] = gettext("District")
    return chart


def _equity_charts(d: Dashboard, definition: MetricDef) -> list[Chart]:
    """One chart per people-based figure: a row per group, a bar per month."""
    axis, groups = equity.AXES[definition.key]
    out = []
    for code, title, of_what in equity.FIGURES:
        rows_in = [
            (
                gettext(str(label)),
                [_cell(d, m, definition.key, f"{code}:{group}") for m in d.months],
            )
            for group, label in groups
        ]
        words = {"figure": str(title), "axis": str(axis), "of_what": str(of_what)}
        chart = _small_multiples(
            d, definition, gettext("%(figure)s by %(axis)s (%(of_what)s)") % words, rows_in
        )
        chart.table_head[0] = str(axis).capitalize()
        out.append(chart)
    return out


def map_regions(d: Dashboard) -> dict[str, list]:
    """For each mappable figure, its value in each district in the last month of the range
    (suppressed for the public as everywhere): what the district map and its table show."""
    from cases.transparency.district_map import Region
    from cases.transparency.sections import MAPPABLE

    out = {}
    for key in MAPPABLE:
        regions = []
        for district, label in d.districts:
            if district in (ALL_DISTRICTS, ""):
                continue
            shown = figure(d.grid[(d.last, district, key, "")], public=d.public)
            regions.append(Region(district, label, shown.value, shown.text, shown.suppressed))
        out[key] = regions
    return out
