"""The field app's pages (/field/) as the server renders them: who may open them, what they
show, the forms that work without a script, and the pieces the offline app stands on (the
service worker, the manifest, the directory snapshot, sign-out clearing the tablet)."""

import json
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Encounter, EncounterResident
from cases.services import encounter_create, resident_create
from resources.models import ServiceStatus
from tests.cases.helpers import dispatched_call, logged_encounter
from tests.factories import (
    AddressFactory,
    CapacityFactory,
    LanguageFactory,
    ResidentFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db

PAGES = [
    "/field/",
    "/field/calls/",
    "/field/encounters/",
    "/field/encounters/new",
    "/field/resources/",
]


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", PAGES)
def test_partners_and_people_without_a_role_are_refused(client, partner_a, outsider, path):
    for user in (partner_a, outsider):
        client.force_login(user)
        assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_served_to_a_responder(client, responder, path):
    client.force_login(responder)

    response = client.get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="viewport"' in html
    assert 'rel="manifest"' in html
    # No inline script: the Content-Security-Policy forbids them.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_shift_start_shows_my_units_with_their_status(client, responder, unit):
    client.force_login(responder)

    html = client.get("/field/").content.decode()

    assert "ACS-11" in html
    assert "Out of service" in html


def test_a_unit_goes_in_service_from_the_shift_page_without_a_script(client, responder, unit):
    client.force_login(responder)

    response = client.post("/field/units/acs-11/status", {"status": "available"})

    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.status == "available"


def test_a_responder_cannot_move_a_unit_they_are_not_on(client, responder):
    from tests.factories import UnitFactory

    other = UnitFactory(call_sign="ACS-77", status="out_of_service")
    client.force_login(responder)

    response = client.post("/field/units/ACS-77/status", {"status": "available"})

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == "out_of_service"


def test_my_calls_lists_my_units_calls_only(client, responder, unit):
    from tests.factories import UnitFactory

    mine = dispatched_call(unit, "MINE-1")
    dispatched_call(UnitFactory(call_sign="ACS-90"), "THEIRS-1")
    client.force_login(responder)

    html = client.get("/field/calls/").content.decode()

    assert mine.incident_number in html
    assert "THEIRS-1" not in html
    rows = client.get("/field/calls/rows")
    assert rows.status_code == 200
    assert rows["Cache-Control"] == "no-store"
    assert "MINE-1" in rows.content.decode()


def test_the_calls_rows_cost_the_same_queries_for_one_call_or_twenty(client, responder, unit):
    client.force_login(responder)
    dispatched_call(unit)
    client.get("/field/calls/rows")
    with CaptureQueriesContext(connection) as one:
        client.get("/field/calls/rows")
    for _ in range(19):
        dispatched_call(unit)
    with CaptureQueriesContext(connection) as twenty:
        response = client.get("/field/calls/rows")

    assert response.content.decode().count('class="call ') == 20
    assert len(twenty) == len(one)


def test_the_call_page_warns_of_safety_flags_met_at_the_same_place(client, responder, unit):
    earlier = dispatched_call(unit, "EARLIER-1")
    earlier.address = "100 Central Ave SW"
    earlier.received_at = timezone.now() - timezone.timedelta(days=30)
    earlier.save()
    flagged = resident_create(
        actor=responder,
        data={"preferred_name": "Flagged Person", "safety_flags": "Dog in the yard"},
        confirm_new=True,
    )
    _encounter, _ = encounter_create(
        actor=responder,
        client_id=uuid.uuid4(),
        unit=unit,
        call=earlier,
        data={"occurred_at": earlier.received_at},
        resident_ids=[flagged.public_id],
    )
    now = dispatched_call(unit, "NOW-1")
    now.address = "100 CENTRAL AVE SW"
    now.latitude, now.longitude = 35.084, -106.650
    now.save()
    client.force_login(responder)

    html = client.get(f"/field/calls/{now.public_id}/").content.decode()

    assert "Dog in the yard" in html
    assert "EARLIER-1" in html
    # The flag is shown; the person it belongs to is not named.
    assert "Flagged Person" not in html
    assert "geo:35.084" in html
    assert f"/field/encounters/new?call={now.public_id}&amp;unit=ACS-11" in html


def test_another_units_call_is_not_found(client, responder):
    from tests.factories import UnitFactory

    theirs = dispatched_call(UnitFactory(call_sign="ACS-90"))
    client.force_login(responder)

    assert client.get(f"/field/calls/{theirs.public_id}/").status_code == 404


def test_the_encounter_form_submits_without_a_script(client, responder, unit):
    call = dispatched_call(unit)
    client_id = uuid.uuid4()
    client.force_login(responder)

    response = client.post(
        f"/field/encounters/new?call={call.public_id}",
        {
            "client_id": str(client_id),
            "unit": "ACS-11",
            "call": str(call.public_id),
            "occurred_at": "2026-11-24T10:15",
            "anonymous_people": "2",
            "needs": ["shelter", "food"],
            "services_on_scene": ["water"],
            "risk_level": "low",
            "disposition": "settled_by_contact",
            "police_requested": "on",
            "involuntary_hold": "on",
            "narrative": "Talked it through.",
            "narrative_part2": "on",
        },
    )

    assert response.status_code == 302
    encounter = Encounter.objects.get(client_id=client_id)
    assert encounter.narrative_part2
    assert encounter.status == "submitted"
    assert encounter.call == call
    assert encounter.needs == ["shelter", "food"]
    assert encounter.anonymous_people == 2
    assert encounter.police_requested and not encounter.ems_requested
    assert encounter.involuntary_hold
    assert timezone.localtime(encounter.occurred_at).strftime("%H:%M") == "10:15"


def test_the_encounter_form_shows_what_to_fix(client, responder, unit):
    client.force_login(responder)

    response = client.post(
        "/field/encounters/new",
        {"client_id": str(uuid.uuid4()), "unit": "ACS-11", "needs": ["not-a-need"]},
    )

    assert response.status_code == 400
    assert "Please fix" in response.content.decode()
    assert not Encounter.objects.exists()


def test_a_resident_profile_is_audited_and_never_cached(client, responder, unit):
    from acs.models import AuditEvent

    resident = resident_create(
        actor=responder,
        data={"preferred_name": "Rosa", "safety_flags": "Startles easily"},
        confirm_new=True,
    )
    encounter_create(
        actor=responder,
        client_id=uuid.uuid4(),
        unit=unit,
        call=None,
        data={"occurred_at": timezone.now(), "needs": ["food", "substance_use"]},
        resident_ids=[resident.public_id],
    )
    client.force_login(responder)

    response = client.get(f"/field/residents/{resident.public_id}/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "Rosa" in html and "Startles easily" in html
    # Needs by name; substance use labelled as Part 2 information.
    assert "Food, Substance use (42 CFR Part 2)" in html
    assert AuditEvent.objects.filter(
        actor=responder, action="view", target_id=str(resident.public_id)
    ).exists()


def test_a_resident_the_responder_never_met_is_not_found(client, responder):
    stranger = ResidentFactory()
    client.force_login(responder)

    assert client.get(f"/field/residents/{stranger.public_id}/").status_code == 404
    assert not EncounterResident.objects.exists()


def test_resources_filter_by_places_free(client, responder):
    full = ServiceAtLocationFactory(service__name="Full Shelter")
    CapacityFactory(service_at_location=full, available=0, total=10)
    free = ServiceAtLocationFactory(service__name="Open Shelter")
    CapacityFactory(service_at_location=free, available=4, total=10)
    client.force_login(responder)

    html = client.get("/field/resources/?has_capacity=1").content.decode()

    assert "Open Shelter" in html and "4 of 10 beds free" in html
    assert "Full Shelter" not in html


def test_the_resources_screen_reads_the_lists_it_shows_and_not_the_needs(client, responder):
    """Each place's address and languages are on the screen, its needs (terms) are not: they
    are not read (the snapshot, which the picker filters by need, reads them)."""
    for i in range(3):
        ServiceAtLocationFactory(service__name=f"Shelter {i}", service__accepts_referrals=True)
    client.force_login(responder)

    with CaptureQueriesContext(connection) as ctx:
        html = client.get("/field/resources/").content.decode()
    with CaptureQueriesContext(connection) as snapshot:
        client.get("/field/directory.json")

    assert "Shelter 2" in html
    read = [q["sql"] for q in ctx.captured_queries]
    assert [sql for sql in read if 'FROM "resources_address"' in sql]
    assert [sql for sql in read if 'FROM "resources_language"' in sql]
    assert not [sql for sql in read if 'FROM "resources_attribute"' in sql]
    assert [q for q in snapshot.captured_queries if 'FROM "resources_attribute"' in q["sql"]]


def test_each_place_is_one_line_read_with_the_page_first_address_and_languages(client, responder):
    """The screen, the snapshot and the admin's picker show each place's first address and
    (the field app) its service's languages by code: read with the page's rows in one
    statement (listed_brief), not each list as model instances."""
    from cases.admin.resident_page import option_label, referrable_places

    sal = ServiceAtLocationFactory(
        service__name="Westside shelter", service__accepts_referrals=True
    )
    AddressFactory(location=sal.location, address_1="12 First St", city="Albuquerque")
    AddressFactory(location=sal.location, address_1="99 Second St", city="Rio Rancho")
    for code in ("vi", "es", "en"):
        LanguageFactory(service=sal.service, code=code)
    bare = ServiceAtLocationFactory(service__name="Bare clinic", service__accepts_referrals=True)
    client.force_login(responder)

    with CaptureQueriesContext(connection) as ctx:
        html = client.get("/field/resources/").content.decode()
    snapshot = client.get("/field/directory.json").json()["services"]

    westside = html[html.index("Westside shelter") : html.index("</li>", html.index("Westside"))]
    assert "12 First St, Albuquerque" in westside and "Second St" not in westside
    assert re.findall(r'<span class="badge">(\w+)</span>', westside) == ["en", "es", "vi"]
    bare_line = html[html.index("Bare clinic") : html.index("</li>", html.index("Bare clinic"))]
    assert "Albuquerque" not in bare_line and "None" not in bare_line
    # No statement reads addresses or languages on their own (a prefetch): they are
    # subqueries of the rows' statement.
    assert not [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].startswith(('SELECT "resources_address"', 'SELECT "resources_language"'))
    ]
    by_name = {s["name"]: s for s in snapshot}
    assert by_name["Westside shelter"]["address"] == "12 First St"
    assert by_name["Westside shelter"]["city"] == "Albuquerque"
    assert by_name["Westside shelter"]["languages"] == ["en", "es", "vi"]
    assert (by_name["Bare clinic"]["address"], by_name["Bare clinic"]["languages"]) == ("", [])
    picked = referrable_places().get(pk=sal.pk)
    assert "12 First St, Albuquerque" in option_label(picked)
    bare_label = option_label(referrable_places().get(pk=bare.pk))
    assert bare_label.endswith(f"{bare.location.name} · No capacity figure")


def test_resources_say_which_services_the_words_meant_when_none_is_listed(client, responder):
    """Words that name only services the screen does not list (closed, not yet placed, or
    taking no referrals when only those are asked for): the screen says which and why, not
    only "Nothing matches"."""
    closed = ServiceAtLocationFactory(service__name="Winter overnight shelter")
    closed.service.status = ServiceStatus.TEMPORARILY_CLOSED
    closed.service.save()
    ServiceFactory(name="Youth overnight shelter")  # no place yet
    walk_in = ServiceAtLocationFactory(service__name="Walk in pantry")
    walk_in.service.accepts_referrals = False
    walk_in.service.save()
    client.force_login(responder)

    html = client.get("/field/resources/", {"q": "overnigt"}).content.decode()
    assert "Nothing matches." in html and "Try fewer filters" not in html  # none set
    assert (
        "Not listed here: Winter overnight shelter (temporarily closed); "
        "Youth overnight shelter (has no place yet)." in html
    )
    listed = client.get("/field/resources/", {"q": "pantry"}).content.decode()
    assert "Walk in pantry" in listed and "Not listed here" not in listed
    referrals = client.get("/field/resources/", {"q": "pantry", "referrals": "1"})
    assert "Walk in pantry (does not take referrals)." in referrals.content.decode()
    assert "Nothing matches. Try fewer filters." in referrals.content.decode()
    # A filter set (open now, places free, a language) is the likelier reason: no names.
    open_now = client.get("/field/resources/", {"q": "overnigt", "open_now": "1"})
    assert "Try fewer filters" in open_now.content.decode()
    assert "Not listed here" not in open_now.content.decode()
    nothing = client.get("/field/resources/", {"q": "xylophone"}).content.decode()
    assert "Nothing matches" in nothing and "Not listed here" not in nothing

    responder.language = "es"
    responder.save(update_fields=["language"])
    spanish = client.get("/field/resources/", {"q": "overnigt"}).content.decode()
    assert "No figura aquí: Winter overnight shelter (cerrado temporalmente)" in spanish


def test_resources_take_garbage_coordinates_calmly(client, responder):
    client.force_login(responder)

    assert client.get("/field/resources/?lat=999&lon=abc").status_code == 200


def test_the_directory_snapshot_lists_services_that_accept_referrals(client, responder):
    taking = ServiceAtLocationFactory(service__name="Takes Referrals")
    taking.service.accepts_referrals = True
    taking.service.save()
    not_taking = ServiceAtLocationFactory(service__name="Walk In Only")
    not_taking.service.accepts_referrals = False
    not_taking.service.save()
    client.force_login(responder)

    data = client.get("/field/directory.json").json()

    names = [s["name"] for s in data["services"]]
    assert names == ["Takes Referrals"]
    row = data["services"][0]
    assert row["service"] == str(taking.service.public_id)
    assert row["organization_id"] == str(taking.service.organization.public_id)


def test_the_service_worker_is_served_from_the_app_with_its_cache_list(client):
    response = client.get("/field/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    first_line = response.content.decode().splitlines()[0]
    config = json.loads(first_line.removeprefix("self.ACS_FIELD = ").rstrip(";"))
    assert "/field/encounters/new" in config["pages"]
    assert any(url.endswith("field/field.js") for url in config["static"])
    assert len(config["version"]) == 12


def test_the_manifest_installs_the_app_at_field(client):
    manifest = client.get("/field/manifest.webmanifest").json()

    assert manifest["start_url"] == "/field/" and manifest["scope"] == "/field/"
    assert manifest["display"] == "standalone"


def test_signing_out_tells_the_browser_to_clear_the_tablet(client, responder):
    client.force_login(responder)

    response = client.post("/field/sign-out")

    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert client.get("/field/").status_code == 302


def test_the_interface_follows_the_language_the_user_chose(client, responder):
    client.force_login(responder)

    client.post("/field/language", {"language": "es"})

    responder.refresh_from_db()
    assert responder.language == "es"
    html = client.get("/field/").content.decode()
    assert 'lang="es"' in html
    assert "Mis unidades" in html


def test_an_unknown_language_is_refused(client, responder):
    client.force_login(responder)

    client.post("/field/language", {"language": "xx"})

    responder.refresh_from_db()
    assert responder.language == ""


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def _services(n: int) -> None:
    for _ in range(n):
        sal = ServiceAtLocationFactory()
        sal.service.accepts_referrals = True
        sal.service.save()
        CapacityFactory(service_at_location=sal, available=2, total=5)


@pytest.mark.parametrize("path", ["/field/directory.json", "/field/resources/?has_capacity=1"])
def test_directory_screens_cost_the_same_queries_for_one_service_or_twenty(client, responder, path):
    client.force_login(responder)
    _services(1)
    client.get(path)  # warm up: the first request of a session loads more than later ones
    one = _queries(client, path)
    _services(19)

    assert _queries(client, path) == one


def test_only_responders_log_encounters_and_only_they_are_offered_the_form(client, case_manager):
    client.force_login(case_manager)

    assert client.get("/field/encounters/new").status_code == 403
    html = client.get("/field/").content.decode()
    assert "/field/encounters/new" not in html


def test_my_encounters_lists_mine_and_my_units_without_names(client, responder, unit):
    from tests.factories import UnitFactory, UserFactory

    rosa = resident_create(actor=responder, data={"preferred_name": "Rosa"}, confirm_new=True)
    mine, _ = encounter_create(
        actor=responder,
        client_id=uuid.uuid4(),
        unit=unit,
        call=None,
        data={"occurred_at": timezone.now()},
        resident_ids=[rosa.public_id],
    )
    partner = UserFactory(username="unit-partner", role="responder")
    unit.members.add(partner)
    my_units = logged_encounter(partner, unit, submit=True)
    elsewhere_unit = UnitFactory(call_sign="ACS-77")
    stranger = UserFactory(username="stranger-responder", role="responder")
    elsewhere_unit.members.add(stranger)
    elsewhere = logged_encounter(stranger, elsewhere_unit, submit=True)
    client.force_login(responder)

    response = client.get("/field/encounters/")

    html = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert f"/field/encounters/{mine.public_id}/" in html
    assert f"/field/encounters/{my_units.public_id}/" in html
    assert f"/field/encounters/{elsewhere.public_id}/" not in html
    assert "Rosa" not in html and "1 person" in html


def test_my_encounters_costs_the_same_queries_for_one_or_twenty(client, responder, unit):
    client.force_login(responder)
    logged_encounter(responder, unit, submit=True)
    client.get("/field/encounters/")  # the session's first request does more
    with CaptureQueriesContext(connection) as one:
        client.get("/field/encounters/")
    for _ in range(19):
        logged_encounter(responder, unit, submit=True)
    with CaptureQueriesContext(connection) as twenty:
        html = client.get("/field/encounters/").content.decode()

    assert html.count('href="/field/encounters/') - html.count("/field/encounters/new") >= 20
    assert len(twenty) == len(one)


def test_an_encounter_page_is_audited_never_kept_and_out_of_reach_elsewhere(
    client, responder, unit
):
    from acs.models import AuditEvent
    from tests.factories import UnitFactory, UserFactory

    rosa = resident_create(actor=responder, data={"preferred_name": "Rosa"}, confirm_new=True)
    encounter, _ = encounter_create(
        actor=responder,
        client_id=uuid.uuid4(),
        unit=unit,
        call=None,
        data={
            "occurred_at": timezone.now(),
            "narrative": "Asked about the detox list.",
            "narrative_part2": True,
            "needs": ["shelter"],
        },
        resident_ids=[rosa.public_id],
    )
    client.force_login(responder)

    response = client.get(f"/field/encounters/{encounter.public_id}/")

    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert "Asked about the detox list." in html and "42 CFR Part 2" in html
    assert f"/field/residents/{rosa.public_id}/" in html and "Shelter" in html
    event = AuditEvent.objects.filter(action="view", target_id=rosa.public_id).get()
    assert (event.reason, event.detail) == ("field", {"encounter": str(encounter.public_id)})
    stranger = UserFactory(username="stranger-responder", role="responder")
    UnitFactory(call_sign="ACS-77").members.add(stranger)
    client.force_login(stranger)
    assert client.get(f"/field/encounters/{encounter.public_id}/").status_code == 404
    assert (
        client.post(f"/field/encounters/{encounter.public_id}/notes", {"text": "x"}).status_code
        == 404
    )


def test_a_responder_adds_a_note_to_a_submitted_encounter_without_a_script(client, responder, unit):
    from cases.models import Addendum

    submitted = logged_encounter(responder, unit, submit=True)
    draft = logged_encounter(responder, unit)
    client.force_login(responder)

    response = client.post(
        f"/field/encounters/{submitted.public_id}/notes", {"text": "Resident called back."}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/field/encounters/{submitted.public_id}/"
    addendum = Addendum.objects.get()
    assert (addendum.encounter, addendum.author, addendum.text) == (
        submitted,
        responder,
        "Resident called back.",
    )
    page = client.get(response["Location"]).content.decode()
    assert "Resident called back." in page and "awaiting approval" in page
    refused = client.post(f"/field/encounters/{draft.public_id}/notes", {"text": "Later"})
    empty = client.post(f"/field/encounters/{submitted.public_id}/notes", {"text": "  "})
    assert (refused.status_code, empty.status_code) == (400, 400)
    assert "Edit the draft instead" in refused.content.decode()
    assert Addendum.objects.count() == 1


def test_the_resources_screen_and_the_snapshot_cost_the_same_queries_for_one_place_or_ten(
    client, responder
):
    """A line of a place reads only the columns it shows (listed_brief's BRIEF_FIELDS): one
    it left out and then showed would be read again for every row."""

    def place(i):
        sal = ServiceAtLocationFactory(
            service__name=f"Shelter {i}", service__accepts_referrals=True
        )
        AddressFactory(location=sal.location, address_1=f"{i} First St", city="Albuquerque")
        LanguageFactory(service=sal.service, code="es")
        CapacityFactory(service_at_location=sal, available=i, total=20)

    client.force_login(responder)
    place(0)
    client.get("/field/resources/")  # the session's first request does more
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as screen:
            html = client.get("/field/resources/?lat=35.08&lon=-106.65").content.decode()
        with CaptureQueriesContext(connection) as snapshot:
            services = client.get("/field/directory.json").json()["services"]
        counts.append((len(screen), len(snapshot), html.count("First St"), len(services)))
        for i in range(1, 10):
            place(i)

    (one_screen, one_snapshot, one_line, one_row), (ten_screen, ten_snapshot, ten_lines, rows) = (
        counts
    )
    assert (one_line, one_row, ten_lines, rows) == (1, 1, 10, 10)
    assert (ten_screen, ten_snapshot) == (one_screen, one_snapshot)


def test_a_place_on_the_equator_or_the_meridian_keeps_its_point(client, responder):
    """Latitude or longitude 0 is a coordinate, not a missing one: the screen's marker and the
    snapshot's point are kept (place_line tests for None, not for a false value)."""
    ServiceAtLocationFactory(
        service__name="Zero point",
        service__accepts_referrals=True,
        location__latitude=0,
        location__longitude=0,
    )
    client.force_login(responder)
    html = client.get("/field/resources/").content.decode()
    (line,) = client.get("/field/directory.json").json()["services"]
    assert 'data-lat="0.0" data-lng="0.0"' in html
    assert (line["latitude"], line["longitude"]) == (0.0, 0.0)
