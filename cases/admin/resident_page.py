"""The resident's page as a case manager's working page: what they act on first (open
follow-ups, active referrals with their live status, the timeline, each row a link), then the
edit form; and the refer panel, which picks a service at a location through the directory's
own search, shows its place, its places free and whether the resident's consent covers the
partner before sending, and sends through `referral_create`. A refusal is shown beside the
form, in words, with everything typed kept.

Query counts stay flat: each list is one query (select_related), the timeline is the
selector's bounded set, and the picker's options come from `service_search` with its
prefetches."""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext

from acs.audit import audit_record
from acs.errors import DomainError
from acs.models import AuditAction
from acs.roles import ACS_ROLES, OVERSIGHT_ROLES, has_any_role
from cases.models import FollowUp, Resident
from cases.selectors import timeline
from resources.models import OPEN_STATUSES, Referral, ServiceAtLocation
from resources.selectors import (
    left_out_of_search,
    left_out_text,
    listed_brief,
    page_rows,
    service_search,
    sharing_consent_for,
)
from resources.services.referrals import referral_create

REFER_PREFIX = "refer"
OPTIONS_PER_PAGE = 20


def desk_may_refer(user) -> bool:
    """Desk staff who may refer from the admin (responders refer from the field app)."""
    return user.is_active and user.is_staff and has_any_role(user, ACS_ROLES)


# --- how a place is described -------------------------------------------------------------


def place_text(sal: ServiceAtLocation, *, besides: str = "") -> str:
    """Where the service is: the location's name (unless it is `besides`, already said) and
    its first address (listed_brief's `street` and `city`)."""
    name = sal.location.name
    parts = [name] if name and name != besides else []
    if sal.street is not None:
        parts.append(f"{sal.street}, {sal.city}")
    return " · ".join(parts) or "No address listed"


def capacity_state(sal: ServiceAtLocation) -> tuple[str, str]:
    """(state, words): "free", "full", "stale" or "unknown", and how staff read it."""
    capacity = getattr(sal, "capacity", None)
    if capacity is None:
        return "unknown", "No capacity figure"
    figure = f"{capacity.available} of {capacity.total} {capacity.unit} free"
    if capacity.is_stale:
        as_of = timezone.localtime(capacity.updated_at)
        return "stale", f"{figure} (old figure, {as_of:%Y-%m-%d})"
    return ("free" if capacity.available else "full"), figure


def option_label(sal: ServiceAtLocation) -> str:
    """One line of the picker: service, partner, place, places free."""
    return (
        f"{sal.service.name} — {sal.service.organization.name} · "
        f"{place_text(sal, besides=sal.service.organization.name)} · "
        f"{capacity_state(sal)[1]}"
    )


CONSENT_WORDS = {
    "named_partner": "Consent on file to share with this partner.",
    "partners": "Consent on file to share with partners in general.",
    "none": "No consent to share with this partner: record it before referring"
    " (a supervisor may send with a reason).",
}
CAPACITY_WORDS = {
    "free": "Places free.",
    "full": "No places free: the referral would be refused.",
    "stale": "The figure is old: call the partner to check.",
    "unknown": "The partner publishes no figure.",
}


def refer_preview(resident: Resident, sal: ServiceAtLocation) -> dict:
    """What the page shows before sending: the place, its places free and whether the
    resident's consent covers the partner (what referral_send will find)."""
    basis = sharing_consent_for(resident, sal.service.organization)
    state, figure = capacity_state(sal)
    return {
        "service": sal.service.name,
        "organization": sal.service.organization.name,
        "place": place_text(sal),
        "capacity": figure,
        "capacity_state": state,
        "capacity_note": CAPACITY_WORDS[state],
        "consent": CONSENT_WORDS[basis],
        "consent_ok": basis != "none",
    }


def referrable_places():
    """What may be picked: active services that take electronic referrals, at a location,
    with what the labels read (the directory's search, without a text, listed brief)."""
    return listed_brief(service_search(accepts_referrals=True))


# --- the refer form -----------------------------------------------------------------------


class PlaceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return option_label(obj)


class PlacePicker(AutocompleteSelect):
    """The admin's select2 picker, asking the refer panel's own options endpoint (which
    searches with service_search and labels each place) instead of /admin/autocomplete/."""

    def get_url(self):
        return reverse("admin:cases_resident_refer_options")


class ReferPanelForm(forms.Form):
    service_at_location = PlaceField(
        queryset=ServiceAtLocation.objects.none(),
        label="Service",
        help_text="Type a service, a partner or a need (shelter, detox, food…).",
        error_messages={"required": "Pick a service to refer to."},
    )
    urgency = forms.ChoiceField(choices=Referral.Urgency.choices, initial="routine")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="Shared with the partner: why this service (no clinical narrative).",
    )
    reason_part2 = forms.BooleanField(
        required=False,
        label="The reason mentions substance use (42 CFR Part 2)",
    )

    class Media:
        js = ("js/admin_refer.js",)

    def __init__(self, *args, user, admin_site, **kwargs):
        kwargs.setdefault("prefix", REFER_PREFIX)
        super().__init__(*args, **kwargs)
        field = self.fields["service_at_location"]
        # Any place: the picker offers those taking referrals, and referral_create says why
        # another one is refused (a service that stopped taking them since it was picked).
        # The place picked is the referral's: read wide, as referral_create reads it.
        field.queryset = listed_brief(ServiceAtLocation.objects.all()).defer(None)
        field.widget = PlacePicker(
            Referral._meta.get_field("service_at_location"),
            admin_site,
            attrs={"data-placeholder": "Search the directory"},
        )
        field.widget.choices = field.choices
        if has_any_role(user, OVERSIGHT_ROLES):
            self.fields["consent_override_reason"] = forms.CharField(
                required=False,
                max_length=500,
                label="Send without consent, because",
                help_text="Supervisors only, when the person cannot consent: kept at ACS and "
                "on the audit trail, never shown to the partner.",
            )


# --- the page's lists ---------------------------------------------------------------------


def _change_url(request, label: str, pk: int, may_view: dict) -> str:
    """The admin page of a record, when there is one and the user may read it."""
    if label not in may_view:
        try:
            model_admin = admin.site.get_model_admin(apps.get_model(label))
        except NotRegistered:
            model_admin = None
        may_view[label] = bool(model_admin and model_admin.has_view_permission(request))
    if not may_view[label]:
        return ""
    app_label, model_name = label.split(".")
    try:
        return reverse(f"admin:{app_label}_{model_name}_change", args=[pk])
    except NoReverseMatch:
        return ""


def timeline_rows(request, resident: Resident) -> list[dict]:
    """The timeline in local time, each row linked to the record it names (a consent, which
    has no page of its own, to the consents on this page)."""
    may_view: dict = {}
    rows = []
    for entry in timeline.resident_timeline(resident):
        url = ""
        if entry.kind == "consent":
            url = "#consents"
        elif entry.kind == "created":
            url = "#resident_form"
        elif entry.record:
            url = _change_url(request, *entry.record, may_view)
        rows.append({"at": timezone.localtime(entry.at), "text": entry.text, "url": url})
    return rows


def open_follow_ups(resident: Resident) -> list[FollowUp]:
    return list(
        resident.follow_ups.exclude(status=FollowUp.Status.CLOSED)
        .select_related("assignee")
        .order_by("due_at", "id")
    )


def active_referrals(resident: Resident) -> list[Referral]:
    return list(
        Referral.objects.filter(resident=resident, status__in=OPEN_STATUSES)
        .select_related("service", "organization", "service_at_location__location")
        .order_by("-updated_at", "-id")
    )


def page_context(model_admin, request, resident: Resident, refer_form=None) -> dict:
    """What the resident's page shows above the edit form."""
    now = timezone.now()
    follow_ups = [
        {
            "follow_up": f,
            "due": timezone.localtime(f.due_at),
            "late": f.due_at < now,
            "url": reverse("admin:cases_followup_change", args=[f.pk]),
        }
        for f in open_follow_ups(resident)
    ]
    referrals = [
        {
            "referral": r,
            "updated": timezone.localtime(r.updated_at),
            "url": reverse("admin:resources_referral_change", args=[r.pk]),
        }
        for r in active_referrals(resident)
    ]
    context = {
        "open_follow_ups": follow_ups,
        "active_referrals": referrals,
        "timeline_rows": timeline_rows(request, resident),
        "may_refer": False,
    }
    if not resident.merged_into_id and desk_may_refer(request.user):
        if refer_form is None:
            refer_form = ReferPanelForm(user=request.user, admin_site=model_admin.admin_site)
        chosen = refer_form["service_at_location"].value() if refer_form.is_bound else None
        place = None
        if chosen and str(chosen).isdigit():
            place = referrable_places().filter(pk=int(chosen)).first()
        context.update(
            may_refer=True,
            refer_form=refer_form,
            refer_preview=refer_preview(resident, place) if place else None,
            refer_url=reverse("admin:cases_resident_refer", args=[resident.pk]),
            refer_preview_url=reverse("admin:cases_resident_refer_preview", args=[resident.pk]),
        )
    return context


# --- the views (wired by ResidentAdmin.get_urls) -------------------------------------------


def _require_referrer(model_admin, request) -> None:
    if not (model_admin.has_view_permission(request) and desk_may_refer(request.user)):
        raise PermissionDenied


def refer_options_view(model_admin, request):
    """The picker's options, as select2 reads them: active services taking referrals, found
    by the directory's search (name, partner, need; typo-tolerant), each labelled with its
    place and places free. Directory data only: nothing of a resident."""
    _require_referrer(model_admin, request)
    term = request.GET.get("term", "").strip()[:100]
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    start = (page - 1) * OPTIONS_PER_PAGE
    # page_rows: the page's keys found narrow, then its rows (a plain slice sorted every
    # match with its joined rows: p95 441 -> 120 ms at 200,000 services, docs/benchmarks.md).
    searched = listed_brief(service_search(text=term, accepts_referrals=True))
    rows = page_rows(searched, start, start + OPTIONS_PER_PAGE + 1)
    answer = {
        "results": [
            {
                "id": str(sal.pk),
                "text": option_label(sal),
                "capacity": capacity_state(sal)[0],
            }
            for sal in rows[:OPTIONS_PER_PAGE]
        ],
        "pagination": {"more": len(rows) > OPTIONS_PER_PAGE},
    }
    if term and not rows and page == 1:
        # Nothing to offer: say which services the words meant and why they are not offered
        # (closed, taking no referrals, not yet placed), rather than a bare "No results"
        # (admin_refer.js shows it in the picker).
        left_out = left_out_of_search(term, accepts_referrals=True)
        if left_out:
            answer["hint"] = gettext("Not offered here: %(services)s.") % {
                "services": left_out_text(left_out)
            }
    return JsonResponse(answer)


def refer_preview_view(model_admin, request, resident: Resident):
    """Before sending: the place, its places free, and whether this resident's consent covers
    the partner. Reading the consents is reading the record: audited."""
    _require_referrer(model_admin, request)
    chosen = request.GET.get("service_at_location", "")
    place = referrable_places().filter(pk=int(chosen)).first() if chosen.isdigit() else None
    if place is None:
        return JsonResponse({"error": "That service does not take referrals."}, status=404)
    audit_record(
        actor=request.user,
        action=AuditAction.VIEW,
        target=resident,
        request=request,
        reason="admin: refer preview",
    )
    return JsonResponse(refer_preview(resident, place))


def refer_view(model_admin, request, resident: Resident):
    """Send a referral from the resident's page. Success: a message and the page, the
    referral in its list. Refusal: the page again, the reason beside the form, the form as
    typed."""
    _require_referrer(model_admin, request)
    change_url = reverse("admin:cases_resident_change", args=[resident.pk])
    if request.method != "POST":
        return HttpResponseRedirect(change_url + "#refer")
    form = ReferPanelForm(request.POST, user=request.user, admin_site=model_admin.admin_site)
    if form.is_valid():
        data = form.cleaned_data
        place = data["service_at_location"]
        try:
            referral = referral_create(
                actor=request.user,
                resident=resident,
                service=place.service,
                service_at_location=place,
                urgency=data["urgency"],
                reason=data["reason"],
                reason_part2=data["reason_part2"],
                send=True,
                consent_override_reason=data.get("consent_override_reason", ""),
                request=request,
            )
        except DomainError as exc:
            for name, errors in (exc.fields or {}).items():
                if name in form.fields:
                    form.add_error(name, errors)
            form.add_error(None, exc.message)
        else:
            model_admin.message_user(
                request,
                f"Referral to {place.service.name} ({place.service.organization.name}) "
                f"{referral.get_status_display().lower()}.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(change_url + "#referrals")
    # Shown again as the resident's page (read, and audited, as any view of it).
    request.method = "GET"
    return model_admin.change_view(request, str(resident.pk), extra_context={"refer_form": form})
