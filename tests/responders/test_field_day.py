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
