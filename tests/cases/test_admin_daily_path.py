"""The desk's daily path, without a browser: inline rows headed by something meaningful (or
nothing), one local-time format on the dashboard and in every list, dates that do not break,
and the supervisor's decision on an addendum (approve, or reject with a reason).

The referral add page's way to the refer panel: tests/cases/test_admin_dashboard.py. The
supervisor's walk in Chromium: tests/cases/test_admin_supervisor_browser.py."""

import re
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.template.loader import get_template
from django.test import RequestFactory
from django.utils import timezone
from django.utils.html import strip_tags

from acs.errors import Conflict, DomainError, Forbidden
from acs.local_times import is_time_field, when
from cases.models import Addendum, ContactAttempt, EncounterResident, FollowUp
from cases.selectors import work_queues
from cases.services import addendum_approve, addendum_reject
from tests.cases.helpers import dispatched_call, submitted_encounter
from tests.factories import (
    AddressFactory,
    LocationFactory,
    PhoneFactory,
    ResidentFactory,
    ScheduleFactory,
    UnitFactory,
)
from tests.resources.referral_helpers import referrable_service, referral_in

pytestmark = pytest.mark.django_db

# Django's default heading of an inline row, and our opaque names (kind + 8 hex digits).
DEFAULT_HEADING = re.compile(r"\bobject \(\d+\)")
OPAQUE = re.compile(r"\b(Resident|Encounter|Referral|Addendum|follow-up) [0-9a-f]{8}\b")
# Moments in another format than the desk's: ISO with a time, or the locale's long form.
OTHER_TIME_FORMATS = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}|\b[ap]\.m\.")


def result_list(html: str) -> str:
    start = html.index('id="result_list"')
    return html[start : html.index("</table>", start)]


# --- 1. inline rows ------------------------------------------------------------------------


def test_every_inline_of_the_admin_uses_the_templates_that_never_print_str():
    project = str(Path(settings.BASE_DIR) / "templates")
    inlines = [
        inline for model_admin in admin.site._registry.values() for inline in model_admin.inlines
    ]
    assert len(inlines) > 10
    for inline in inlines:
        origin = get_template(inline.template).origin.name
        assert origin.startswith(project), (inline.__name__, origin)


@pytest.fixture
def records(case_manager, responder, unit, agency_a):
    """One record of each kind with inline rows, as the desk meets them."""
    resident = ResidentFactory(preferred_name="Sunny", legal_name="Maria Lopez")
    call = dispatched_call(unit)
    encounter = submitted_encounter(unit, responder, call=call)
    EncounterResident.objects.create(encounter=encounter, resident=resident)
    Addendum.objects.create(encounter=encounter, author=responder, text="Called back later")
    now = timezone.now()
    follow_up = FollowUp.objects.create(
        resident=resident,
        kind=FollowUp.Kind.PHONE,
        due_at=now - timedelta(hours=2),
        window_ends_at=now + timedelta(days=5),
        assignee=case_manager,
    )
    ContactAttempt.objects.create(
        follow_up=follow_up, at=now, channel="phone", outcome="no_answer", by=case_manager
    )
    service, sal = referrable_service(agency_a, last_verified_at=now - timedelta(days=3))
    referral = referral_in("accepted", service=service, resident=resident, created_by=case_manager)
    location = LocationFactory(organization=agency_a)
    AddressFactory(location=location)
    ScheduleFactory(location=location)
    PhoneFactory(organization=agency_a)
    return {
        "encounter": f"/admin/cases/encounter/{encounter.pk}/change/",
        "follow_up": f"/admin/cases/followup/{follow_up.pk}/change/",
        "call": f"/admin/cases/call/{call.pk}/change/",
        "referral": f"/admin/resources/referral/{referral.pk}/change/",
        "organization": f"/admin/resources/organization/{agency_a.pk}/change/",
        "service": f"/admin/resources/service/{service.pk}/change/",
        "location": f"/admin/resources/location/{location.pk}/change/",
        "service_at_location": f"/admin/resources/serviceatlocation/{sal.pk}/change/",
    }


@pytest.mark.parametrize(
    "page",
    [
        "encounter",
        "follow_up",
        "call",
        "referral",
        "organization",
        "service",
        "location",
        "service_at_location",
    ],
)
def test_inline_rows_are_never_headed_by_django_default_or_opaque_names(
    client, admin_user, records, page
):
    client.force_login(admin_user)
    html = client.get(records[page]).content.decode()

    assert "inline-group" in html  # the page has its inlines
    assert not DEFAULT_HEADING.search(html), DEFAULT_HEADING.search(html).group(0)
    assert not OPAQUE.search(html), OPAQUE.search(html).group(0)


def test_the_people_met_are_rows_without_a_heading_their_names_in_the_columns(
    client, admin_user, records
):
    client.force_login(admin_user)
    html = client.get(records["encounter"]).content.decode()
    people = html[html.index('id="people-group"') : html.index('id="addenda-group"')]
    assert "no-row-heading" in people and "Sunny (Maria Lopez)" in strip_tags(people)
    addenda = html[html.index('id="addenda-group"') :]
    assert "Awaiting a supervisor" in addenda


def test_a_stacked_inline_numbers_its_rows_when_nothing_names_them(client, admin_user, records):
    client.force_login(admin_user)
    html = client.get(records["location"]).content.decode()
    assert re.search(r'<span class="inline_label">#1', html)


# --- 2. one local-time format ---------------------------------------------------------------


def test_no_admin_list_shows_a_date_field_in_djangos_own_format(admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        for column in model_admin.get_list_display(request):
            assert not is_time_field(model, column), (model_admin, column)


def test_the_dashboard_and_the_lists_print_a_moment_the_same_way(client, case_manager, records):
    follow_up = FollowUp.objects.get()
    shown = when(follow_up.due_at)
    client.force_login(case_manager)

    dashboard = client.get("/admin/").content.decode()
    listed = client.get("/admin/cases/followup/").content.decode()

    queue = dashboard[dashboard.index('id="queue-my_follow_ups"') :]
    iso = timezone.localtime(follow_up.due_at).isoformat()
    assert f'<time class="nowrap" datetime="{iso}">{shown}</time>' in queue
    assert f'<time class="nowrap" datetime="{iso}">{shown}</time>' in result_list(listed)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/cases/followup/",
        "/admin/cases/encounter/",
        "/admin/cases/addendum/",
        "/admin/cases/call/",
        "/admin/cases/resident/",
        "/admin/resources/referral/",
        "/admin/resources/service/",
        "/admin/acs/auditevent/",
        "/admin/responders/user/",
    ],
)
def test_lists_print_moments_in_the_desks_format(client, admin_user, records, url):
    client.force_login(admin_user)
    client.get(records["follow_up"])  # an audit event to list
    rows = result_list(client.get(url).content.decode())
    assert "<time" in rows, url
    assert not OTHER_TIME_FORMATS.search(strip_tags(rows)), OTHER_TIME_FORMATS.search(
        strip_tags(rows)
    ).group(0)


def test_the_dashboard_no_longer_prints_iso_moments(client, case_manager, records):
    client.force_login(case_manager)
    html = client.get("/admin/").content.decode()
    dashboard = strip_tags(html[html.index('id="dashboard"') :])
    assert not OTHER_TIME_FORMATS.search(dashboard)


# --- 3. dates kept whole ----------------------------------------------------------------------


def test_a_date_of_birth_in_the_residents_list_does_not_break_at_its_hyphen(client, case_manager):
    ResidentFactory(preferred_name="Sunny", date_of_birth=date(1984, 3, 2))
    client.force_login(case_manager)
    html = client.get("/admin/cases/resident/").content.decode()

    rows = result_list(html)
    assert '<span class="nowrap">1984-03-02</span>' in rows
    assert '<time class="nowrap" datetime=' in rows  # "Added on"
    assert "css/admin_site.css" in html
    css = (Path(settings.BASE_DIR) / "static/css/admin_site.css").read_text()
    assert re.search(r"\.nowrap[^{]*\{\s*white-space:\s*nowrap", css)


def test_a_name_with_markup_is_escaped_where_dates_are_kept_whole(client, case_manager):
    ResidentFactory(preferred_name="<b>Sunny</b>", date_of_birth=date(1984, 3, 2))
    client.force_login(case_manager)
    rows = result_list(client.get("/admin/cases/resident/").content.decode())
    assert "<b>Sunny" not in rows and "&lt;b&gt;Sunny" in rows


# --- 5. the supervisor's decision on an addendum -------------------------------------------


@pytest.fixture
def pending(responder, unit):
    encounter = submitted_encounter(unit, responder)
    return Addendum.objects.create(encounter=encounter, author=responder, text="Called back")


def test_a_supervisor_rejects_an_addendum_with_a_reason_and_it_leaves_the_queue(
    supervisor, pending
):
    assert list(work_queues.addenda_awaiting_approval(supervisor)) == [pending]

    addendum_reject(actor=supervisor, addendum=pending, reason="Wrong resident")

    pending.refresh_from_db()
    assert (pending.rejected_by, pending.rejection_reason) == (supervisor, "Wrong resident")
    assert pending.approved_at is None
    assert list(work_queues.addenda_awaiting_approval(supervisor)) == []


def test_a_rejection_needs_a_reason(supervisor, pending):
    with pytest.raises(DomainError) as refused:
        addendum_reject(actor=supervisor, addendum=pending, reason="   ")
    assert refused.value.fields == {"reason": ["Give a reason."]}


def test_only_a_supervisor_of_the_team_rejects_and_never_their_own(
    supervisor, case_manager, pending
):
    other_team = UnitFactory(call_sign="ACS-88")
    theirs = Addendum.objects.create(
        encounter=submitted_encounter(other_team, case_manager), author=case_manager, text="x"
    )
    own = Addendum.objects.create(encounter=pending.encounter, author=supervisor, text="y")
    for actor, addendum in [(case_manager, pending), (supervisor, theirs), (supervisor, own)]:
        with pytest.raises(Forbidden):
            addendum_reject(actor=actor, addendum=addendum, reason="No")


def test_a_decided_addendum_is_not_decided_again(supervisor, pending, responder, unit):
    addendum_reject(actor=supervisor, addendum=pending, reason="Wrong resident")
    with pytest.raises(Conflict):
        addendum_approve(actor=supervisor, addendum=pending)
    with pytest.raises(Conflict):
        addendum_reject(actor=supervisor, addendum=pending, reason="Again")
    approved = Addendum.objects.create(
        encounter=submitted_encounter(unit, responder), author=responder, text="ok"
    )
    addendum_approve(actor=supervisor, addendum=approved)
    with pytest.raises(Conflict):
        addendum_reject(actor=supervisor, addendum=approved, reason="Too late")


def test_the_database_refuses_an_addendum_both_approved_and_rejected(supervisor, pending):
    from django.db import IntegrityError

    now = timezone.now()
    with pytest.raises(IntegrityError):
        Addendum.objects.filter(pk=pending.pk).update(
            approved_at=now, approved_by=supervisor, rejected_at=now, rejection_reason="x"
        )


def test_rejecting_from_the_page_returns_to_the_queue_with_a_message(client, supervisor, pending):
    client.force_login(supervisor)
    page = client.get(f"/admin/cases/addendum/{pending.pk}/change/").content.decode()
    assert "Approve this addendum" in page and "Reject with this reason" in page

    empty = client.post(f"/admin/cases/addendum/{pending.pk}/reject/", {"reason": ""})
    done = client.post(
        f"/admin/cases/addendum/{pending.pk}/reject/",
        {"reason": "Belongs to another encounter"},
        follow=True,
    )

    assert empty.status_code == 200 and "This field is required" in empty.content.decode()
    assert done.redirect_chain == [("/admin/#queue-addenda_to_approve", 302)]
    text = strip_tags(done.content.decode())
    assert "Rejected: Addendum by responder" in text
    assert "No addendum waits for you." in text
    after = client.get(f"/admin/cases/addendum/{pending.pk}/change/").content.decode()
    assert "Rejected by supervisor" in after and "Belongs to another encounter" in after
    assert "Reject with this reason" not in after


def test_approving_from_the_page_returns_to_the_queue_with_a_message(client, supervisor, pending):
    client.force_login(supervisor)
    done = client.post(f"/admin/cases/addendum/{pending.pk}/approve/", follow=True)
    assert done.redirect_chain == [("/admin/#queue-addenda_to_approve", 302)]
    assert "Approved: Addendum by responder" in strip_tags(done.content.decode())


def test_the_responder_reads_the_rejection_on_the_field_app(client, supervisor, responder, pending):
    addendum_reject(actor=supervisor, addendum=pending, reason="Wrong resident")
    client.force_login(responder)
    html = client.get(f"/field/encounters/{pending.encounter.public_id}/").content.decode()
    assert "not approved" in html and "Wrong resident" in html


def test_the_morning_digest_counts_no_rejected_addendum(supervisor, pending):
    from cases.services.digests import _addenda_waiting

    assert _addenda_waiting() == {supervisor.pk: 1}
    addendum_reject(actor=supervisor, addendum=pending, reason="Wrong resident")
    assert _addenda_waiting() == {}


def test_the_admin_log_keeps_the_opaque_name(client, supervisor, pending):
    """The inline's and list's labels are for screens; LogEntry copies stay opaque."""
    assert str(pending).startswith("Addendum ") and len(str(pending)) == len("Addendum ") + 8
    assert uuid.UUID(str(pending.public_id))
