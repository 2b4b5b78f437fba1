"""Referring from the resident's page in the admin, for every desk role: the pickers answer
(the admin's autocomplete no longer 403s case managers and supervisors), the refer panel
searches the directory, shows place, places free and consent before sending, sends through
referral_create, and says why a referral is refused without losing what was typed. And the
page puts what a case manager acts on first."""

from datetime import timedelta

import pytest
from django.utils import timezone

from acs.models import AuditAction, AuditEvent
from cases.display import when
from cases.models import Consent, FollowUp
from resources.models import Referral, Service, ServiceStatus
from resources.services import capacity_update
from tests.factories import (
    AddressFactory,
    AttributeFactory,
    OrganizationFactory,
    ResidentFactory,
    ServiceAtLocationFactory,
    ServiceFactory,
    TaxonomyTermFactory,
)
from tests.resources.referral_helpers import referral_in

pytestmark = pytest.mark.django_db

AUTOCOMPLETE = "/admin/autocomplete/"


@pytest.fixture
def places(db):
    """A night shelter with beds (Casa de Paz), a detox that is full (Rio Grande Crisis
    Center), and a pantry that takes no referrals."""
    haven = OrganizationFactory(name="Casa de Paz")
    shelter = ServiceFactory(
        organization=haven, name="Overnight emergency shelter", accepts_referrals=True
    )
    AttributeFactory(service=shelter, taxonomy_term=TaxonomyTermFactory(code="shelter-emergency"))
    shelter_here = ServiceAtLocationFactory(service=shelter, location__name="Casa de Paz")
    AddressFactory(location=shelter_here.location, address_1="415 Tijeras Ave NW")
    capacity_update(service_at_location=shelter_here, available=12, total=40)

    crisis = OrganizationFactory(name="Rio Grande Crisis Center")
    detox = ServiceFactory(organization=crisis, name="Crisis stabilization", accepts_referrals=True)
    AttributeFactory(service=detox, taxonomy_term=TaxonomyTermFactory(code="detox"))
    detox_here = ServiceAtLocationFactory(service=detox, location__name="Crisis Center")
    AddressFactory(location=detox_here.location, address_1="2600 Marble Ave NE")
    capacity_update(service_at_location=detox_here, available=0, total=16)

    pantry = ServiceFactory(name="Food pantry", accepts_referrals=False)
    pantry_here = ServiceAtLocationFactory(service=pantry)
    return {"shelter": shelter_here, "detox": detox_here, "pantry": pantry_here}


def consent_to(resident, organization, *, by):
    Consent.objects.create(
        resident=resident,
        scope=Consent.Scope.SHARE_NAMED_PARTNER,
        organization=organization,
        method=Consent.Method.VERBAL,
        recorded_by=by,
    )


def signed_in(client, user):
    client.force_login(user)
    client.get("/admin/")  # the session's first request does the MFA check
    return client


def page_url(resident) -> str:
    return f"/admin/cases/resident/{resident.pk}/change/"


def refer(client, resident, sal, **fields):
    data = {
        "refer-service_at_location": sal.pk,
        "refer-urgency": "routine",
        "refer-reason": "Needs a bed tonight; asked for Casa de Paz by name.",
        **fields,
    }
    return client.post(f"/admin/cases/resident/{resident.pk}/refer/", data)


# --- the admin's autocomplete (the 403 a case manager met) ----------------------------------


def autocomplete(client, model_name, field_name, term=""):
    return client.get(
        AUTOCOMPLETE,
        {
            "app_label": "resources",
            "model_name": model_name,
            "field_name": field_name,
            "term": term,
        },
    )


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "admin_user"])
def test_every_desk_role_gets_services_from_the_admins_autocomplete(
    client, request, places, persona
):
    signed_in(client, request.getfixturevalue(persona))

    services = autocomplete(client, "referral", "service", "shelter")
    at_locations = autocomplete(client, "referral", "service_at_location")

    assert services.status_code == 200, services.content
    assert [r["text"] for r in services.json()["results"]] == ["Overnight emergency shelter"]
    assert at_locations.status_code == 200
    assert len(at_locations.json()["results"]) == 3


@pytest.mark.parametrize("persona", ["responder", "partner_a"])
def test_responders_and_partners_get_nothing_from_the_admins_autocomplete(
    client, request, places, persona
):
    client.force_login(request.getfixturevalue(persona))

    response = autocomplete(client, "referral", "service", "shelter")

    assert response.status_code in (302, 403)
    assert b"shelter" not in response.content.lower()


def test_a_desk_role_without_view_permission_on_a_model_cannot_autocomplete_it(
    client, case_manager, places
):
    """Reading services to refer to is not reading the rest of the directory: organizations
    and locations stay with those who hold their view permission."""
    signed_in(client, case_manager)

    assert autocomplete(client, "service", "organization", "casa").status_code == 403
    assert autocomplete(client, "serviceatlocation", "location", "casa").status_code == 403


def test_a_case_manager_reads_a_service_but_cannot_change_the_directory(
    client, case_manager, places
):
    service = places["shelter"].service
    signed_in(client, case_manager)
    url = f"/admin/resources/service/{service.pk}/change/"

    page = client.get(url)
    changed = client.post(url, {"name": "Renamed", "organization": service.organization_id})

    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert changed.status_code == 403
    service.refresh_from_db()
    assert service.name == "Overnight emergency shelter"


# --- the panel's picker -------------------------------------------------------------------


def options(client, term=""):
    response = client.get("/admin/cases/resident/refer/options/", {"term": term})
    assert response.status_code == 200
    return response.json()["results"]


@pytest.mark.parametrize(
    ("term", "found"),
    [
        ("shleter", "Overnight emergency shelter"),  # a typo in the name
        ("Rio Grande", "Crisis stabilization"),  # the partner
        ("detox", "Crisis stabilization"),  # the need (taxonomy term)
    ],
)
def test_the_picker_finds_by_name_partner_or_need_and_labels_place_and_capacity(
    client, case_manager, places, term, found
):
    signed_in(client, case_manager)

    results = options(client, term)

    assert results and results[0]["text"].startswith(found)
    label = results[0]["text"]
    if found == "Crisis stabilization":
        assert "2600 Marble Ave NE, Albuquerque" in label and "0 of 16 beds free" in label
        assert results[0]["capacity"] == "full"
    else:
        assert "415 Tijeras Ave NW, Albuquerque" in label and "12 of 40 beds free" in label


def test_the_picker_offers_only_services_taking_referrals(client, supervisor, places):
    signed_in(client, supervisor)

    texts = [r["text"] for r in options(client)]

    assert len(texts) == 2 and not any("Food pantry" in t for t in texts)


def test_the_pickers_pages_follow_the_search_one_after_the_other(
    client, case_manager, places, monkeypatch
):
    """select2 asks for page after page while `more` is true: together they are the search's
    own order, each place once."""
    from cases.admin import resident_page
    from resources.selectors import service_search

    monkeypatch.setattr(resident_page, "OPTIONS_PER_PAGE", 1)
    signed_in(client, case_manager)
    expected = [str(sal.pk) for sal in service_search(accepts_referrals=True)]

    seen, page, more = [], 1, True
    while more:
        answer = client.get("/admin/cases/resident/refer/options/", {"page": page}).json()
        seen += [r["id"] for r in answer["results"]]
        more, page = answer["pagination"]["more"], page + 1
    assert len(expected) >= 2 and seen == expected


def test_the_picker_reads_the_addresses_it_labels_and_no_other_list(client, case_manager, places):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    signed_in(client, case_manager)
    with CaptureQueriesContext(connection) as ctx:
        assert options(client, "shelter")
    read = [q["sql"] for q in ctx.captured_queries]
    assert [sql for sql in read if 'FROM "resources_address"' in sql]
    for table in ("resources_language", "resources_attribute"):
        assert not [sql for sql in read if f'FROM "{table}"' in sql], table


def test_the_picker_costs_the_same_queries_for_two_places_or_ten(client, case_manager, places):
    """Its lines read only the columns they show (listed_brief's BRIEF_FIELDS): one left out
    and then shown would be read again for every row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    signed_in(client, case_manager)
    options(client, "")
    with CaptureQueriesContext(connection) as two:
        assert len(options(client, "")) == 2
    for i in range(8):
        sal = ServiceAtLocationFactory(
            service__name=f"Shelter {i}", service__accepts_referrals=True
        )
        AddressFactory(location=sal.location, address_1=f"{i} Second St")
        capacity_update(service_at_location=sal, available=i, total=10)
    with CaptureQueriesContext(connection) as ten:
        assert len(options(client, "")) == 10

    assert len(ten) == len(two)


def test_the_picker_is_for_desk_staff_only(client, responder, places):
    client.force_login(responder)

    response = client.get("/admin/cases/resident/refer/options/", {"term": "shelter"})

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_preview_says_consent_and_capacity_before_sending_and_is_audited(
    client, case_manager, places
):
    resident = ResidentFactory()
    consent_to(resident, places["shelter"].service.organization, by=case_manager)
    signed_in(client, case_manager)
    url = f"/admin/cases/resident/{resident.pk}/refer/preview/"

    covered = client.get(url, {"service_at_location": places["shelter"].pk}).json()
    not_covered = client.get(url, {"service_at_location": places["detox"].pk}).json()

    assert covered["consent_ok"] is True and covered["capacity_state"] == "free"
    assert covered["capacity"] == "12 of 40 beds free"
    assert covered["place"] == "Casa de Paz · 415 Tijeras Ave NW, Albuquerque"
    assert not_covered["consent_ok"] is False and "No consent" in not_covered["consent"]
    assert not_covered["capacity_state"] == "full"
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.VIEW, target_id=resident.public_id, reason="admin: refer preview"
        ).count()
        == 2
    )


# --- sending ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["case_manager", "supervisor", "admin_user"])
def test_every_desk_role_refers_from_the_residents_page(client, request, places, persona):
    user = request.getfixturevalue(persona)
    resident = ResidentFactory()
    consent_to(resident, places["shelter"].service.organization, by=user)
    signed_in(client, user)

    response = refer(client, resident, places["shelter"])

    assert response.status_code == 302
    assert response["Location"] == page_url(resident) + "#referrals"
    referral = Referral.objects.get(resident=resident)
    assert (referral.status, referral.service_at_location) == ("sent", places["shelter"])
    assert referral.created_by == user
    page = client.get(page_url(resident))
    html = page.content.decode()
    assert "Referral to Overnight emergency shelter (Casa de Paz) sent." in html
    listed = html[html.index('id="referrals"') : html.index('id="timeline"')]
    assert f'href="/admin/resources/referral/{referral.pk}/change/"' in listed
    assert "Casa de Paz" in listed and ">Sent<" in listed


def test_no_consent_is_refused_in_words_beside_the_form_and_nothing_typed_is_lost(
    client, case_manager, places
):
    resident = ResidentFactory()
    signed_in(client, case_manager)

    response = refer(
        client,
        resident,
        places["shelter"],
        **{"refer-urgency": "urgent", "refer-reason": "Cold night; wants a bed near Tijeras."},
    )

    assert response.status_code == 200
    html = response.content.decode()
    panel = html[html.index('id="refer"') : html.index('id="timeline"')]
    assert "Not sent." in panel
    assert "The resident has not consented to share with this partner." in panel
    assert "Cold night; wants a bed near Tijeras.</textarea>" in panel
    assert '<option value="urgent" selected>' in panel
    assert f'<option value="{places["shelter"].pk}" selected>' in panel
    assert "No consent to share with this partner" in panel  # the preview, shown again
    assert not Referral.objects.exists()


def test_a_full_place_is_shown_full_but_not_refused(client, case_manager, places):
    """A partner may keep a waiting list: the desk sees "0 of 16" before sending, and decides."""
    resident = ResidentFactory()
    consent_to(resident, places["detox"].service.organization, by=case_manager)
    signed_in(client, case_manager)

    response = refer(client, resident, places["detox"])

    assert response.status_code == 302
    assert Referral.objects.get().service_at_location == places["detox"]


def test_a_service_that_stopped_taking_referrals_is_refused_in_words(client, case_manager, places):
    resident = ResidentFactory()
    Service.objects.filter(pk=places["shelter"].service_id).update(accepts_referrals=False)
    signed_in(client, case_manager)

    response = refer(client, resident, places["shelter"])

    assert "This service does not take electronic referrals." in response.content.decode()
    assert not Referral.objects.exists()


def test_nothing_picked_is_refused_in_words(client, case_manager, places):
    resident = ResidentFactory()
    signed_in(client, case_manager)

    response = client.post(
        f"/admin/cases/resident/{resident.pk}/refer/",
        {"refer-urgency": "routine", "refer-reason": "Kept"},
    )

    html = response.content.decode()
    assert "Pick a service to refer to." in html and "Kept</textarea>" in html


def test_a_supervisor_sends_without_consent_with_a_reason_a_case_manager_cannot(
    client, case_manager, supervisor, places
):
    resident = ResidentFactory()
    signed_in(client, case_manager)
    as_case_manager = client.get(page_url(resident)).content.decode()
    assert "consent_override_reason" not in as_case_manager
    refused = refer(
        client, resident, places["shelter"], **{"refer-consent_override_reason": "Unconscious"}
    )
    assert refused.status_code == 200 and not Referral.objects.exists()

    signed_in(client, supervisor)
    response = refer(
        client,
        resident,
        places["shelter"],
        **{"refer-consent_override_reason": "Cannot consent tonight; freezing."},
    )

    assert response.status_code == 302
    assert Referral.objects.get().consent_override_by == supervisor


def test_a_merged_record_has_no_refer_panel(client, case_manager):
    survivor = ResidentFactory()
    merged = ResidentFactory(merged_into=survivor, merged_at=timezone.now())
    signed_in(client, case_manager)

    assert 'id="refer-form"' not in client.get(page_url(merged)).content.decode()
    assert 'id="refer-form"' in client.get(page_url(survivor)).content.decode()


# --- the page -----------------------------------------------------------------------------


def test_the_page_puts_follow_ups_referrals_and_timeline_before_the_form(
    client, case_manager, places
):
    resident = ResidentFactory()
    now = timezone.now()
    follow_up = FollowUp.objects.create(
        resident=resident,
        kind="phone",
        due_at=now - timedelta(hours=2),
        window_ends_at=now + timedelta(days=7),
        assignee=case_manager,
    )
    FollowUp.objects.create(
        resident=resident,
        kind="text",
        due_at=now,
        window_ends_at=now,
        status=FollowUp.Status.CLOSED,
        outcome="connected",
        closed_at=now,
    )
    active = referral_in(
        "accepted", service=places["shelter"].service, resident=resident, created_by=case_manager
    )
    referral_in(
        "completed", service=places["shelter"].service, resident=resident, created_by=case_manager
    )
    signed_in(client, case_manager)

    html = client.get(page_url(resident)).content.decode()

    order = [
        html.index('id="follow-ups"'),
        html.index('id="referrals"'),
        html.index('id="timeline"'),
        html.index('id="resident_form"'),
    ]
    assert order == sorted(order)
    follow_ups = html[order[0] : order[1]]
    due = when(follow_up.due_at)  # the desk's one format, as on the dashboard
    assert f'href="/admin/cases/followup/{follow_up.pk}/change/"' in follow_ups
    assert due in follow_ups and "overdue" in follow_ups
    assert follow_ups.count("/admin/cases/followup/") == 1  # the closed one is not listed
    referrals = html[order[1] : html.index('id="refer"')]
    assert f'href="/admin/resources/referral/{active.pk}/change/"' in referrals
    assert referrals.count("/admin/resources/referral/") == 1  # completed: in the timeline
    timeline = html[order[2] : order[3]]
    assert timeline.count(f'href="/admin/resources/referral/{active.pk}/change/"') == 1
    assert 'href="#consents"' not in timeline  # no consent recorded
    assert 'href="#resident_form">Record created' in timeline
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.VIEW, target_id=resident.public_id, reason="admin"
        ).count()
        == 1
    )


def test_nothing_to_offer_says_which_services_were_meant_and_why(client, case_manager, places):
    """No place to offer for the words typed: the answer names the services they meant and
    why none is offered, for the picker to show instead of a bare "No results found"."""
    signed_in(client, case_manager)
    Service.objects.filter(name="Overnight emergency shelter").update(status=ServiceStatus.INACTIVE)
    ServiceFactory(name="Youth shelter", accepts_referrals=True)  # no place yet

    def answer(term):
        response = client.get("/admin/cases/resident/refer/options/", {"term": term})
        assert response.status_code == 200
        return response.json()

    closed = answer("shleter")
    assert closed["results"] == []
    assert closed["hint"] == (
        "Not offered here: Overnight emergency shelter (inactive); "
        "Youth shelter (has no place yet)."
    )
    assert answer("pantry")["hint"] == "Not offered here: Food pantry (does not take referrals)."
    assert "hint" not in answer("detox")  # something to offer
    assert "hint" not in answer("xylophone")  # nothing meant

    case_manager.language = "es"  # in the words of whoever asks
    case_manager.save(update_fields=["language"])
    assert answer("pantry")["hint"] == "No se ofrece aquí: Food pantry (no acepta remisiones)."
