"""Directory maintenance for case managers: organizations, services, locations and schedules
edited inline, listings not verified lately, and capacity with its history."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from acs.admin_base import FastListAdmin, NamedRecordsAdmin, each_row, form_action, readonly_record
from acs.local_times import LocalTimesAdmin, local_time
from acs.roles import ACS_ROLES, STAFF_ROLES, has_any_role
from resources.models import (
    TO_REROUTE,
    WAITING_ON_PARTNER,
    Address,
    Attribute,
    Capacity,
    CapacityHistory,
    Contact,
    CostOption,
    Language,
    Location,
    Organization,
    Phone,
    Referral,
    ReferralEvent,
    RequiredDocument,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
    WebhookDelivery,
    WebhookEndpoint,
)
from resources.selectors import service_search

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


@admin.register(Organization)
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


@admin.register(Service)
class ServiceAdmin(ReferrersPickFrom, HttpsUrls, FastListAdmin):
    list_display = ("name", "organization", "status", "accepts_referrals", "last_verified_at")
    list_filter = ("status", "accepts_referrals", VerifiedFilter)
    list_select_related = ("organization",)
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization",)
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
        """Typo-tolerant: the same trigram search the API and the field app use."""
        if not search_term:
            return queryset, False
        service_ids = service_search(text=search_term).values("service_id")
        return queryset.filter(id__in=service_ids), False


@admin.register(Location)
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


@admin.register(ServiceAtLocation)
class ServiceAtLocationAdmin(ReferrersPickFrom, HttpsUrls, FastListAdmin):
    list_display = ("__str__", "capacity")
    list_select_related = ("service", "location", "capacity")
    search_fields = ("service__name", "location__name")
    autocomplete_fields = ("service", "location")
    inlines = [ScheduleInline, CapacityHistoryInline]


@admin.register(Capacity)
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


@admin.register(Taxonomy)
class TaxonomyAdmin(HttpsUrls, admin.ModelAdmin):
    list_display = ("name", "version")
    inlines = [TaxonomyTermInline]


@admin.register(TaxonomyTerm)
class TaxonomyTermAdmin(HttpsUrls, admin.ModelAdmin):
    list_display = ("name", "code", "taxonomy", "parent")
    list_select_related = ("taxonomy", "parent")
    search_fields = ("name", "code")


# --- referrals and webhooks -------------------------------------------------------------------


class ReferralEventInline(admin.TabularInline):
    model = ReferralEvent
    fields = ("created_at", "from_status", "to_status", "note", "actor", "by_organization")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReferralQueueFilter(admin.SimpleListFilter):
    """The dashboard's two referral queues."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("waiting", "Waiting on the partner (sent, accepted, in progress)"),
            ("reroute", "To re-route (declined, expired, not completed)"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(status__in=WAITING_ON_PARTNER)
        if self.value() == "reroute":
            return queryset.filter(status__in=TO_REROUTE)
        return queryset


class ReferrerFilter(admin.SimpleListFilter):
    title = "referred by"
    parameter_name = "referrer"

    def lookups(self, request, model_admin):
        return [("me", "Me"), ("mine", "Me and my team")]

    def queryset(self, request, queryset):
        user = request.user
        if self.value() == "me":
            return queryset.filter(created_by=user)
        if self.value() == "mine":
            mine = Q(created_by=user)
            if user.team_id:
                mine |= Q(created_by__team_id=user.team_id)
            return queryset.filter(mine)
        return queryset


class ReferrerTeamFilter(admin.SimpleListFilter):
    title = "referrer's team"
    parameter_name = "team"

    def lookups(self, request, model_admin):
        from responders.models import Team

        return [(str(t.pk), t.name) for t in Team.objects.order_by("name")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(created_by__team_id=int(self.value()))
        return queryset


class RespondByFilter(admin.SimpleListFilter):
    """Sent referrals by their answer deadline (the expiry sweep's partial index)."""

    title = "answer due"
    parameter_name = "respond_by"

    def lookups(self, request, model_admin):
        return [("overdue", "Past the deadline"), ("today", "Due today")]

    def queryset(self, request, queryset):
        from cases.selectors import end_of_today

        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(status="sent", respond_by__lt=now)
        if self.value() == "today":
            return queryset.filter(
                status="sent", respond_by__gte=now, respond_by__lte=end_of_today()
            )
        return queryset


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why ACS withdraws these referrals (the partner sees it on the thread).",
    )


# A referral's foreign keys shown by their labels on its page (readonly_record).
REFERRAL_LINKED = ("resident", "original_resident", "encounter", "follow_up")


@admin.register(Referral)
class ReferralAdmin(NamedRecordsAdmin, FastListAdmin):
    """Every referral's live status and thread. Moves go through the services."""

    record_heading = "Referral (service, partner, resident)"
    list_display = ("__str__", "status", "urgency", "referred_on", "answer_due", "last_change")
    list_filter = (
        ReferralQueueFilter,
        ReferrerFilter,
        ReferrerTeamFilter,
        RespondByFilter,
        "status",
        "urgency",
    )
    list_select_related = ("service", "organization", "resident")
    date_hierarchy = "created_at"
    # Every field read-only; the records it points at by their labels (acs/record_labels.py),
    # their own fields kept out of the form (never an editable select of every resident).
    exclude = REFERRAL_LINKED
    readonly_fields = [
        f"{f.name}_record" if f.name in REFERRAL_LINKED else f.name
        for f in Referral._meta.concrete_fields
        if f.name != "id"
    ]
    inlines = [ReferralEventInline]
    actions = ["send_drafts", "cancel_with_reason", "cancel_open"]

    resident_record = readonly_record("resident", "resident")
    original_resident_record = readonly_record("original_resident", "resident before a merge")
    encounter_record = readonly_record("encounter", "encounter")
    follow_up_record = readonly_record("follow_up", "follow-up")

    @admin.display(description="Referred on (local time)", ordering="sent_at")
    def referred_on(self, obj):
        return local_time(obj.sent_at)

    @admin.display(description="Answer due (local time)", ordering="respond_by")
    def answer_due(self, obj):
        return local_time(obj.respond_by)

    @admin.display(description="Last change (local time)", ordering="updated_at")
    def last_change(self, obj):
        return local_time(obj.updated_at)

    def get_queryset(self, request):
        from resources.selectors import referral_queryset_for_user

        return referral_queryset_for_user(request.user)

    def has_add_permission(self, request):
        # Not the model form: the add page is refer_view, which goes through referral_create.
        return has_any_role(request.user, ACS_ROLES)

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from cases.selectors import resident_read_audit

        referral = self.get_object(request, object_id)
        if referral is not None and request.method == "GET":
            resident_read_audit(
                request.user,
                referral.resident_id,
                request=request,
                via="admin",
                referral=referral.public_id,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        """No referral form of its own: desk staff refer from the resident's page, whose refer
        panel shows the places free and whether the resident's consent covers the partner
        before sending (cases/admin/resident_page.py). This address (the list's "Refer a
        resident" button, old links) leads there: with ?resident=<id> to that resident's
        panel; else to the residents list, to find the resident first."""
        from cases.selectors import resident_queryset_for_user

        if not self.has_add_permission(request):
            raise PermissionDenied
        chosen = request.GET.get("resident", "")
        if (
            chosen.isdigit()
            and resident_queryset_for_user(request.user).filter(pk=int(chosen)).exists()
        ):
            url = reverse("admin:cases_resident_change", args=[int(chosen)])
            return HttpResponseRedirect(f"{url}#refer")
        self.message_user(
            request,
            "To refer, find the resident below and open their page: its Refer panel shows the "
            "places free and whether their consent covers the partner.",
            messages.INFO,
        )
        return HttpResponseRedirect(reverse("admin:cases_resident_changelist"))

    def _each(self, request, queryset, move, done: str):
        each_row(self, request, queryset, move, f"referral(s) {done}")

    @admin.action(description="Send the selected drafts to their partners")
    def send_drafts(self, request, queryset):
        from resources.services import referral_send

        self._each(
            request,
            queryset,
            lambda r: referral_send(actor=request.user, referral=r, request=request),
            "sent",
        )

    @admin.action(description="Cancel the selected open referrals, with a reason…")
    def cancel_with_reason(self, request, queryset):
        from resources.services import referral_cancel

        return form_action(
            self,
            request,
            queryset,
            form_class=CancelForm,
            action="cancel_with_reason",
            title="Cancel referrals",
            submit="Cancel the referrals",
            move=lambda r, data: referral_cancel(
                actor=request.user, referral=r, reason=data["reason"], request=request
            ),
            done="referral(s) cancelled",
        )

    @admin.action(description="Cancel the selected open referrals (withdrawn by ACS)")
    def cancel_open(self, request, queryset):
        from resources.services import referral_cancel

        self._each(
            request,
            queryset,
            lambda r: referral_cancel(
                actor=request.user,
                referral=r,
                reason=f"Withdrawn by ACS ({request.user.get_username()})",
                request=request,
            ),
            "cancelled",
        )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(LocalTimesAdmin):
    """Partners register endpoints in the portal; here ACS sees their health and turns them
    off and on again."""

    list_display = (
        "url",
        "organization",
        "active",
        "consecutive_failures",
        "last_success_at",
        "disabled_reason",
    )
    list_filter = ("active",)
    list_select_related = ("organization",)
    search_fields = ("url", "organization__name")
    readonly_fields = (
        "organization",
        "url",
        "active",
        "consecutive_failures",
        "last_success_at",
        "disabled_at",
        "disabled_reason",
        "created_by",
        "created_at",
    )
    exclude = ("secret",)
    actions = ["enable", "disable"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Enable the selected endpoints (after the partner fixed them)")
    def enable(self, request, queryset):
        from resources.webhooks import endpoint_enable

        for endpoint in queryset:
            endpoint_enable(endpoint=endpoint)
        self.message_user(request, f"Enabled {queryset.count()} endpoint(s).")

    @admin.action(description="Disable the selected endpoints")
    def disable(self, request, queryset):
        from django.db import transaction

        from resources.webhooks import endpoint_disable

        for endpoint in queryset.filter(active=True):
            with transaction.atomic():
                endpoint_disable(
                    endpoint=endpoint, reason=f"Disabled by {request.user.get_username()}"
                )
        self.message_user(request, "Disabled.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(LocalTimesAdmin):
    """The delivery log: every event, its attempts and the last answer."""

    list_display = (
        "public_id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("endpoint",)
    show_full_result_count = False
    readonly_fields = [f.name for f in WebhookDelivery._meta.concrete_fields if f.name != "id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
