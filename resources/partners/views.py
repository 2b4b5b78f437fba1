"""The partner portal (/partners/): server-rendered pages for partner agencies without IT
staff, the same work as the partner API (resources/partners/api/views.py) for a person with a
browser or a phone.

Views only translate HTTP: every read goes through the partner selectors (scoped to the signed-in
user's organization, so another agency's referral is a 404 whatever the id), every write
through one service, and a refusal by a service becomes a message or a form error, never a 500.
Only ids go in URLs; resident data is on the detail page only, read once per view through
`referral_resident_for_partner`, which records the disclosure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from acs.errors import Conflict, DomainError, Forbidden, NotFound
from cases.models import Need, Resident
from resources import selectors, services, webhooks
from resources.models import (
    CLOSED_STATUSES,
    Capacity,
    Organization,
    Referral,
    ReferralEvent,
    ReferralStatus,
    ServiceAtLocation,
    WebhookEndpoint,
)
from resources.partners.forms import (
    AcceptForm,
    CapacityForm,
    CompleteForm,
    DeclineForm,
    NoteForm,
    StartForm,
    WebhookForm,
)
from resources.services.referrals import TRANSITIONS

S = ReferralStatus
PAGE_SIZE = 25
# A sent referral this close to its respond-by time is flagged in the inbox.
DUE_SOON = timedelta(hours=4)

# Inbox tabs: query value -> (label, statuses shown; None for all).
TABS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "waiting": ("Waiting for you", (S.SENT,)),
    "accepted": ("Accepted", (S.ACCEPTED,)),
    "in_progress": ("In progress", (S.IN_PROGRESS,)),
    "closed": ("Closed", tuple(sorted(CLOSED_STATUSES))),
    "all": ("All", None),
}
DEFAULT_TAB = "waiting"

CONSENT_BASIS_LABELS = {
    "named_partner": "The resident consented to share with your agency.",
    "partners": "The resident consented to share with partner agencies.",
    "supervisor_override": (
        "Sent without the resident's consent on an ACS supervisor's decision: only what you "
        "need to receive the person is shared."
    ),
}


# --- access ---------------------------------------------------------------------------------


def partner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in partner users tied to an organization only. Anonymous visitors are sent to
    sign in; anyone else signed in (ACS staff, a partner user without an organization) is
    refused with 403. The view gets the organization as the keyword `organization`."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            # Back to the page after signing in; a form posted with an expired session goes
            # back to the inbox (its URL takes POST only).
            safe = request.method in ("GET", "HEAD")
            return redirect_to_login(request.get_full_path() if safe else reverse("portal:inbox"))
        organization = selectors.partner_organization(request.user)
        if organization is None:
            raise PermissionDenied("The partner portal is for partner agencies' staff.")
        return view(request, *args, organization=organization, **kwargs)

    return wrapper


def _raise_http(exc: DomainError) -> None:
    """A service's not-found or forbidden, as Django's 404 and 403."""
    if isinstance(exc, NotFound):
        raise Http404(exc.message) from exc
    if isinstance(exc, Forbidden):
        raise PermissionDenied(exc.message) from exc


def _referral_or_404(request: HttpRequest, public_id: UUID) -> Referral:
    try:
        return selectors.referral_get_for_partner(request.user, public_id)
    except NotFound as exc:
        raise Http404("No such referral.") from exc


def _add_errors(form: forms.Form, exc: DomainError) -> None:
    """Put a service's validation refusal on the form, by field where the form has it."""
    if not exc.fields:
        form.add_error(None, exc.message)
        return
    for name, errors in exc.fields.items():
        form.add_error(name if name in form.fields else None, errors)


# --- inbox ----------------------------------------------------------------------------------


def _deadline_state(referral: Referral, now: datetime) -> str:
    """ "overdue" or "due_soon" for a referral still waiting for an answer, else ""."""
    if referral.status != S.SENT or referral.respond_by is None:
        return ""
    if referral.respond_by <= now:
        return "overdue"
    if referral.respond_by - now <= DUE_SOON:
        return "due_soon"
    return ""


@never_cache
@require_GET
@partner_required
def inbox(request: HttpRequest, *, organization: Organization) -> HttpResponse:
    """The organization's referrals, newest change first, by tab, 25 a page. Each card is told
    apart from the others of the same service by its short reference, the referrer, and the
    resident's preferred name and language where the consent shares them (audited as a
    disclosure, like the detail page); nothing else of the resident."""
    tab = request.GET.get("status", DEFAULT_TAB)
    if tab not in TABS:
        tab = DEFAULT_TAB
    referrals = selectors.referral_queryset_for_partner(request.user)
    counts = referrals.aggregate(
        **{
            key: Count("pk", filter=Q(status__in=statuses)) if statuses else Count("pk")
            for key, (_, statuses) in TABS.items()
        }
    )
    statuses = TABS[tab][1]
    if statuses:
        referrals = referrals.filter(status__in=statuses)
    referrals = referrals.select_related(
        "service_at_location__location", "resident", "created_by"
    ).order_by("-updated_at", "-id")
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    cards = selectors.referral_cards_for_partner(page, user=request.user, request=request)
    for referral in page:
        referral.deadline_state = _deadline_state(referral, now)
        referral.card = cards[referral.pk]
    tabs = [
        {"key": key, "label": label, "count": counts[key], "current": key == tab}
        for key, (label, _) in TABS.items()
    ]
    return render(
        request,
        "resources/portal/inbox.html",
        {
            "organization": organization,
            "page": page,
            "tab": tab,
            "tab_label": TABS[tab][0],
            "tabs": tabs,
            "section": "referrals",
        },
    )


# --- referral detail and its actions --------------------------------------------------------


@dataclass(frozen=True)
class _Action:
    form: type[forms.Form]
    button: str
    done: str
    run: Callable[[Any, Referral, dict], object]


# The partner's moves, in the order the page offers them, and the note. Each calls one service.
ACTIONS: dict[str, _Action] = {
    "accept": _Action(
        AcceptForm,
        "Accept referral",
        "Referral accepted.",
        lambda user, referral, data: services.referral_accept(
            actor=user, referral=referral, note=data["note"]
        ),
    ),
    "start": _Action(
        StartForm,
        "Mark as in progress",
        "Referral marked as in progress.",
        lambda user, referral, data: services.referral_start(
            actor=user, referral=referral, note=data["note"]
        ),
    ),
    "complete": _Action(
        CompleteForm,
        "Close with this outcome",
        "Referral closed with its outcome.",
        lambda user, referral, data: services.referral_complete(
            actor=user, referral=referral, outcome=data["outcome"], note=data["note"]
        ),
    ),
    "decline": _Action(
        DeclineForm,
        "Decline referral",
        "Referral declined.",
        lambda user, referral, data: services.referral_decline(
            actor=user, referral=referral, reason=data["reason"]
        ),
    ),
    "note": _Action(
        NoteForm,
        "Send message",
        "Message sent to ACS.",
        lambda user, referral, data: services.referral_note_add(
            actor=user, referral=referral, note=data["note"]
        ),
    ),
}


def _allowed(action: str, referral: Referral) -> bool:
    if action == "note":
        return True
    return referral.status in TRANSITIONS[action][0]


def _action_form(action: str, data=None) -> forms.Form:
    # Own ids per form: several forms on one page each have a "note".
    return ACTIONS[action].form(data, auto_id=f"{action}-%s")


def _render_detail(
    request: HttpRequest,
    referral: Referral,
    organization: Organization,
    *,
    bound: tuple[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    # Once per page view: it returns what the consent allows now and audits the disclosure.
    resident = selectors.referral_resident_for_partner(referral, user=request.user, request=request)
    labels = dict(ReferralStatus.choices)
    events = list(ReferralEvent.objects.filter(referral=referral).order_by("created_at", "id"))
    for event in events:
        event.from_label = labels.get(event.from_status, event.from_status)
        event.to_label = labels.get(event.to_status, event.to_status)
    need_labels = dict(Need.choices)
    actions = []
    for name, spec in ACTIONS.items():
        if name == "note" or not _allowed(name, referral):
            continue
        form = bound[1] if bound and bound[0] == name else _action_form(name)
        actions.append(
            {
                "name": name,
                "form": form,
                "button": spec.button,
                "url": reverse(f"portal:referral_{name}", args=[referral.public_id]),
            }
        )
    note_form = bound[1] if bound and bound[0] == "note" else _action_form("note")
    return render(
        request,
        "resources/portal/referral_detail.html",
        {
            "organization": organization,
            "referral": referral,
            "deadline_state": _deadline_state(referral, timezone.now()),
            "resident": resident,
            "resident_language": dict(Resident.Language.choices).get(resident.language or ""),
            "referred_by": selectors.referrer_for_partner(referral),
            "consent_label": CONSENT_BASIS_LABELS.get(resident.basis, ""),
            "resident_needs": [need_labels.get(n, n) for n in resident.needs],
            "events": events,
            "actions": actions,
            "open_action": bound[0] if bound else "",
            "note_form": note_form,
            "section": "referrals",
        },
        status=status,
    )


@never_cache
@require_GET
@partner_required
def referral_detail(
    request: HttpRequest, public_id: UUID, *, organization: Organization
) -> HttpResponse:
    referral = _referral_or_404(request, public_id)
    return _render_detail(request, referral, organization)


@never_cache
@require_POST
@partner_required
def referral_action(
    request: HttpRequest, public_id: UUID, action: str, *, organization: Organization
) -> HttpResponse:
    """One move (or a note) through its service, then back to the detail (post/redirect/get).
    A move the life cycle refuses is a message; invalid input re-renders the form."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    referral = _referral_or_404(request, public_id)
    detail = redirect("portal:referral_detail", public_id=referral.public_id)
    form = _action_form(action, request.POST)
    if form.is_valid():
        try:
            ACTIONS[action].run(request.user, referral, form.cleaned_data)
        except Conflict as exc:
            messages.error(request, exc.message)
            return detail
        except (NotFound, Forbidden) as exc:
            _raise_http(exc)
        except DomainError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, ACTIONS[action].done)
            return detail
    if not _allowed(action, referral):
        # The form is not on the page any more (the referral moved on): say so instead.
        messages.error(
            request,
            f"This referral is {referral.get_status_display().lower()}: nothing was changed.",
        )
        return detail
    return _render_detail(request, referral, organization, bound=(action, form), status=400)


# --- capacity -------------------------------------------------------------------------------


def _service_at_locations(organization: Organization):
    """The organization's services at their locations, with the live figure (one query)."""
    return (
        ServiceAtLocation.objects.filter(service__organization=organization)
        .select_related("service", "location", "capacity")
        .order_by("service__name", "location__name", "id")
    )


def _capacity_of(sal: ServiceAtLocation) -> Capacity | None:
    try:
        return sal.capacity
    except Capacity.DoesNotExist:
        return None


def _capacity_form(sal: ServiceAtLocation, data=None) -> CapacityForm:
    capacity = _capacity_of(sal)
    initial = {"unit": "beds"}
    if capacity is not None:
        initial = {"available": capacity.available, "total": capacity.total, "unit": capacity.unit}
    return CapacityForm(data, initial=initial, auto_id=f"cap-{sal.public_id}-%s")


def _render_capacity(
    request: HttpRequest,
    organization: Organization,
    *,
    bound: tuple[int, CapacityForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    rows = []
    for sal in _service_at_locations(organization):
        form = bound[1] if bound and bound[0] == sal.pk else _capacity_form(sal)
        rows.append({"sal": sal, "capacity": _capacity_of(sal), "form": form})
    return render(
        request,
        "resources/portal/capacity.html",
        {"organization": organization, "rows": rows, "section": "capacity"},
        status=status,
    )


@never_cache
@require_GET
@partner_required
def capacity(request: HttpRequest, *, organization: Organization) -> HttpResponse:
    return _render_capacity(request, organization)


@never_cache
@require_POST
@partner_required
def capacity_update(
    request: HttpRequest, public_id: UUID, *, organization: Organization
) -> HttpResponse:
    sal = _service_at_locations(organization).filter(public_id=public_id).first()
    if sal is None:
        raise Http404("No such service at a location of your organization.")
    form = _capacity_form(sal, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            updated = services.capacity_update(
                service_at_location=sal,
                available=data["available"],
                total=data["total"],
                unit=data["unit"],
                note=data["note"],
                by=request.user,
            )
        except DomainError as exc:
            _raise_http(exc)
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                f"Capacity updated: {updated.available} of {updated.total} {updated.unit} "
                "available.",
            )
            return redirect(reverse("portal:capacity") + f"#sal-{sal.public_id}")
    return _render_capacity(request, organization, bound=(sal.pk, form), status=400)


# --- webhooks -------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@partner_required
def webhook_list(request: HttpRequest, *, organization: Organization) -> HttpResponse:
    """The organization's endpoints, and a form to add one. The new endpoint's secret is on
    the response to the POST and nowhere else: not in a message, a URL or a later page (a
    reload re-posts, and the service refuses the same URL twice)."""
    created: WebhookEndpoint | None = None
    status = 200
    form = WebhookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            try:
                created = webhooks.endpoint_create(
                    organization=organization, url=form.cleaned_data["url"], by=request.user
                )
            except DomainError as exc:
                _raise_http(exc)
                _add_errors(form, exc)
                status = 400
            else:
                form = WebhookForm()
        else:
            status = 400
    endpoints = WebhookEndpoint.objects.filter(organization=organization).order_by(
        "created_at", "id"
    )
    return render(
        request,
        "resources/portal/webhooks.html",
        {
            "organization": organization,
            "endpoints": endpoints,
            "form": form,
            "created": created,
            "section": "webhooks",
        },
        status=status,
    )
