"""The access matrix for writes and single records, cell by cell: every role against every
write and every one-record endpoint, through the API, the field pages and the admin
(docs/security.md, "Writes and single records", shows the same table).

A cell is "ok", "no" or "404":

- "ok": served, 2xx (or the admin's redirect after a save), and for a write the row is in the
  database afterwards;
- "no": refused because of who asks, with the exact answer of that surface: 401 for the API
  without credentials (and for CAD's bearer-only endpoints whatever session is signed in),
  403 for a signed-in role that may not; for pages the redirect to the sign-in page when not
  signed in (the admin's own sign-in for non-staff), 403 for a signed-in role that may not;
- "404": the role may use the surface, but this record is out of its reach (a resident the
  responder never met, another organization's referral), answered as for a missing record;
  nothing is written.

Each cell builds only the records its surface needs, through the services and factories.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from functools import cached_property

import pytest
from django.test import Client
from django.utils import timezone

from acs.roles import Role
from tests.acs.test_access_matrix import ROLES, client_for
from tests.factories import CallFactory, UnitFactory, UserFactory
from tests.resources.referral_helpers import referrable_service, referral_in

pytestmark = pytest.mark.django_db

STAFF = {"case_manager", "supervisor", "admin_user"}
FIELD = {"responder", *STAFF}


def cells(ok=(), not_found=()) -> dict[str, str]:
    """The row of the table: every role "no" unless named."""
    row = dict.fromkeys(ROLES, "no")
    row.update(dict.fromkeys(ok, "ok"))
    row.update(dict.fromkeys(not_found, "404"))
    return row


class World:
    """The records of one cell, each built on first use (services and factories)."""

    def __init__(self, request):
        self.request = request

    def persona(self, name):
        return self.request.getfixturevalue(name)

    @cached_property
    def responder(self):
        return self.persona("responder")

    @cached_property
    def unit(self):
        return self.persona("unit")

    @cached_property
    def agency_a(self):
        return self.persona("agency_a")

    @cached_property
    def agency_b(self):
        return self.persona("agency_b")

    @cached_property
    def other_unit(self):
        return UnitFactory(call_sign="ACS-99")

    @cached_property
    def other_responder(self):
        user = UserFactory(username="other-responder", role=Role.RESPONDER)
        self.other_unit.members.add(user)
        return user

    def _met(self, responder, call_sign, *, submit=False):
        """A resident `responder` created and met on an encounter of their unit."""
        from cases import services
        from responders.models import Unit

        resident = services.resident_create(
            actor=responder,
            data={"preferred_name": f"Met by {responder.username}"},
            confirm_new=True,
        )
        encounter, _ = services.encounter_create(
            actor=responder,
            client_id=uuid.uuid4(),
            unit=Unit.objects.get(call_sign=call_sign),
            call=None,
            data={"disposition": "settled_by_contact"},
            resident_ids=[resident.public_id],
        )
        if submit:
            encounter = services.encounter_submit(actor=responder, encounter=encounter)
        return resident, encounter

    @cached_property
    def met(self):
        """(resident, draft encounter) of the responder."""
        return self._met(self.responder, self.unit.call_sign)

    @cached_property
    def submitted(self):
        """(resident, submitted encounter) of the responder."""
        return self._met(self.responder, self.unit.call_sign, submit=True)

    @cached_property
    def not_met(self):
        """(resident, draft encounter) of another unit: out of the responder's reach."""
        return self._met(self.other_responder, "ACS-99")

    def consent_of(self, which):
        """A consent to share with partners, of the resident met or never met."""
        from cases import services
        from cases.models import Consent

        resident = getattr(self, which)[0]
        return services.consent_record(
            actor=self.responder if which == "met" else self.other_responder,
            resident=resident,
            scope=Consent.Scope.SHARE_PARTNERS,
            method=Consent.Method.VERBAL,
            organization=None,
            encounter=None,
            expires_at=None,
        )

    @cached_property
    def not_met_submitted(self):
        """(resident, submitted encounter) of another unit."""
        return self._met(self.other_responder, "ACS-99", submit=True)

    def addendum(self, which):
        """An addendum by the encounter's author on the submitted encounter of the responder's
        unit (the supervisor's team) or of another unit (another team)."""
        from cases import services

        encounter = getattr(self, which)[1]
        return services.addendum_add(
            actor=encounter.created_by, encounter=encounter, text="Matrix addendum"
        )

    @cached_property
    def service_a(self):
        return referrable_service(self.agency_a)

    @cached_property
    def service_b(self):
        return referrable_service(self.agency_b)

    def referral(self, status, *, agency="a", created_by=None):
        service = (self.service_a if agency == "a" else self.service_b)[0]
        return referral_in(
            status,
            service=service,
            resident=self.met[0],
            created_by=created_by or self.responder,
        )

    @cached_property
    def follow_up(self):
        from cases import services

        resident, encounter = self.submitted
        follow_up, _ = services.follow_up_request(
            actor=self.responder,
            encounter=encounter,
            resident=resident,
            kind="phone",
            due_at=timezone.now() + timedelta(days=1),
        )
        return follow_up

    def export(self, requested_by):
        from cases.exports.services import export_request, export_run

        self.request.getfixturevalue("settings").EXPORTS_ROOT = (
            self.request.getfixturevalue("tmp_path") / "exports"
        )
        today = timezone.localdate()
        job = export_request(
            actor=requested_by,
            kind="residents_csv",
            start_date=today - timedelta(days=7),
            end_date=today,
            redaction="no_direct_identifiers",
        )
        job = export_run(job_id=job.pk)
        assert job.status == "done", job.error
        return job

    @cached_property
    def other_case_manager(self):
        return UserFactory(username="other-casemanager", role=Role.CASE_MANAGER)


def count(model_path: str, **filters) -> int:
    from django.apps import apps

    return apps.get_model(model_path).objects.filter(**filters).count()


# --- the surfaces ----------------------------------------------------------------------------
# Each: kind ("api", "cad", "page", "field form", "admin"), the row, and a function of the world
# returning (method, path, body, proof): proof() is true once the write happened, None for a
# read, or for a step that writes nothing (the admin's compare) the page it must lead to.


class Surface:
    def __init__(self, kind, row, build):
        self.kind, self.row, self.build = kind, row, build


def _now():
    return timezone.now().isoformat()


def cad_upsert(w):
    body = {"call_type": "WELFARE", "priority": 3, "source": "911", "received_at": _now()}
    proof = lambda: count("cases.Call", incident_number="T-900")  # noqa: E731
    return "put", "/api/v1/cad/calls/T-900", body, proof


def cad_event(w):
    call = CallFactory(incident_number="T-901")
    body = {"event_id": str(uuid.uuid4()), "type": "dispatched", "unit": w.unit.call_sign}
    body["at"] = _now()
    return (
        "post",
        f"/api/v1/cad/calls/{call.incident_number}/events",
        body,
        lambda: count("cases.UnitAssignment", call=call, unit=w.unit),
    )


def unit_status(whose):
    def build(w):
        call_sign = w.unit.call_sign if whose == "mine" else w.other_unit.call_sign
        body = {"event_id": str(uuid.uuid4()), "status": "out_of_service", "at": _now()}
        return (
            "post",
            f"/api/v1/field/units/{call_sign}/status",
            body,
            lambda: count("responders.Unit", call_sign=call_sign, status="out_of_service"),
        )

    return build


def resident_create(w):
    body = {"preferred_name": "Matrix New Person", "confirm_new": True}
    return (
        "post",
        "/api/v1/field/residents",
        body,
        lambda: count("cases.Resident", preferred_name="Matrix New Person"),
    )


def resident_get(which):
    def build(w):
        resident = getattr(w, which)[0]
        return "get", f"/api/v1/field/residents/{resident.public_id}", None, None

    return build


def resident_patch(which):
    def build(w):
        resident = getattr(w, which)[0]
        return (
            "patch",
            f"/api/v1/field/residents/{resident.public_id}",
            {"where_to_find_me": "Matrix corner"},
            lambda: count("cases.Resident", pk=resident.pk, where_to_find_me="Matrix corner"),
        )

    return build


def consent_record(which):
    def build(w):
        resident = getattr(w, which)[0]
        return (
            "post",
            f"/api/v1/field/residents/{resident.public_id}/consents",
            {"scope": "sms", "method": "verbal"},
            lambda: count("cases.Consent", resident=resident, scope="sms"),
        )

    return build


def consent_revoke(which):
    def build(w):
        consent = w.consent_of(which)
        resident = consent.resident
        return (
            "post",
            f"/api/v1/field/residents/{resident.public_id}/consents/{consent.public_id}/revoke",
            None,
            lambda: count("cases.Consent", pk=consent.pk, revoked_at__isnull=False),
        )

    return build


def encounter_create(w):
    client_id = uuid.uuid4()
    body = {"client_id": str(client_id), "unit": w.unit.call_sign, "narrative": "Matrix"}
    return (
        "post",
        "/api/v1/field/encounters",
        body,
        lambda: count("cases.Encounter", client_id=client_id),
    )


def encounter_get(which):
    def build(w):
        encounter = getattr(w, which)[1]
        return "get", f"/api/v1/field/encounters/{encounter.public_id}", None, None

    return build


def encounter_patch(which):
    def build(w):
        encounter = getattr(w, which)[1]
        return (
            "patch",
            f"/api/v1/field/encounters/{encounter.public_id}",
            {"narrative": "Matrix edit"},
            lambda: count("cases.Encounter", pk=encounter.pk, narrative="Matrix edit"),
        )

    return build


def encounter_submit(which):
    def build(w):
        encounter = getattr(w, which)[1]
        return (
            "post",
            f"/api/v1/field/encounters/{encounter.public_id}/submit",
            None,
            lambda: count("cases.Encounter", pk=encounter.pk, status="submitted"),
        )

    return build


def addendum_add(which):
    def build(w):
        encounter = getattr(w, which)[1]
        return (
            "post",
            f"/api/v1/field/encounters/{encounter.public_id}/addenda",
            {"text": "Matrix addendum"},
            lambda: count("cases.Addendum", encounter=encounter, text="Matrix addendum"),
        )

    return build


def follow_up_ask(which):
    def build(w):
        resident, encounter = getattr(w, which)
        return (
            "post",
            f"/api/v1/field/encounters/{encounter.public_id}/follow-ups",
            {"resident": str(resident.public_id), "kind": "phone", "due_at": _now()},
            lambda: count("cases.FollowUp", encounter=encounter, resident=resident),
        )

    return build


def referral_create(which):
    def build(w):
        resident = w.consent_of(which).resident  # consented to sharing with partners
        client_id = uuid.uuid4()
        body = {
            "client_id": str(client_id),
            "resident": str(resident.public_id),
            "service": str(w.service_a[0].public_id),
            "reason": "Needs a bed",
        }
        return (
            "post",
            "/api/v1/field/referrals",
            body,
            lambda: count("resources.Referral", client_id=client_id),
        )

    return build


def referral_get(created_by):
    def build(w):
        author = w.responder if created_by == "responder" else w.other_responder
        referral = w.referral("sent", created_by=author)
        return "get", f"/api/v1/field/referrals/{referral.public_id}", None, None

    return build


def referral_move(method, path, agency, status, body, to_status):
    """A partner's move on a referral of `agency` in `status` (API or portal: `method` and
    `path`, with `{id}` for the referral); proven by the referral reaching `to_status`."""

    def build(w):
        referral = w.referral(status, agency=agency)
        return (
            method,
            path.format(id=referral.public_id),
            body,
            lambda: count("resources.Referral", pk=referral.pk, status=to_status),
        )

    return build


def referral_note(method, path, agency):
    """A partner's note on an accepted referral of `agency`, proven by the thread."""

    def build(w):
        referral = w.referral("accepted", agency=agency)
        note = f"Matrix note ({method})"
        return (
            method,
            path.format(id=referral.public_id),
            {"note": note},
            lambda: count("resources.ReferralEvent", referral=referral, note=note),
        )

    return build


def partner_action(action, agency, status, body, to_status):
    return referral_move(
        "post", f"/api/v1/referrals/{{id}}/{action}", agency, status, body, to_status
    )


def partner_notes(agency):
    return referral_note("post", "/api/v1/referrals/{id}/notes", agency)


def partner_detail(agency, status="sent"):
    def build(w):
        referral = w.referral(status, agency=agency)
        return "get", f"/api/v1/referrals/{referral.public_id}", None, None

    return build


def capacity_put(agency):
    def build(w):
        sal = (w.service_a if agency == "a" else w.service_b)[1]
        return (
            "put",
            f"/api/v1/capacity/{sal.public_id}",
            {"available": 3, "total": 7},
            lambda: count("resources.Capacity", service_at_location=sal, available=3),
        )

    return build


def portal_detail(agency):
    def build(w):
        referral = w.referral("sent", agency=agency)
        return "get", f"/partners/referrals/{referral.public_id}/", None, None

    return build


def portal_accept(agency):
    def build(w):
        referral = w.referral("sent", agency=agency)
        return (
            "form",
            f"/partners/referrals/{referral.public_id}/accept/",
            {"note": ""},
            lambda: count("resources.Referral", pk=referral.pk, status="accepted"),
        )

    return build


def portal_capacity(agency):
    def build(w):
        sal = (w.service_a if agency == "a" else w.service_b)[1]
        return (
            "form",
            f"/partners/capacity/{sal.public_id}/",
            {"available": "4", "total": "9", "unit": "beds"},
            lambda: count("resources.Capacity", service_at_location=sal, available=4),
        )

    return build


def portal_move(action, agency, status, body, to_status):
    return referral_move(
        "form", f"/partners/referrals/{{id}}/{action}/", agency, status, body, to_status
    )


def portal_note(agency):
    return referral_note("form", "/partners/referrals/{id}/note/", agency)


def portal_webhook(w):
    w.request.getfixturevalue("settings").WEBHOOK_ALLOW_PRIVATE_HOSTS = True  # no DNS here
    url = "https://hooks.example.org/matrix"
    return (
        "form",
        "/partners/webhooks/",
        {"url": url},
        lambda: count("resources.WebhookEndpoint", url=url),
    )


def field_form_encounter(w):
    client_id = uuid.uuid4()
    body = {
        "client_id": str(client_id),
        "unit": w.unit.call_sign,
        "narrative": "Matrix no-script",
        "disposition": "settled_by_contact",
    }
    return (
        "form",
        "/field/encounters/new",
        body,
        lambda: count("cases.Encounter", client_id=client_id, status="submitted"),
    )


def consent_list(which):
    def build(w):
        resident = getattr(w, which)[0]
        return "get", f"/api/v1/field/residents/{resident.public_id}/consents", None, None

    return build


def field_home(w):
    return "get", "/field/", None, None


def field_resident(which):
    def build(w):
        return "get", f"/field/residents/{getattr(w, which)[0].public_id}/", None, None

    return build


def field_encounter_page(which):
    def build(w):
        return "get", f"/field/encounters/{getattr(w, which)[1].public_id}/", None, None

    return build


def field_note(which):
    def build(w):
        encounter = getattr(w, which)[1]
        return (
            "form",
            f"/field/encounters/{encounter.public_id}/notes",
            {"text": "Matrix note"},
            lambda: count("cases.Addendum", encounter=encounter, text="Matrix note"),
        )

    return build


def admin_resident_change(w):
    return "get", f"/admin/cases/resident/{w.not_met[0].pk}/change/", None, None


def admin_consent(w):
    resident = w.not_met[0]
    return (
        "form",
        f"/admin/cases/resident/{resident.pk}/consent/",
        {"scope": "email", "method": "written"},
        lambda: count("cases.Consent", resident=resident, scope="email"),
    )


def admin_follow_up_change(w):
    return "get", f"/admin/cases/followup/{w.follow_up.pk}/change/", None, None


def admin_follow_up_reassign(w):
    follow_up = w.follow_up
    assignee = w.persona("case_manager")
    body = {
        "action": "reassign",
        "_selected_action": [str(follow_up.pk)],
        "apply": "1",
        "assignee": str(assignee.pk),
    }
    return (
        "form",
        "/admin/cases/followup/",
        body,
        lambda: count("cases.FollowUp", pk=follow_up.pk, assignee=assignee),
    )


def admin_addendum_add(w):
    encounter = w.submitted[1]
    return (
        "form",
        f"/admin/cases/encounter/{encounter.pk}/addendum/",
        {"text": "Matrix addendum"},
        lambda: count("cases.Addendum", encounter=encounter, text="Matrix addendum"),
    )


def admin_addendum_approve(which):
    def build(w):
        addendum = w.addendum(which)
        return (
            "form",
            f"/admin/cases/addendum/{addendum.pk}/approve/",
            {},
            lambda: count("cases.Addendum", pk=addendum.pk, approved_at__isnull=False),
        )

    return build


def export_download(whose):
    def build(w):
        author = w.persona("case_manager") if whose == "mine" else w.other_case_manager
        job = w.export(author)
        return "get", f"/admin/cases/exportjob/{job.public_id}/download/", None, None

    return build


def admin_compare_two(w):
    a, b = w.not_met[0], w.met[0]
    body = {"action": "compare_two", "_selected_action": [str(a.pk), str(b.pk)]}
    low, high = sorted([a.pk, b.pk])
    return "form", "/admin/cases/resident/", body, f"/admin/cases/resident/merge/{low}/{high}/"


def admin_merge(w):
    from cases.services.residents import MERGE_VALUE_FIELDS

    a, b = w.not_met[0], w.met[0]
    body = {"survivor": "a"}
    body.update(
        {
            f"value_{name}": "a"
            for name in MERGE_VALUE_FIELDS
            if getattr(a, name) != getattr(b, name)
        }
    )
    return (
        "form",
        f"/admin/cases/resident/merge/{a.pk}/{b.pk}/",
        body,
        lambda: count("cases.ResidentMerge", survivor=a, duplicate=b),
    )


def admin_undo_merge(w):
    from cases import services

    merge = services.resident_merge(
        actor=w.persona("case_manager"), survivor=w.not_met[0], duplicate=w.met[0]
    )
    body = {"action": "undo", "_selected_action": [str(merge.pk)]}
    return (
        "form",
        "/admin/cases/residentmerge/",
        body,
        lambda: count("cases.ResidentMerge", pk=merge.pk, undone_at__isnull=False),
    )


def admin_contact_attempt(w):
    follow_up = w.follow_up
    body = {"follow_up": str(follow_up.pk), "channel": "phone", "outcome": "no_answer"}
    return (
        "form",
        f"/admin/cases/resident/{follow_up.resident_id}/contact-attempt/",
        body,
        lambda: count("cases.ContactAttempt", follow_up=follow_up, outcome="no_answer"),
    )


def admin_follow_up_close(w):
    follow_up = w.follow_up
    body = {
        "action": "close_with_outcome",
        "_selected_action": [str(follow_up.pk)],
        "apply": "1",
        "outcome": "declined",
    }
    return (
        "form",
        "/admin/cases/followup/",
        body,
        lambda: count("cases.FollowUp", pk=follow_up.pk, status="closed", outcome="declined"),
    )


def export_ask(w):
    today = timezone.localdate()
    body = {
        "kind": "residents_csv",
        "start_date": (today - timedelta(days=7)).isoformat(),
        "end_date": today.isoformat(),
        "redaction": "no_direct_identifiers",
    }
    return "form", "/admin/cases/exportjob/add/", body, lambda: count("cases.ExportJob")


def audit_event_change(w):
    from acs.models import AuditEvent

    resident = w.not_met[0]  # its creation is an audit event
    event = AuditEvent.objects.filter(target_id=str(resident.public_id)).first()
    return "get", f"/admin/acs/auditevent/{event.pk}/change/", None, None


def audit_user_search(w):
    return "get", "/admin/acs/auditevent/actors/?term=resp", None, None


def token_issue(w):
    body = {"kind": "cad", "name": "matrix-issued", "expires_in_days": "30"}
    return (
        "form",
        "/admin/acs/apitoken/issue/",
        body,
        lambda: count("acs.ApiToken", name="matrix-issued"),
    )


def token_action(action):
    def build(w):
        from acs.tokens import token_issue

        row, _ = token_issue(role=Role.PARTNER_USER, name="matrix-target", organization=w.agency_a)
        body = {"action": action, "_selected_action": [str(row.pk)]}
        return (
            "form",
            "/admin/acs/apitoken/",
            body,
            lambda: count("acs.ApiToken", pk=row.pk, revoked_at__isnull=False),
        )

    return build


def directory_service_change(w):
    """The change form of agency A's service as the admin sees it, with the name changed."""
    service = w.service_a[0]
    path = f"/admin/resources/service/{service.pk}/change/"
    admin = Client()
    admin.force_login(w.persona("admin_user"))
    context = admin.get(path).context
    form = context["adminform"].form
    body = {}
    for field in form:
        value = field.value()
        if value is None:
            continue
        widget = field.field.widget
        if hasattr(widget, "widgets"):  # split date and time
            parts = widget.decompress(value)
            body.update({f"{field.html_name}_{i}": v or "" for i, v in enumerate(parts)})
        elif isinstance(value, list | tuple):
            body[field.html_name] = [str(v) for v in value]
        else:
            body[field.html_name] = value
    body["name"] = "Matrix renamed service"
    for inline in context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        body.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return (
        "form",
        path,
        body,
        lambda: count("resources.Service", pk=service.pk, name="Matrix renamed service"),
    )


PARTNER = {"partner_a"}
MATRIX: dict[str, Surface] = {
    "CAD: create or update a call": Surface("cad", cells({"cad_client"}), cad_upsert),
    "CAD: a unit status event": Surface("cad", cells({"cad_client"}), cad_event),
    "field: set my unit's status": Surface("api", cells({"responder"}), unit_status("mine")),
    "field: set another unit's status": Surface(
        "api", cells((), {"responder"}), unit_status("other")
    ),
    "field: create a resident": Surface("api", cells(FIELD), resident_create),
    "field: one resident met": Surface("api", cells(FIELD), resident_get("met")),
    "field: one resident never met": Surface(
        "api", cells(STAFF, {"responder"}), resident_get("not_met")
    ),
    "field: edit a resident met": Surface("api", cells(FIELD), resident_patch("met")),
    "field: edit a resident never met": Surface(
        "api", cells(STAFF, {"responder"}), resident_patch("not_met")
    ),
    "field: record consent (resident met)": Surface("api", cells(FIELD), consent_record("met")),
    "field: record consent (never met)": Surface(
        "api", cells(STAFF, {"responder"}), consent_record("not_met")
    ),
    "field: revoke consent (resident met)": Surface("api", cells(FIELD), consent_revoke("met")),
    "field: revoke consent (never met)": Surface(
        "api", cells(STAFF, {"responder"}), consent_revoke("not_met")
    ),
    "field: log an encounter": Surface("api", cells({"responder"}), encounter_create),
    "field: one encounter of my unit": Surface("api", cells(FIELD), encounter_get("met")),
    "field: one encounter of another unit": Surface(
        "api", cells(STAFF, {"responder"}), encounter_get("not_met")
    ),
    # The unit's account of what it saw: desk staff add addenda instead (403).
    "field: edit a draft encounter": Surface("api", cells({"responder"}), encounter_patch("met")),
    "field: edit another unit's draft": Surface(
        "api", cells((), {"responder"}), encounter_patch("not_met")
    ),
    "field: submit an encounter": Surface("api", cells({"responder"}), encounter_submit("met")),
    "field: submit another unit's encounter": Surface(
        "api", cells((), {"responder"}), encounter_submit("not_met")
    ),
    "field: add an addendum": Surface("api", cells(FIELD), addendum_add("submitted")),
    "field: add an addendum to another unit's": Surface(
        "api", cells(STAFF, {"responder"}), addendum_add("not_met_submitted")
    ),
    "field: ask for a follow-up": Surface("api", cells(FIELD), follow_up_ask("met")),
    "field: ask for a follow-up on another unit's": Surface(
        "api", cells(STAFF, {"responder"}), follow_up_ask("not_met")
    ),
    "field: refer a resident met": Surface("api", cells(FIELD), referral_create("met")),
    "field: refer a resident never met": Surface(
        "api", cells(STAFF, {"responder"}), referral_create("not_met")
    ),
    "field: one referral I made": Surface("api", cells(FIELD), referral_get("responder")),
    "field: one referral another unit made": Surface(
        "api", cells(STAFF, {"responder"}), referral_get("other")
    ),
    "partner: one referral of my organization": Surface("api", cells(PARTNER), partner_detail("a")),
    "partner: one referral of another organization": Surface(
        "api", cells((), PARTNER), partner_detail("b")
    ),
    "partner: a draft (unsent) referral of mine": Surface(
        "api", cells((), PARTNER), partner_detail("a", "draft")
    ),
    "partner: accept (mine)": Surface(
        "api", cells(PARTNER), partner_action("accept", "a", "sent", None, "accepted")
    ),
    "partner: accept (another organization's)": Surface(
        "api", cells((), PARTNER), partner_action("accept", "b", "sent", None, "accepted")
    ),
    "partner: decline (mine)": Surface(
        "api",
        cells(PARTNER),
        partner_action("decline", "a", "sent", {"reason": "Full"}, "declined"),
    ),
    "partner: decline (another organization's)": Surface(
        "api",
        cells((), PARTNER),
        partner_action("decline", "b", "sent", {"reason": "Full"}, "declined"),
    ),
    "partner: start (mine)": Surface(
        "api", cells(PARTNER), partner_action("start", "a", "accepted", None, "in_progress")
    ),
    "partner: start (another organization's)": Surface(
        "api", cells((), PARTNER), partner_action("start", "b", "accepted", None, "in_progress")
    ),
    "partner: complete (mine)": Surface(
        "api",
        cells(PARTNER),
        partner_action("complete", "a", "in_progress", {"outcome": "enrolled"}, "completed"),
    ),
    "partner: complete (another organization's)": Surface(
        "api",
        cells((), PARTNER),
        partner_action("complete", "b", "in_progress", {"outcome": "enrolled"}, "completed"),
    ),
    "partner: add a note (mine)": Surface("api", cells(PARTNER), partner_notes("a")),
    "partner: add a note (another organization's)": Surface(
        "api", cells((), PARTNER), partner_notes("b")
    ),
    "partner: capacity of my service": Surface("api", cells(PARTNER), capacity_put("a")),
    "partner: capacity of another organization's": Surface(
        "api", cells((), PARTNER), capacity_put("b")
    ),
    "portal: one referral of my organization": Surface("page", cells(PARTNER), portal_detail("a")),
    "portal: one referral of another organization": Surface(
        "page", cells((), PARTNER), portal_detail("b")
    ),
    "portal: accept (mine)": Surface("page", cells(PARTNER), portal_accept("a")),
    "portal: accept (another organization's)": Surface(
        "page", cells((), PARTNER), portal_accept("b")
    ),
    "portal: capacity of my service": Surface("page", cells(PARTNER), portal_capacity("a")),
    "portal: capacity of another organization's": Surface(
        "page", cells((), PARTNER), portal_capacity("b")
    ),
    "portal: decline (mine)": Surface(
        "page", cells(PARTNER), portal_move("decline", "a", "sent", {"reason": "Full"}, "declined")
    ),
    "portal: decline (another organization's)": Surface(
        "page",
        cells((), PARTNER),
        portal_move("decline", "b", "sent", {"reason": "Full"}, "declined"),
    ),
    "portal: start (mine)": Surface(
        "page", cells(PARTNER), portal_move("start", "a", "accepted", {}, "in_progress")
    ),
    "portal: start (another organization's)": Surface(
        "page", cells((), PARTNER), portal_move("start", "b", "accepted", {}, "in_progress")
    ),
    "portal: complete (mine)": Surface(
        "page",
        cells(PARTNER),
        portal_move("complete", "a", "in_progress", {"outcome": "enrolled"}, "completed"),
    ),
    "portal: complete (another organization's)": Surface(
        "page",
        cells((), PARTNER),
        portal_move("complete", "b", "in_progress", {"outcome": "enrolled"}, "completed"),
    ),
    "portal: add a note (mine)": Surface("page", cells(PARTNER), portal_note("a")),
    "portal: add a note (another organization's)": Surface(
        "page", cells((), PARTNER), portal_note("b")
    ),
    "portal: register a webhook": Surface("page", cells(PARTNER), portal_webhook),
    "field page: home": Surface("page", cells(FIELD), field_home),
    "field page: a resident met": Surface("page", cells(FIELD), field_resident("met")),
    "field page: a resident never met": Surface(
        "page", cells(STAFF, {"responder"}), field_resident("not_met")
    ),
    "field page: an encounter of my unit": Surface(
        "page", cells(FIELD), field_encounter_page("submitted")
    ),
    "field page: an encounter of another unit": Surface(
        "page", cells(STAFF, {"responder"}), field_encounter_page("not_met_submitted")
    ),
    "field page: add a note (my unit's encounter)": Surface(
        "page", cells(FIELD), field_note("submitted")
    ),
    "field page: add a note (another unit's)": Surface(
        "page", cells(STAFF, {"responder"}), field_note("not_met_submitted")
    ),
    "field page: log an encounter without script": Surface(
        "field form", cells({"responder"}), field_form_encounter
    ),
    "field: consents of a resident met": Surface("api", cells(FIELD), consent_list("met")),
    "field: consents of a resident never met": Surface(
        "api", cells(STAFF, {"responder"}), consent_list("not_met")
    ),
    "admin: one resident's record": Surface("admin", cells(STAFF), admin_resident_change),
    "admin: record a consent": Surface("admin", cells(STAFF), admin_consent),
    "admin: one follow-up": Surface("admin", cells(STAFF), admin_follow_up_change),
    "admin: reassign a follow-up": Surface("admin", cells(STAFF), admin_follow_up_reassign),
    "admin: compare two residents": Surface("admin", cells(STAFF), admin_compare_two),
    "admin: merge two residents": Surface("admin", cells(STAFF), admin_merge),
    "admin: undo a merge": Surface("admin", cells(STAFF), admin_undo_merge),
    "admin: log a contact attempt": Surface("admin", cells(STAFF), admin_contact_attempt),
    "admin: close a follow-up with an outcome": Surface(
        "admin", cells(STAFF), admin_follow_up_close
    ),
    "admin: add an addendum": Surface("admin", cells(STAFF), admin_addendum_add),
    "admin: approve an addendum (my team's)": Surface(
        "admin", cells({"supervisor"}), admin_addendum_approve("submitted")
    ),
    "admin: approve an addendum (another team's)": Surface(
        "admin", cells(), admin_addendum_approve("not_met_submitted")
    ),
    "admin: request an export": Surface("admin", cells(STAFF), export_ask),
    "admin: download the case manager's export": Surface(
        "admin", cells(STAFF), export_download("mine")
    ),
    "admin: download another case manager's export": Surface(
        "admin", cells({"supervisor", "admin_user"}, {"case_manager"}), export_download("other")
    ),
    "admin: one audit event": Surface(
        "admin", cells({"supervisor", "admin_user"}), audit_event_change
    ),
    "admin: the audit trail's user search": Surface(
        "admin", cells({"supervisor", "admin_user"}), audit_user_search
    ),
    "admin: issue an API token": Surface("admin", cells({"admin_user"}), token_issue),
    "admin: revoke an API token": Surface("admin", cells({"admin_user"}), token_action("revoke")),
    "admin: rotate an API token": Surface("admin", cells({"admin_user"}), token_action("rotate")),
    "admin: change a directory service": Surface(
        "admin", cells({"admin_user"}), directory_service_change
    ),
}

SIGNED_IN_NOT_STAFF = {"responder", "partner_a", "outsider"}


def expected_refusal(kind: str, role: str, response) -> bool:
    """Whether `response` is the exact refusal of `kind` for `role`."""
    status = response.status_code
    if kind == "cad":  # bearer-only: a session is no credential here
        return status == 401 if role != "cad_client" else status == 403
    if kind == "api":
        return status == (401 if role == "anonymous" else 403)
    location = response.get("Location", "") if status == 302 else ""
    if kind in {"page", "field form"}:
        if role in {"anonymous", "cad_client"}:  # a bearer token is no page sign-in
            return location.startswith("/accounts/login/")
        return status == 403
    if role in {"anonymous", "cad_client"} | SIGNED_IN_NOT_STAFF:
        return location.startswith("/admin/login/")
    return status == 403


def send(client: Client, method: str, path: str, body):
    if method == "get":
        return client.get(path)
    if method == "form":
        return client.post(path, body)
    headers = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    if body is None:
        return getattr(client, method)(path, content_type="application/json", **headers)
    return getattr(client, method)(
        path, json.dumps(body), content_type="application/json", **headers
    )


def check_cell(cell: str, refused, response, proof, detail: str) -> None:
    if isinstance(proof, str):  # a step that writes nothing and leads to the page `proof`
        if cell == "ok":
            assert response.status_code == 302, detail
            assert response["Location"] == proof, detail
        else:
            check_cell(cell, refused, response, None, detail)
        return
    if cell == "ok":
        if proof is None:  # a read: the record itself
            assert response.status_code == 200, detail
            return
        assert response.status_code < 400, detail
        if response.status_code == 302:  # a page's redirect after the write, not a refusal
            assert "/login/" not in response["Location"], detail
        assert proof(), f"{detail}: served but nothing written"
        return
    if cell == "404":
        assert response.status_code == 404, detail
    else:
        assert refused(response), detail
    if proof is not None:
        assert not proof(), f"{detail}: refused but written"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("surface", list(MATRIX))
def test_write_and_record_matrix(surface, role, request):
    spec = MATRIX[surface]
    method, path, body, proof = spec.build(World(request))
    response = send(client_for(role, request), method, path, body)
    detail = f"{role} on {surface}: {response.status_code} {response.get('Location', '')}"
    check_cell(
        spec.row[role],
        lambda r: expected_refusal(spec.kind, role, r),
        response,
        proof,
        detail,
    )


@pytest.mark.parametrize("surface", [name for name, s in MATRIX.items() if s.kind == "api"])
def test_a_partner_token_gets_what_the_partner_user_gets(surface, request):
    """The partner column holds for agency A's machine client (a bearer token) too."""
    from acs.tokens import token_issue

    spec = MATRIX[surface]
    world = World(request)
    method, path, body, proof = spec.build(world)
    _, token = token_issue(role=Role.PARTNER_USER, name="matrix", organization=world.agency_a)
    response = send(Client(HTTP_AUTHORIZATION=f"Bearer {token}"), method, path, body)
    detail = f"partner token on {surface}: {response.status_code}"
    check_cell(spec.row["partner_a"], lambda r: r.status_code == 403, response, proof, detail)


def test_the_no_script_form_refuses_a_supervisor_even_in_a_unit(request):
    """Only responders log encounters (encounter_create), whatever units another role is a
    member of: the field app's form refuses them (403), as the API does, and nothing is
    written."""
    world = World(request)
    supervisor = world.persona("supervisor")
    world.unit.members.add(supervisor)
    method, path, body, proof = field_form_encounter(world)
    response = send(client_for("supervisor", request), method, path, body)
    assert response.status_code == 403
    assert not proof()


def test_the_table_in_docs_is_this_matrix():
    """docs/security.md, "Writes and single records", has one row per surface, cell for cell."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    for surface, spec in MATRIX.items():
        row = f"| {surface} | " + " | ".join(spec.row[role] for role in ROLES) + " |"
        assert row in text, row
