"""What several of the cases admins share: the capped-count list base class, the desk users
who may hold follow-ups, and the bulk-action helpers (also used by resources/admin.py)."""

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils.functional import cached_property

from acs.errors import DomainError
from acs.roles import Role
from responders.models import User

# How far an admin list counts its rows: `SELECT COUNT(*)` over a few million rows is seconds
# of I/O for a number nobody reads past the first pages.
LIST_COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts no further than LIST_COUNT_CAP rows (a COUNT over a LIMIT subquery), so a list
    of a huge table costs the same as a small one; the pages past the cap are not offered."""

    cap = LIST_COUNT_CAP

    @cached_property
    def count(self):
        return self.object_list.order_by()[: self.cap].count()


class FastListAdmin(admin.ModelAdmin):
    """Lists that stay fast on big tables: no unfiltered total, a capped count."""

    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50


def desk_users():
    """Who may hold follow-ups: active case managers and supervisors."""
    return (
        User.objects.filter(is_active=True, groups__name__in=[Role.CASE_MANAGER, Role.SUPERVISOR])
        .distinct()
        .order_by("username")
    )


# How many of the selected rows the intermediate page names (all of them are acted on).
BULK_LISTED = 50


def intermediate_form(modeladmin, request, queryset, *, form, action, title, submit):
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
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        # "Select all N" across pages: the action applies to the whole filtered list.
        "select_across": request.POST.get("select_across", "0"),
        "shown": list(queryset[:BULK_LISTED]),
        "count": queryset.count(),
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "admin/bulk_action_form.html", context)


def each_row(modeladmin, request, queryset, move, done: str) -> None:
    """Apply `move` to every row: refusals are reported per row, the rest still done."""
    moved = 0
    for obj in queryset:
        try:
            move(obj)
            moved += 1
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if moved:
        modeladmin.message_user(request, f"{moved} {done}.", messages.SUCCESS)


def form_action(modeladmin, request, queryset, *, form_class, action, title, submit, move, done):
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
