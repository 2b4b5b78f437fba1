"""Server-made SVG charts: no script, no library, readable on a phone.

Each chart is drawn at about a phone's width (the viewBox is 360 units wide, so text stays
near its nominal size on a phone and grows on a desktop) and carries an `aria-label`
summing it up; every chart on the page is followed by a table of the same figures. A
suppressed figure is drawn as a short grey stub marked "<10", never as a bar of some height.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

SERIES_CLASSES = ("s1", "s2", "s3")


@dataclass(frozen=True)
class Point:
    """One figure as a chart sees it: its height (None when suppressed) and its words."""

    value: float | None
    text: str
    suppressed: bool = False


def month_abbr(month: date) -> str:
    """The month's short name in the active language (Django's own: "Jan", "ene")."""
    return date_format(month, "M")


def month_label(month: date) -> str:
    return f"{month_abbr(month)} {month.year}"


def nice_max(value: float, ticks: int = 4) -> float:
    """The top of an axis of `ticks` equal steps (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return float(ticks)
    raw = value / ticks
    exponent = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if step * exponent >= raw:
            return step * exponent * ticks
    return 10 * exponent * ticks  # pragma: no cover - the loop always returns


def number_text(value: float, places: int = 0) -> str:
    """A number as the page's language writes it: 1,234.5 in English, 1 234,5 in Spanish
    (Django's locale formats, grouping always on). The downloads keep plain numbers."""
    return number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)


def _fmt_tick(value: float, unit: str) -> str:
    text = number_text(value) if value >= 10 or value == int(value) else number_text(value, 1)
    return f"{text}%" if unit == "%" else text


def _attr(text: str) -> str:
    return str(escape(text))


def month_bars(
    *,
    months: list[date],
    series: list[tuple[str, list[Point]]],
    label: str,
    unit: str = "",
    fixed_max: float | None = None,
) -> SafeString:
    """Vertical bars, one group per month, one bar per series (at most three)."""
    width, height = 360, 210
    left, right, top, bottom = 44, 8, 22, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [p.value for _, points in series for p in points if p.value is not None]
    top_value = fixed_max or nice_max(max(values, default=0))
    n = max(len(months), 1)
    group = plot_w / n
    bar = group * 0.75 / max(len(series), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_attr(label)}" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for i in range(5):
        tick = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_attr(_fmt_tick(tick, unit))}</text>"
        )
    if unit and unit != "%":
        parts.append(f'<text class="tick" x="{left}" y="10">{_attr(unit)}</text>')
    every = 1 if n <= 12 else 2 if n <= 24 else 3
    for m, month in enumerate(months):
        x0 = left + group * m + group * 0.125
        for s, (name, points) in enumerate(series):
            point = points[m]
            x = x0 + bar * s
            title = f"{month_label(month)}, {name}: {point.text}"
            if point.suppressed or point.value is None:
                parts.append(
                    f'<g class="suppressed"><title>{_attr(title)}</title>'
                    f'<rect x="{x:.1f}" y="{top + plot_h - 3:.1f}" width="{max(bar - 1, 1):.1f}" '
                    f'height="3"/></g>'
                )
                if len(series) == 1 and n <= 12:
                    parts.append(
                        f'<text class="small" x="{x + bar / 2:.1f}" y="{top + plot_h - 6:.1f}" '
                        f'text-anchor="middle">&lt;10</text>'
                    )
                continue
            h = plot_h * min(point.value / top_value, 1.0) if top_value else 0
            parts.append(
                f'<rect class="{SERIES_CLASSES[s]}" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{max(bar - 1, 1):.1f}" height="{h:.1f}"><title>{_attr(title)}</title>'
                f"</rect>"
            )
        if m % every == 0:
            cx = left + group * m + group / 2
            parts.append(
                f'<text class="tick" x="{cx:.1f}" y="{top + plot_h + 14}" '
                f'text-anchor="middle">{_attr(month_abbr(month))}</text>'
            )
            # The year under each January, and under the first month unless January is next.
            if month.month <= every or (m == 0 and month.month < 12 - every):
                parts.append(
                    f'<text class="tick" x="{cx:.1f}" y="{top + plot_h + 27}" '
                    f'text-anchor="middle">{month.year}</text>'
                )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def sparkbars(
    *, points: list[Point], top_value: float, label: str, months: list[date]
) -> SafeString:
    """One row of a small-multiples chart: a bar per month on a shared scale."""
    width, height = 240, 34
    n = max(len(points), 1)
    group = width / n
    bar = max(group * 0.8, 1)
    parts = [
        f'<svg class="spark" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_attr(label)}" preserveAspectRatio="none" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<line class="grid" x1="0" x2="{width}" y1="{height - 0.5}" y2="{height - 0.5}"/>'
    ]
    for i, point in enumerate(points):
        x = group * i + (group - bar) / 2
        title = f"{month_label(months[i])}: {point.text}"
        if point.suppressed or point.value is None:
            parts.append(
                f'<rect class="suppressed" x="{x:.1f}" y="{height - 3}" width="{bar:.1f}" '
                f'height="3"><title>{_attr(title)}</title></rect>'
            )
            continue
        h = (height - 2) * min(point.value / top_value, 1.0) if top_value else 0
        parts.append(
            f'<rect class="s1" x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" '
            f'height="{h:.1f}"><title>{_attr(title)}</title></rect>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
