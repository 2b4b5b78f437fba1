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
