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

import pytest
from django.test import Client

from acs.roles import Role
from tests.acs.access_matrix_admin_surfaces import (
    admin_addendum_add,
    admin_addendum_approve,
    admin_compare_two,
    admin_consent,
    admin_contact_attempt,
    admin_follow_up_change,
    admin_follow_up_close,
    admin_follow_up_reassign,
    admin_merge,
    admin_resident_change,
    admin_undo_merge,
    audit_event_change,
    audit_user_search,
    directory_service_change,
    export_ask,
    export_download,
    token_action,
    token_issue,
)
from tests.acs.access_matrix_api_surfaces import (
    addendum_add,
    cad_event,
    cad_upsert,
    capacity_put,
    consent_list,
    consent_record,
    consent_revoke,
    encounter_create,
    encounter_get,
    encounter_patch,
    encounter_submit,
    field_encounter_page,
    field_form_encounter,
    field_home,
    field_note,
    field_resident,
    follow_up_ask,
    partner_action,
    partner_detail,
    partner_notes,
    portal_accept,
    portal_capacity,
    portal_detail,
    portal_move,
    portal_note,
    portal_webhook,
    referral_create,
    referral_get,
    resident_create,
    resident_get,
    resident_patch,
    unit_status,
)
from tests.acs.access_matrix_world import FIELD, STAFF, Surface, World, cells
from tests.acs.test_access_matrix import ROLES, client_for

pytestmark = pytest.mark.django_db


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
