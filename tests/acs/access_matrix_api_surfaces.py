"""The writes matrix's surfaces (tests/acs/test_access_matrix_writes.py) through CAD, the field API,
the partner API and portal, and the field app's pages."""

from __future__ import annotations

import uuid

from django.utils import timezone

from tests.acs.access_matrix_world import count
from tests.factories import CallFactory


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
