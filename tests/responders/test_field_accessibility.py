"""Every screen of the field app passes axe-core's WCAG 2.1 A and AA rules with no serious or
critical violation: contrast, names of controls, landmarks, language, ARIA use. Responders
work in sunlight and at night, some with low vision, so this is part of "works in the field".

How axe is loaded: tests/axe.py.
"""

from __future__ import annotations

import hashlib
import uuid

import pytest

from cases.services import encounter_create, encounter_submit, resident_create
from tests.axe import AXE, AXE_SHA256, violations
from tests.cases.helpers import dispatched_call
from tests.responders.test_field_browser import TABLET, directory, shift, sign_in  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_vendored_axe_is_the_published_file():
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256


def test_every_field_screen_passes_wcag_aa(live_server, browser, shift, directory):  # noqa: F811
    unit, responder = shift
    call = dispatched_call(unit)
    rosa = resident_create(actor=responder, data={"preferred_name": "Rosa"}, confirm_new=True)
    encounter, _ = encounter_create(
        actor=responder,
        client_id=uuid.uuid4(),
        unit=unit,
        call=call,
        data={
            "needs": ["shelter", "substance_use"],
            "narrative": "Asked about the detox list.",
            "narrative_part2": True,
            "disposition": "referred",
        },
        resident_ids=[rosa.public_id],
    )
    encounter = encounter_submit(actor=responder, encounter=encounter)
    # The injection of axe itself is the only thing the bypass lets through: the pages' own
    # policy is tested elsewhere (tests/acs/test_csp_browser.py).
    context = browser.new_context(viewport=TABLET, bypass_csp=True)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    screens = {
        "home": "/field/",
        "my calls": "/field/calls/",
        "call": f"/field/calls/{call.public_id}/",
        "encounter form": "/field/encounters/new",
        "resources": "/field/resources/",
        "resident history": f"/field/residents/{rosa.public_id}/",
        "my encounters": "/field/encounters/",
        "encounter": f"/field/encounters/{encounter.public_id}/",
        "offline page": "/field/offline",
    }
    found = {}
    for name, path in screens.items():
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        if name == "encounter form":
            page.wait_for_selector("#people:not([hidden])")  # the script's part of the form
            page.fill("#narrative", "Asked about detox.")  # and the Part 2 hint it shows
            page.wait_for_selector("#part2-hint:not([hidden])")
        found[name] = violations(page)

    assert found == {name: [] for name in screens}
    context.close()


def test_the_check_catches_a_real_violation(live_server, browser, shift):  # noqa: F811
    """The audit can fail: grey on white text and an unlabelled control are reported."""
    _unit, responder = shift
    context = browser.new_context(viewport=TABLET, bypass_csp=True)
    page = context.new_page()
    sign_in(page, live_server.url, responder.username)
    page.evaluate(
        """() => {
          const p = document.createElement('p');
          p.textContent = 'Hard to read';
          p.setAttribute('style', 'color:#bbb;background:#fff');
          document.querySelector('main').append(p, document.createElement('select'));
        }"""
    )

    ids = {v["id"] for v in violations(page)}

    assert {"color-contrast", "select-name"} <= ids
    context.close()
