"""The responder's day in the field app with no dead end (#17): a clear that shows, an undo
for a mistaken tap, what is known at the address, the encounter's whole page, the referral
picker, and icons that install."""

from __future__ import annotations

import struct
import uuid

import pytest
from django.contrib.staticfiles import finders

from cases.models import Call
from tests.cases.helpers import dispatched_call

pytestmark = pytest.mark.django_db


# --- Clear --------------------------------------------------------------------------------------


def test_clearing_without_a_script_goes_back_to_my_calls_saying_so(client, responder, unit):
    call = dispatched_call(unit, "CLR-1", event="on_scene")
    client.force_login(responder)

    response = client.post(
        f"/field/units/{unit.call_sign}/status",
        {"status": "cleared", "call": str(call.public_id), "event_id": str(uuid.uuid4())},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/field/calls/"
    html = response.content.decode()
    assert "Call CLR-1 cleared. It has left your current calls." in html
    assert Call.objects.get().status == "cleared"
    assert f"/field/calls/{call.public_id}/" not in html


def test_a_cleared_calls_page_says_it_is_cleared_instead_of_not_found(client, responder, unit):
    call = dispatched_call(unit, "CLR-2", event="on_scene")
    client.force_login(responder)
    client.post(
        f"/field/units/{unit.call_sign}/status",
        {"status": "cleared", "call": str(call.public_id), "event_id": str(uuid.uuid4())},
    )

    response = client.get(f"/field/calls/{call.public_id}/", follow=True)

    assert response.redirect_chain == [("/field/calls/", 302)]
    assert "That call is cleared." in response.content.decode()


def test_the_call_page_carries_the_cleared_notice_and_the_units_status(client, responder, unit):
    call = dispatched_call(unit, "CLR-3", event="en_route")
    client.force_login(responder)

    html = client.get(f"/field/calls/{call.public_id}/").content.decode()

    assert 'id="cleared"' in html and "Back to my calls" in html
    assert 'data-status="en_route"' in html
    assert 'id="toast"' in html and "Undo" in html


# --- Icons ------------------------------------------------------------------------------------


def _png_size(path: str) -> tuple[int, int]:
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_the_manifest_names_png_icons_of_the_right_sizes_any_and_maskable(client):
    manifest = client.get("/field/manifest.webmanifest").json()

    pngs = [i for i in manifest["icons"] if i["type"] == "image/png"]
    assert {(i["sizes"], i["purpose"]) for i in pngs} == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("192x192", "maskable"),
        ("512x512", "maskable"),
    }
    for icon in pngs:
        name = icon["src"].split("/static/", 1)[1]
        side = int(icon["sizes"].split("x")[0])
        assert _png_size(finders.find(name)) == (side, side), name


@pytest.mark.browser
def test_the_icons_command_draws_all_four_at_their_sizes(tmp_path, monkeypatch):
    """`manage.py field_icons` (how the committed PNGs were made) still draws them."""
    from io import StringIO

    from django.core.management import call_command

    from tests.conftest import chromium_or_skip

    monkeypatch.setenv("CHROMIUM", chromium_or_skip())
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    call_command("field_icons", "--out", str(tmp_path), stdout=StringIO())
    for side in (192, 512):
        for name in (f"icon-{side}.png", f"icon-maskable-{side}.png"):
            assert _png_size(str(tmp_path / name)) == (side, side), name


def test_the_service_worker_precaches_the_icons(client):
    import json

    first = client.get("/field/sw.js").content.decode().splitlines()[0]
    config = json.loads(first.removeprefix("self.ACS_FIELD = ").rstrip(";"))

    assert sum("icon-" in url and url.endswith(".png") for url in config["static"]) == 4


# --- What is known at the address -----------------------------------------------------------


def _earlier_contact(responder, unit, number, address, days_ago, residents):
    from django.utils import timezone

    from tests.cases.helpers import logged_encounter

    earlier = dispatched_call(unit, number)
    earlier.address = address
    earlier.received_at = timezone.now() - timezone.timedelta(days=days_ago)
    earlier.save()
    return logged_encounter(
        responder,
        unit,
        call=earlier,
        residents=residents,
        occurred_at=earlier.received_at,
        narrative="Rosa said her brother keeps the knife under the mattress.",
    )


def test_the_call_page_shows_flags_counts_and_dates_at_the_address_without_names(
    client, responder, unit
):
    from acs.models import AuditEvent
    from cases.services import resident_create

    rosa = resident_create(
        actor=responder,
        data={
            "preferred_name": "Rosa",
            "legal_name": "Rosa Delgado",
            "safety_flags": "Weapons: Delgado keeps a knife. Dog in the yard.",
        },
        confirm_new=True,
    )
    _earlier_contact(responder, unit, "OLD-1", "100 Central Ave SW", 30, [rosa])
    _earlier_contact(responder, unit, "OLD-2", "100 central ave sw", 10, [rosa])
    now = dispatched_call(unit, "NOW-9")
    now.address = "100 CENTRAL AVE SW"
    now.save()
    client.force_login(responder)

    html = client.get(f"/field/calls/{now.public_id}/").content.decode()

    assert "Weapons: … keeps a knife. Dog in the yard." in html
    assert "noted on a person met here 2 times" in html and "(call OLD-2)" in html
    assert "2 earlier calls here" in html and "2 encounters logged." in html
    assert "Rosa" not in html and "Delgado" not in html and "mattress" not in html
    seen = AuditEvent.objects.filter(reason="field_place_history").get()
    assert seen.target_id == rosa.public_id
    assert seen.detail == {"call": str(now.public_id)}


def test_the_place_history_is_only_for_my_units_calls(client, responder, unit):
    from tests.factories import UnitFactory

    theirs = dispatched_call(UnitFactory(call_sign="ACS-90"), "THEIRS-1")
    theirs.address = "5 Elm St"
    theirs.save()
    client.force_login(responder)

    assert client.get(f"/field/calls/{theirs.public_id}/").status_code == 404


def test_the_place_history_costs_the_same_queries_for_one_contact_or_ten(client, responder, unit):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cases.services import resident_create

    def page_queries(call):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/field/calls/{call.public_id}/").status_code == 200
        return len(ctx.captured_queries)

    client.force_login(responder)
    for i in range(10):
        person = resident_create(
            actor=responder,
            data={"preferred_name": f"P{i}", "safety_flags": "Dog"},
            confirm_new=True,
        )
        _earlier_contact(responder, unit, f"Q-{i}", "9 Oak St" if i else "7 Pine St", 20, [person])
        if i == 0:
            one = dispatched_call(unit, "ONE")
            one.address = "7 Pine St"
            one.save()
    ten = dispatched_call(unit, "TEN")
    ten.address = "9 Oak St"
    ten.save()

    assert page_queries(one) == page_queries(ten)


def test_cad_addresses_are_stored_with_spaces_collapsed_so_the_place_matches():
    from django.utils import timezone

    from cases.services import CallInput, call_upsert

    call, _ = call_upsert(
        incident_number="SP-1",
        data=CallInput(
            call_type="WELFARE",
            priority=3,
            source="911",
            received_at=timezone.now(),
            address="  100  Central\tAve SW ",
        ),
    )

    assert call.address == "100 Central Ave SW"


# --- The encounter's page ---------------------------------------------------------------------


def test_the_encounter_page_lists_people_consents_referrals_and_follow_ups(client, responder, unit):

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from cases.models import Consent, FollowUp
    from cases.services import resident_create
    from resources.models import Referral
    from tests.cases.helpers import logged_encounter
    from tests.factories import ServiceAtLocationFactory

    ana = resident_create(actor=responder, data={"preferred_name": "Ana"}, confirm_new=True)
    encounter = logged_encounter(responder, unit, submit=True, residents=[ana])
    sal = ServiceAtLocationFactory(service__name="Westside Housing")
    Consent.objects.create(
        resident=ana,
        scope="share_named_partner",
        method="verbal",
        recorded_by=responder,
        encounter=encounter,
        organization=sal.service.organization,
    )
    Referral.objects.create(
        resident=ana,
        encounter=encounter,
        service=sal.service,
        organization=sal.service.organization,
        status="accepted",
        created_by=responder,
        sent_at=timezone.now(),
        responded_at=timezone.now(),
    )
    # Submitting made the follow-up the rules ask for.
    follow_up = FollowUp.objects.get(encounter=encounter, resident=ana)
    client.force_login(responder)

    with CaptureQueriesContext(connection) as ctx:
        html = client.get(f"/field/encounters/{encounter.public_id}/").content.decode()

    assert "Ana" in html
    consents = html.split('id="consents-h"')[1].split("</section>")[0]
    assert "Ana" in consents and sal.service.organization.name in consents and "active" in consents
    referrals = html.split('id="referrals-h"')[1].split("</section>")[0]
    assert "Westside Housing" in referrals and "Accepted" in referrals
    follow_ups = html.split('id="followups-h"')[1].split("</section>")[0]
    assert follow_up.get_kind_display() in follow_ups
    assert timezone.localtime(follow_up.due_at).strftime("%Y-%m-%d") in follow_ups
    assert len(ctx.captured_queries) < 40

    # In Spanish, the statuses are in Spanish too (they were English in a Spanish page).
    responder.language = "es"
    responder.save(update_fields=["language"])
    client.cookies["django_language"] = "es"
    html = client.get(f"/field/encounters/{encounter.public_id}/").content.decode()
    referrals = html.split('id="referrals-h"')[1].split("</section>")[0]
    assert "Aceptada" in referrals and "Accepted" not in referrals
    follow_ups = html.split('id="followups-h"')[1].split("</section>")[0]
    assert "Abierto" in follow_ups


# --- An encounter left unfinished on the server opens in the form ---------------------------


def test_home_lists_my_units_unfinished_encounters_and_their_page_opens_the_form(
    client, responder, unit
):
    from tests.cases.helpers import logged_encounter
    from tests.factories import UnitFactory, UserFactory

    call = dispatched_call(unit, "DRAFT-1")
    draft = logged_encounter(responder, unit, call=call, disposition="")
    done = logged_encounter(responder, unit, submit=True)
    other_unit = UnitFactory(call_sign="ACS-77")
    stranger = UserFactory(username="other-responder", role="responder")
    other_unit.members.add(stranger)
    theirs = logged_encounter(stranger, other_unit)
    client.force_login(responder)

    html = client.get("/field/").content.decode()

    section = html.split('id="server-drafts"')[1].split("</section>")[0]
    assert f"/field/encounters/new?encounter={draft.public_id}" in section
    assert f'data-client-id="{draft.client_id}"' in section and "DRAFT-1" in section
    assert str(done.public_id) not in section and str(theirs.public_id) not in section
    detail = client.get(f"/field/encounters/{draft.public_id}/").content.decode()
    assert f"/field/encounters/new?encounter={draft.public_id}" in detail
    submitted = client.get(f"/field/encounters/{done.public_id}/").content.decode()
    assert "/field/encounters/new?encounter=" not in submitted


def test_an_unfinished_encounter_reads_back_with_everything_recorded_on_it(
    client, responder, unit, agency_a
):
    from datetime import date

    from cases.models import Consent
    from cases.services import consent_record, resident_create
    from tests.cases.helpers import logged_encounter

    ana = resident_create(
        actor=responder, data={"preferred_name": "Ana", "date_of_birth": date(1990, 1, 2)}
    )
    draft = logged_encounter(
        responder, unit, residents=[ana], disposition="", needs=["shelter"], narrative="Half"
    )
    consent = consent_record(
        actor=responder,
        resident=ana,
        scope=Consent.Scope.SHARE_PARTNERS,
        method=Consent.Method.VERBAL,
        encounter=draft,
    )
    client.force_login(responder)
    follow_up = client.post(
        f"/api/v1/field/encounters/{draft.public_id}/follow-ups",
        {"resident": str(ana.public_id), "kind": "phone", "due_at": "2030-01-01T17:00:00Z"},
        content_type="application/json",
    ).json()

    body = client.get(f"/api/v1/field/encounters/{draft.public_id}").json()

    assert body["status"] == "draft" and body["client_id"] == str(draft.client_id)
    assert body["needs"] == ["shelter"] and body["narrative"] == "Half"
    assert [(p["id"], p["preferred_name"], p["date_of_birth"]) for p in body["people"]] == [
        (str(ana.public_id), "Ana", "1990-01-02")
    ]
    assert [(c["id"], c["resident"], c["scope"]) for c in body["consents"]] == [
        (str(consent.public_id), str(ana.public_id), "share_partners")
    ]
    assert [(f["id"], f["kind"]) for f in body["follow_ups"]] == [(follow_up["id"], "phone")]


def test_finishing_an_unfinished_encounter_patches_and_submits_it_without_a_twin(
    client, responder, unit
):
    """What the form sends for an encounter opened from the server: the same one, patched
    and submitted (a POST with its client_id would return it too, never a second)."""
    from cases.models import Encounter
    from tests.cases.helpers import logged_encounter

    draft = logged_encounter(responder, unit, disposition="")
    client.force_login(responder)
    api = f"/api/v1/field/encounters/{draft.public_id}"

    again = client.post(
        "/api/v1/field/encounters",
        {"client_id": str(draft.client_id), "unit": unit.call_sign},
        content_type="application/json",
    )
    patched = client.patch(
        api, {"disposition": "settled_by_contact"}, content_type="application/json"
    )
    submitted = client.post(f"{api}/submit", content_type="application/json")

    assert again.status_code == 200 and again.json()["id"] == str(draft.public_id)
    assert patched.status_code == 200 and submitted.json()["status"] == "submitted"
    assert Encounter.objects.count() == 1


# --- The call page's status line follows a tap --------------------------------------------


def test_the_call_page_status_line_can_follow_a_tap_in_the_calls_own_words(client, responder, unit):
    import json

    call = dispatched_call(unit, "LINE-1", event="en_route")
    client.force_login(responder)
    client.cookies["django_language"] = "es"
    responder.language = "es"
    responder.save(update_fields=["language"])

    html = client.get(f"/field/calls/{call.public_id}/").content.decode()

    assert f'id="call-status" data-status="en_route" data-call="{call.public_id}">' in html
    labels = json.loads(
        html.split('id="call-status-labels" type="application/json">')[1].split("<")[0]
    )
    assert labels["on_scene"] == "En el lugar" and labels["cleared"] == "Liberada"


# --- An encounter that reaches the server after the unit cleared the call ------------------


def _post_encounter(client, unit, call):
    return client.post(
        "/api/v1/field/encounters",
        {"client_id": str(uuid.uuid4()), "unit": unit.call_sign, "call": str(call.public_id)},
        content_type="application/json",
    )


def _clear(call, unit, hours_ago: float):
    from django.utils import timezone

    at = timezone.now() - timezone.timedelta(hours=hours_ago)
    call.assignments.filter(unit=unit).update(status="cleared", cleared_at=at)


def test_an_encounter_queued_on_scene_attaches_to_the_call_cleared_meanwhile(
    client, responder, unit
):
    call = dispatched_call(unit, "LATE-1")
    _clear(call, unit, hours_ago=3)
    client.force_login(responder)

    response = _post_encounter(client, unit, call)

    assert response.status_code == 201, response.content
    assert response.json()["call"] == str(call.public_id)


def test_after_the_window_or_on_another_units_call_it_is_still_refused(client, responder, unit):
    from cases.selectors import ENCOUNTER_AFTER_CLEAR_HOURS
    from tests.factories import UnitFactory

    old = dispatched_call(unit, "LATE-2")
    _clear(old, unit, hours_ago=ENCOUNTER_AFTER_CLEAR_HOURS + 0.5)
    other = UnitFactory(call_sign="ACS-88")
    theirs = dispatched_call(other, "LATE-3")
    _clear(theirs, other, hours_ago=1)
    cancelled = dispatched_call(unit, "LATE-4", event="dispatched")
    cancelled.assignments.filter(unit=unit).update(status="cancelled")
    client.force_login(responder)

    for call in (old, theirs, cancelled):
        response = _post_encounter(client, unit, call)
        assert response.status_code == 404, call.incident_number
        assert response.json()["error"]["code"] == "call_not_found"


def test_a_second_unit_of_mine_cannot_log_on_a_call_only_the_first_cleared(client, responder, unit):
    from tests.factories import UnitFactory

    second = UnitFactory(call_sign="ACS-12", team=unit.team)
    second.members.add(responder)
    call = dispatched_call(unit, "LATE-5")
    _clear(call, unit, hours_ago=1)
    client.force_login(responder)

    assert _post_encounter(client, second, call).status_code == 404
    assert _post_encounter(client, unit, call).status_code == 201
