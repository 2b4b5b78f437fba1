"""A desk list's rows, rendered cell for cell as Django's admin renders them
(`admin_list.items_for_result`), with what a column needs worked out once a page rather than
once a cell: its class, whether it holds the row's link, the empty value, a choice field's
labels, the yes/no icons, the link's preserved filters. Each row reaches the template as one
item (its cells joined), which writes the same HTML.

Django's way was a sixth of a searched service list's time at 20,000 services (50 rows of 5
cells, 4.4 ms of 26 in process; now 1.7: docs/benchmarks.md, "A desk list's rows and
sidebar"). The HTML is the same: tests/acs/test_admin_rows.py renders every desk list both
ways and compares them. Lists this does not cover (editable lists, pop-ups, lists not on
FastChangeList) are rendered by Django's own tag."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.utils import display_for_field, display_for_value, lookup_field
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from acs.admin_base import FastChangeList

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from django.contrib.admin.views.main import ChangeList

# The yes/no/unknown icon, as Django's list draws a boolean (a private helper of its list).
_boolean_icon: Callable[[bool | None], SafeString] = admin_list._boolean_icon  # type: ignore[attr-defined]


class _Column:
    """One column of a page: what items_for_result works out for it on every row."""

    __slots__ = ("classes", "labels", "link", "name", "tag")

    def __init__(self, cl: ChangeList, index: int, name: Any, *, link: bool, first: bool) -> None:
        self.name = name
        # The class Django gives a column's cells (a private helper of its list, as above).
        self.classes = "field-" + admin_list._coerce_field_name(name, index)  # type: ignore[attr-defined]
        self.link = link
        self.tag = "th" if link and first else "td"
        # A choice field's labels (display_for_field builds this dict on every cell).
        self.labels: dict[Any, Any] | None = None
        try:
            field = cl.lookup_opts.get_field(name) if isinstance(name, str) else None
            choices = getattr(field, "flatchoices", None)
            if choices:
                self.labels = dict(choices)
        except Exception:  # not a field, or choices that are not hashable: Django's way
            self.labels = None


class _Page:
    """The columns and the per-page values of a change list's rows."""

    def __init__(self, cl: FastChangeList) -> None:
        self.cl = cl
        self.empty = cl.model_admin.get_empty_value_display()
        self.icons = {value: _boolean_icon(value) for value in (True, False, None)}
        self.columns: list[_Column] = []
        first = True
        for index, name in enumerate(cl.list_display):
            link = _links(cl, name, first=first)
            self.columns.append(_Column(cl, index, name, link=link, first=first))
            if link:
                first = False

    def icon(self, value: Any) -> SafeString:
        # Only the three values themselves: 1 would find True's entry, and its alt says "1".
        if value is True or value is False or value is None:
            return self.icons[value]
        return _boolean_icon(value)

    def cell(self, column: _Column, result: models.Model) -> tuple[Any, str]:
        """What items_for_result shows in `column` of `result`, and the cell's classes."""
        classes = column.classes
        try:
            field, attr, value = lookup_field(column.name, result, self.cl.model_admin)
        except ObjectDoesNotExist:
            return self.empty, classes
        empty = getattr(attr, "empty_value_display", self.empty)
        if isinstance(value, str) and value.strip() == "":
            value = ""
        if field is None or field.auto_created:
            if column.name == "action_checkbox":
                classes = "action-checkbox"
            boolean = getattr(attr, "boolean", False)
            if isinstance(attr, property) and hasattr(attr, "fget"):
                boolean = getattr(attr.fget, "boolean", False)
            shown = self.icon(value) if boolean else display_for_value(value, empty)
            if isinstance(value, datetime.date | datetime.time):
                classes += " nowrap"
            return shown, classes
        if isinstance(field.remote_field, models.ManyToOneRel):
            related = getattr(result, field.name)
            shown = empty if related is None else related
        elif column.labels is not None:
            try:
                shown = column.labels.get(value, empty)
            except TypeError:  # an unhashable value: Django's way
                shown = display_for_field(value, field, empty, avoid_link=column.link)
        elif isinstance(field, models.BooleanField):
            shown = self.icon(value)
        else:
            shown = display_for_field(value, field, empty, avoid_link=column.link)
        if isinstance(field, models.DateField | models.TimeField | models.ForeignKey):
            classes += " nowrap"
        return shown, classes

    def row(self, result: models.Model) -> SafeString:
        return mark_safe("".join(self.cells(result)))  # noqa: S308 - each cell escaped

    def cells(self, result: models.Model) -> Iterator[SafeString]:
        for column in self.columns:
            shown, classes = self.cell(column, result)
            if column.link:
                try:
                    url = self.cl.preserved_url_for_result(result)
                except NoReverseMatch:
                    pass
                else:
                    href = conditional_escape(url)
                    shown = mark_safe(f'<a href="{href}">{conditional_escape(shown)}</a>')  # noqa: S308 - escaped
            html = f'<{column.tag} class="{classes}">{conditional_escape(shown)}</{column.tag}>'
            yield mark_safe(html)  # noqa: S308 - every part escaped or ours


def _links(cl: ChangeList, name: Any, *, first: bool) -> bool:
    """Whether column `name` holds the row's link (items_for_result's link_in_col)."""
    if cl.list_display_links is None:
        return False
    if first and not cl.list_display_links:
        return True
    return name in cl.list_display_links


def result_list(cl: ChangeList) -> dict[str, Any]:
    """admin_list.result_list's context, its rows from _Page where it covers the list."""
    if not isinstance(cl, FastChangeList) or cl.formset or cl.is_popup:
        return admin_list.result_list(cl)
    headers = list(admin_list.result_headers(cl))
    page = _Page(cl)
    return {
        "cl": cl,
        "result_hidden_fields": [],  # only an editable list (a formset) has any
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        # A row's cells as one item, written the same ("<tr>" + its cells + "</tr>"): the
        # template's call into each cell sat where CPython 3.11 maps and unmaps a frame-stack
        # chunk under gunicorn, 850 page faults a request (docs/benchmarks.md).
        "results": [admin_list.ResultList(None, [page.row(res)]) for res in cl.result_list],
    }
