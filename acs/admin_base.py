"""What the desk's admins share, whichever app's records they list (cases, resources): the
capped-count list base class, records named as staff speak of them (acs/record_labels.py),
and the bulk-action helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote as url_quote

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Page, Paginator
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import RFC3986_SUBDELIMS

from acs.errors import DomainError
from acs.local_times import LocalTimesAdmin
from acs.record_labels import message_label, staff_label, unbroken

if TYPE_CHECKING:
    from django.contrib.admin.options import InlineModelAdmin
    from django.db import models
    from django.db.models import QuerySet
    from django.forms.models import BaseInlineFormSet
    from django.http import HttpRequest, HttpResponse
    from django.utils.safestring import SafeString

    _Paginator = Paginator[Any]
    _ModelAdmin = admin.ModelAdmin[Any]
    # What NamedInlineMixin is mixed into (its subclasses also name an InlineModelAdmin).
    _InlineBase = InlineModelAdmin[Any, Any]
    _InlineFormSet = type[BaseInlineFormSet[Any, Any, forms.ModelForm[Any]]]
else:  # not subscriptable at run time; the mixin stays a plain class there
    _Paginator = Paginator
    _ModelAdmin = admin.ModelAdmin
    _InlineBase = object

# How far an admin list counts its rows: `SELECT COUNT(*)` over a few million rows is seconds
# of I/O for a number nobody reads past the first pages.
LIST_COUNT_CAP = 10_000


class CappedCountPaginator(_Paginator):
    """Counts no further than `cap` rows (LIST_COUNT_CAP: a COUNT over a LIMIT subquery), so
    a list of a huge table costs the same as a small one; the pages past the cap are not
    offered, and a list with more rows says so ("10000+ results": `capped`, read by
    templates/admin/search_form.html and pagination.html)."""

    cap = LIST_COUNT_CAP

    @cached_property
    def counted(self) -> int:
        """The rows, counted no further than one past the cap."""
        queryset = cast("QuerySet[Any]", self.object_list)  # the admin pages a queryset
        return queryset.order_by().values("pk")[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.cap)

    @property
    def capped(self) -> bool:
        """Whether the list has more rows than `count` says."""
        return self.counted > self.cap


class KeysFirstPaginator(CappedCountPaginator):
    """A capped count, and a page found as the directory's searches find theirs: its keys
    first, in the list's order over the keys alone, then its rows read by key (with the joins
    list_select_related asks for), in that order. For a list whose order is a sort of many
    rows (the service list's best match first): sorted wide, each of thousands of matches
    drags its whole row and its organization's through the sort."""

    def page(self, number: int | str) -> Page[Any]:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        queryset = cast("QuerySet[Any]", self.object_list)
        keys = self.keys(queryset, bottom, top)
        found = {row.pk: row for row in queryset.order_by().filter(pk__in=keys)}
        return Page([found[key] for key in keys if key in found], number, self)

    def keys(self, queryset: QuerySet[Any], bottom: int, top: int) -> list[Any]:
        """The keys of queryset[bottom:top], in its order: a list with a faster way to find
        them overrides this (the directory's best match first)."""
        return list(queryset.values_list("pk", flat=True)[bottom:top])


# Stands for a row's key in the one change URL a list reverses (FastChangeList): letters and
# digits, which neither admin.utils.quote nor reverse() escapes; only its first occurrence,
# in the URL's path (a search's words come after it), is replaced.
_ROW_KEY = "0ROW0KEY0"
_PATH_SAFE = RFC3986_SUBDELIMS + "/~:@"


class FastChangeList(ChangeList):
    """Django's change list, its rows' links made from one URL: Django reverses each row's
    change URL and, when the list is searched or filtered, resolves that URL again to add the
    filters to it (add_preserved_filters), about 100 us a row, 4-5 ms a page of 50. Every
    row's link is the same change view's, so here the first is made as Django makes it and
    the others by putting each row's key in its place: the same links."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._row_link: str | None = None
        self._preserved_link: str | None = None
        try:
            # A row whose key is _ROW_KEY.
            stand_in = SimpleNamespace(**{self.pk_attname: _ROW_KEY})
            url = super().url_for_result(cast("models.Model", stand_in))
        except NoReverseMatch:  # no change view: the rows are shown unlinked, as Django does
            return
        self._row_link = add_preserved_filters(
            {"preserved_filters": self.preserved_filters, "opts": self.opts}, url
        )
        # Added already: items_for_result would add them again, resolving every row's URL.
        self.preserved_filters = ""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        if getattr(self.paginator, "capped", False):
            # Not every row was counted: "Show all" would list an unknown number.
            self.can_show_all = False

    def url_for_result(self, result: models.Model) -> str:
        return self._link(self._row_link, result)

    def preserved_url_for_result(self, result: models.Model) -> str:
        """The row's link as Django's list cells make it (admin_list.items_for_result):
        url_for_result, then add_preserved_filters, which (the filters being in the link
        already) rewrites the link's query alike for every row, so it is done once."""
        if self._preserved_link is None and self._row_link is not None:
            self._preserved_link = add_preserved_filters(
                {"preserved_filters": self.preserved_filters, "opts": self.opts}, self._row_link
            )
        return self._link(self._preserved_link, result)

    def _link(self, link: str | None, result: models.Model) -> str:
        key = str(quote(getattr(result, self.pk_attname)))
        if link is None or not key:
            raise NoReverseMatch("No change view for this row.")
        # Quoted as reverse() quotes an argument of the path, which comes before the query.
        return link.replace(_ROW_KEY, url_quote(key, safe=_PATH_SAFE), 1)


class FastListAdmin(LocalTimesAdmin):
    """Lists that stay fast on big tables: no unfiltered total, a capped count, rows linked
    without a URL reversed and resolved for each (FastChangeList); their times read as the
    dashboard's (acs/local_times.py)."""

    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return FastChangeList


class NamedRecordsAdmin(_ModelAdmin):
    """Records named as staff speak of them (acs/record_labels.py) on every screen of their admin:
    the list's first column ("__str__" in list_display), the change page's heading and
    breadcrumb, the history and delete pages' breadcrumbs. `__str__` stays opaque, so the
    LogEntry rows the admin writes (object_repr) never hold a name. The label reads only what
    the admin's queryset selected (list_select_related / the selector's select_related)."""

    # The heading of the list's first column, and what it sorts by.
    record_heading = "Record"
    record_ordering: str | None = None
    # Foreign keys in list_display shown by their label: {field: column heading}.
    record_columns: dict[str, str] = {}

    def get_list_display(self, request: HttpRequest) -> list[str | Callable[[Any], str | bool]]:
        user = request.user

        @admin.display(description=self.record_heading, ordering=self.record_ordering)
        def record(obj: models.Model) -> SafeString:
            return unbroken(staff_label(obj, user))

        def related(field: str, heading: str) -> Callable[[models.Model], str]:
            @admin.display(description=heading)
            def column(obj: models.Model) -> str:
                value = getattr(obj, field)
                return "-" if value is None else unbroken(staff_label(value, user))

            column.__name__ = field
            return column

        columns: list[str | Callable[[Any], str | bool]] = []
        for name in super().get_list_display(request):
            if name == "__str__":
                columns.append(record)
            elif isinstance(name, str) and name in self.record_columns:
                columns.append(related(name, self.record_columns[name]))
            else:
                columns.append(name)
        return columns

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> models.Model | None:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._label_viewer = request.user  # for readonly_record, on this request's row only
        return obj

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        changelist = super().get_changelist_instance(request)
        for obj in changelist.result_list:
            obj._label_viewer = request.user  # for action_checkbox, on this request's rows
        return changelist

    def action_checkbox(self, obj: models.Model) -> SafeString:
        """Django's row checkbox, its accessible name the record's label (not __str__)."""
        label = staff_label(obj, getattr(obj, "_label_viewer", None))
        attrs = {
            "class": "action-select",
            "aria-label": format_html("Select this object for an action - {}", label),
        }
        checkbox = forms.CheckboxInput(attrs, lambda value: False)
        return checkbox.render(ACTION_CHECKBOX_NAME, str(obj.pk))

    def _named(
        self, request: HttpRequest, context: dict[str, Any], obj: models.Model | None
    ) -> None:
        if obj is not None and obj.pk is not None:
            # The page's heading and breadcrumb (templates/admin/change_form.html etc.); the
            # document title keeps only "Change resident" (browser history is a stored copy).
            context["record_label"] = staff_label(obj, request.user)
            context["subtitle"] = context["record_label"]

    def response_change(self, request: HttpRequest, obj: models.Model) -> HttpResponse:
        # Django's "The follow-up “…” was changed successfully." names the record by __str__
        # (opaque): by message_label instead (what and when, never whose: messages sit in a
        # cookie). The LogEntry was written before this, with the opaque name.
        return super().response_change(request, _MessageNamed(obj))

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: models.Model | None = None,
    ) -> HttpResponse:
        self._named(request, context, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def render_delete_form(self, request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
        self._named(request, context, context.get("object"))
        return super().render_delete_form(request, context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        if hasattr(response, "context_data"):
            self._named(request, response.context_data, response.context_data.get("object"))
        return response


class _MessageNamed:
    """`obj` as Django's change message sees it: every attribute its own, its str() the
    message label."""

    def __init__(self, obj: models.Model) -> None:
        self.__dict__["_obj"] = obj

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)

    def __str__(self) -> str:
        return message_label(self._obj)


class NamedInlineMixin(_InlineBase):
    """Inline rows whose read-only foreign keys are readonly_record columns: each row's
    instance learns the viewer, as NamedRecordsAdmin.get_object does for the page's record."""

    def get_formset(
        self, request: HttpRequest, obj: models.Model | None = None, **kwargs: Any
    ) -> _InlineFormSet:
        formset = super().get_formset(request, obj, **kwargs)
        viewer = request.user

        # mypy cannot take a base class from a variable (the formset class Django built here).
        class Named(formset):  # type: ignore[valid-type, misc]
            def _construct_form(self, i: int, **kw: Any) -> forms.ModelForm[Any]:
                form: forms.ModelForm[Any] = super()._construct_form(i, **kw)
                form.instance._label_viewer = viewer
                return form

        Named.__name__ = formset.__name__
        return Named


def readonly_record(field: str, description: str) -> Callable[[object, Any], str]:
    """A read-only foreign key shown by its label and linked to its admin page (the admin's
    own read-only display prints the opaque `__str__`). The record must be select_related."""

    @admin.display(description=description)
    def show(self: object, obj: Any) -> str:
        related = getattr(obj, field, None) if obj is not None else None
        if related is None:
            return "-"
        # The viewer, set where the admin fetched the row for this request (get_object, the
        # inlines' forms); without one, the opaque name.
        label = staff_label(related, getattr(obj, "_label_viewer", None))
        meta = related._meta
        try:
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[related.pk])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    show.__name__ = f"{field}_record"
    return show


# How many of the selected rows the intermediate page names (all of them are acted on).
BULK_LISTED = 50


def intermediate_form(
    modeladmin: _ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    form: forms.BaseForm,
    action: str,
    title: str,
    submit: str,
) -> TemplateResponse:
    """The page between picking rows and applying a bulk action: the selected rows, the
    action's form, and the hidden fields that bring the admin back to the same action."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "form": form,
        "action": action,
        "submit": submit,
        "queryset": queryset,
        "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        # "Select all N" across pages: the action applies to the whole filtered list.
        "select_across": request.POST.get("select_across", "0"),
        "shown": list(queryset[:BULK_LISTED]),
        "count": queryset.count(),
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "admin/bulk_action_form.html", context)


def each_row(
    modeladmin: _ModelAdmin,
    request: HttpRequest,
    queryset: Iterable[Any],
    move: Callable[[Any], object],
    done: str,
) -> None:
    """Apply `move` to every row: refusals are reported per row, the rest still done."""
    moved = 0
    for obj in queryset:
        try:
            move(obj)
            moved += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{message_label(obj)}: {exc.message}", messages.ERROR)
    if moved:
        modeladmin.message_user(request, f"{moved} {done}.", messages.SUCCESS)


def form_action(
    modeladmin: _ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    form_class: type[forms.BaseForm],
    action: str,
    title: str,
    submit: str,
    move: Callable[[Any, dict[str, Any]], object],
    done: str,
) -> TemplateResponse | None:
    """A bulk action that asks for something first (an assignee, an outcome, a reason): the
    intermediate page until its form is valid, then `move(row, cleaned_data)` on every row
    through each_row (each call goes through a service)."""
    form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        each_row(modeladmin, request, queryset, lambda row: move(row, form.cleaned_data), done)
        return None
    return intermediate_form(
        modeladmin, request, queryset, form=form, action=action, title=title, submit=submit
    )
