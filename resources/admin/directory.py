"""Directory maintenance for case managers: organizations, services, locations and schedules
edited inline, listings not verified lately, and capacity with its history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property

from acs.admin_base import FastChangeList, FastListAdmin, KeysFirstPaginator
from acs.roles import STAFF_ROLES, has_any_role
from resources.models import (
    Address,
    Attribute,
    Capacity,
    CapacityHistory,
    Contact,
    CostOption,
    Language,
    Phone,
    RequiredDocument,
    Schedule,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from resources.selectors import (
    MATCHES_COUNTED,
    documents_matching,
    only_text_match,
    page_keys,
    pages_by_slice,
    text_search,
)

UNVERIFIED_AFTER = timedelta(days=180)


class HttpsUrls:
    """URL fields assume https when a scheme is left out (Django 6's default, chosen now)."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class ReferrersPickFrom:
    """What the refer pickers search (services, services at locations): desk staff who refer
    (case managers, supervisors, administrators) may read these, so that the admin's
    autocomplete (`AutocompleteJsonView`, which asks the *picked* model's admin for
    `has_view_permission`) answers them rather than 403. Changing the directory still needs
    the model's own change permission (administrators): a view is read-only."""

    def has_view_permission(self, request, obj=None):
        user = request.user
        if user.is_active and user.is_staff and has_any_role(user, STAFF_ROLES):
            return True
        return super().has_view_permission(request, obj)


class ServiceInline(HttpsUrls, admin.TabularInline):
    model = Service
    extra = 0
    fields = ("name", "status", "accepts_referrals", "last_verified_at")
    show_change_link = True


class PhoneInline(HttpsUrls, admin.TabularInline):
    model = Phone
    extra = 0
    fields = ("number", "extension", "type", "description")


class ContactInline(HttpsUrls, admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "title", "department", "email")


class ScheduleInline(HttpsUrls, admin.StackedInline):
    model = Schedule
    extra = 0
    fields = (
        ("freq", "byday", "bymonthday", "interval", "dtstart", "until"),
        ("opens_at", "closes_at"),
        ("valid_from", "valid_to", "closed"),
        "description",
        "notes",
    )


class LanguageInline(HttpsUrls, admin.TabularInline):
    model = Language
    extra = 0
    fields = ("code", "name", "note")


class AttributeInline(HttpsUrls, admin.TabularInline):
    model = Attribute
    extra = 0
    autocomplete_fields = ("taxonomy_term",)


class CostOptionInline(HttpsUrls, admin.TabularInline):
    model = CostOption
    extra = 0


class RequiredDocumentInline(HttpsUrls, admin.TabularInline):
    model = RequiredDocument
    extra = 0


class ServiceAtLocationInline(HttpsUrls, admin.TabularInline):
    model = ServiceAtLocation
    extra = 0
    autocomplete_fields = ("location",)
    fields = ("location", "description")
    show_change_link = True


class AddressInline(HttpsUrls, admin.StackedInline):
    model = Address
    extra = 0


class OrganizationAdmin(HttpsUrls, FastListAdmin):
    list_display = ("name", "email", "website")
    search_fields = ("name", "alternate_name")
    inlines = [ServiceInline, PhoneInline, ContactInline]


class VerifiedFilter(admin.SimpleListFilter):
    title = "verification"
    parameter_name = "verification"

    def lookups(self, request, model_admin):
        return [("stale", f"Not verified for more than {UNVERIFIED_AFTER.days} days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "stale":
            cutoff = timezone.now() - UNVERIFIED_AFTER
            return queryset.filter(last_verified_at__isnull=True) | queryset.filter(
                last_verified_at__lt=cutoff
            )
        return queryset


class BestMatchFirst(FastChangeList):
    """The service list: while its rows are ordered best match first (ServiceAdmin's
    get_search_results), no column's header claims the order. Its rows read only the columns
    the list shows (ServiceAdmin.list_display): descriptions and timestamps of the service and
    its organization were half of each row read."""

    # ServiceAdmin.list_display's columns (its organization by name); one left out would be
    # read row by row (tests/cases/test_admin_query_counts.py).
    columns = ("name", "status", "accepts_referrals", "last_verified_at", "organization__name")

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).only(*self.columns)

    def get_ordering_field_columns(self):
        if self.queryset.query.order_by[:1] == ("-text_score",):
            return {}
        return super().get_ordering_field_columns()


class BestMatchKeysPaginator(KeysFirstPaginator):
    """The service list's pages found as the directory's searches find theirs (page_keys):
    best match first, a search's page from its words' heaviest documents rather
    than from every match ranked. A search counts its matches no further than the HSDS
    list does (MATCHES_COUNTED: "1000+ results", 20 pages of the best matches): counting
    10,000 of a common word's matches at 200,000 services took 14-70 ms a page."""

    @cached_property
    def cap(self) -> int:  # type: ignore[override]
        queryset = cast("QuerySet[Any]", self.object_list)
        return MATCHES_COUNTED if "text_score" in queryset.query.annotations else super().cap

    @cached_property
    def counted(self) -> int:
        """A search and nothing else (no list filter) is counted from the documents' index
        alone (documents_matching), not through the services."""
        queryset = cast("QuerySet[Any]", self.object_list)
        tsquery = only_text_match(queryset) if queryset.model is Service else None
        if tsquery is None:
            return super().counted
        return documents_matching(tsquery, limit=self.cap + 1, using=queryset.db)

    def keys(self, queryset: QuerySet[Any], bottom: int, top: int) -> list[Any]:
        if pages_by_slice(queryset, self.counted):  # few matches, or sorted by a column
            return super().keys(queryset, bottom, top)
        return page_keys(queryset, top, counted_past=self.counted)[bottom:top]


class ServiceAdmin(ReferrersPickFrom, HttpsUrls, FastListAdmin):
    list_display = ("name", "organization", "status", "accepts_referrals", "last_verified_at")
    list_filter = ("status", "accepts_referrals", VerifiedFilter)
    list_select_related = ("organization",)
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization",)
    # Best match first sorts many matches: its keys, then the page's rows.
    paginator = BestMatchKeysPaginator
    inlines = [
        ServiceAtLocationInline,
        ScheduleInline,
        PhoneInline,
        LanguageInline,
        AttributeInline,
        CostOptionInline,
        RequiredDocumentInline,
        ContactInline,
    ]

    def get_search_results(self, request, queryset, search_term):
        """The directory's text search (typo-tolerant, as the API and the field app search),
        over every service the list holds: inactive ones and those with no place yet too,
        which staff look for to reopen or place them (the field app and the refer pickers
        offer active places only). Best match first, then by name, unless the user sorts by
        a column (the list orders before it searches, so the order is set here)."""
        if not search_term:
            return queryset, False
        searched, ranked = text_search(queryset, search_term, service="")
        if ranked and ORDER_VAR not in request.GET:
            searched = searched.order_by("-text_score", "name", "pk")
        return searched, False

    def get_changelist(self, request, **kwargs):
        return BestMatchFirst


class LocationAdmin(HttpsUrls, FastListAdmin):
    list_display = ("__str__", "location_type", "organization", "latitude", "longitude")
    list_select_related = ("organization",)
    search_fields = ("name", "addresses__address_1")
    inlines = [AddressInline, ScheduleInline, PhoneInline, LanguageInline]


class CapacityInline(HttpsUrls, admin.TabularInline):
    model = Capacity
    extra = 0
    fields = ("available", "total", "unit", "updated_by", "updated_at")
    readonly_fields = ("updated_by", "updated_at")


class CapacityHistoryInline(HttpsUrls, admin.TabularInline):
    model = CapacityHistory
    extra = 0
    fields = ("created_at", "available", "total", "unit", "recorded_by")
    readonly_fields = fields
    can_delete = False
    ordering = ("-created_at",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ServiceAtLocationAdmin(ReferrersPickFrom, HttpsUrls, FastListAdmin):
    list_display = ("__str__", "capacity")
    list_select_related = ("service", "location", "capacity")
    search_fields = ("service__name", "location__name")
    autocomplete_fields = ("service", "location")
    inlines = [ScheduleInline, CapacityHistoryInline]


class CapacityAdmin(HttpsUrls, FastListAdmin):
    list_display = ("service_at_location", "available", "total", "unit", "updated_at", "stale")
    list_select_related = ("service_at_location__service", "service_at_location__location")
    readonly_fields = ("updated_by", "updated_at")

    @admin.display(boolean=True)
    def stale(self, obj: Capacity) -> bool:
        return obj.is_stale

    def save_model(self, request, obj, form, change):
        # Through the service, so the history row and updated_by are never forgotten.
        from resources.services import capacity_update

        capacity_update(
            service_at_location=obj.service_at_location,
            available=obj.available,
            total=obj.total,
            unit=obj.unit,
            by=request.user,
        )


class TaxonomyTermInline(HttpsUrls, admin.TabularInline):
    model = TaxonomyTerm
    extra = 0
    fields = ("code", "name", "parent", "description")


class TaxonomyAdmin(HttpsUrls, admin.ModelAdmin):
    list_display = ("name", "version")
    inlines = [TaxonomyTermInline]


class TaxonomyTermAdmin(HttpsUrls, admin.ModelAdmin):
    list_display = ("name", "code", "taxonomy", "parent")
    list_select_related = ("taxonomy", "parent")
    search_fields = ("name", "code")
