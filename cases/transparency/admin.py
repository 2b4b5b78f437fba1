"""The staff version of the transparency dashboard, in the admin (/admin/cases/metricrollup/).

The same page as /transparency/ with the figures unsuppressed (small numbers shown), the
refresh history, and a button that queues a full refresh. Case managers, supervisors and
administrators only: a partner or responder is not staff and never reaches the admin.
Registered from the end of cases/admin/__init__.py.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from acs.roles import STAFF_ROLES, has_any_role
from cases.models import MetricRefresh, MetricRollup
from cases.transparency.query import cached_dashboard, query_string, sections_html


def may_see_staff_figures(user) -> bool:
    return bool(
        user.is_active and user.is_staff and (user.is_superuser or has_any_role(user, STAFF_ROLES))
    )


@admin.register(MetricRollup)
class TransparencyAdmin(admin.ModelAdmin):
    """Not a list of rows: the changelist is the staff dashboard."""

    def has_module_permission(self, request):
        return may_see_staff_figures(request.user)

    def has_view_permission(self, request, obj=None):
        return may_see_staff_figures(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "refresh" in request.POST:
            from cases.tasks import refresh_transparency

            transaction.on_commit(lambda: refresh_transparency.delay(full=True))
            self.message_user(
                request, "A full refresh of the figures is queued; it takes a minute or so."
            )
            return HttpResponseRedirect(request.get_full_path())
        form, dashboard, sections = cached_dashboard(
            request, public=False, what="page", build=sections_html
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Transparency dashboard (staff: small numbers shown)",
            "opts": self.model._meta,
            "dashboard": dashboard,
            "sections": sections,
            "form": form,
            "query": query_string(dashboard),
            "refreshes": MetricRefresh.objects.order_by("-finished_at", "-id")[:5],
            **(extra_context or {}),
        }
        return TemplateResponse(request, "cases/transparency/staff.html", context)
