"""The encounter form's referral picker (#17): services for the needs ticked, searched by the
directory's own search, each with its place and places free (a full place is listed, not
refused), and what the chosen person's consent covers, by the rule referral_send applies."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Consent
from cases.services import consent_record, consent_revoke, resident_create
from resources.models import ServiceStatus
from resources.selectors import NEED_TERMS, need_terms, sharing_consent_for
from tests.factories import (
    AddressFactory,
    AttributeFactory,
    CapacityFactory,
    OrganizationFactory,
    ServiceAtLocationFactory,
    TaxonomyTermFactory,
)

pytestmark = pytest.mark.django_db
URL = "/field/directory.json"


def place(name, term_code, *, available=5, total=40, address="1 Main St", accepts=True):
    sal = ServiceAtLocationFactory(service__name=name, location__name=f"{name} house")
    sal.service.accepts_referrals = accepts
    sal.service.save()
    AddressFactory(location=sal.location, address_1=address)
    AttributeFactory(service=sal.service, taxonomy_term=TaxonomyTermFactory(code=term_code))
    CapacityFactory(service_at_location=sal, available=available, total=total)
    return sal


@pytest.fixture
def field(client, responder):
    client.force_login(responder)
    return client


@pytest.fixture
def places(db):
    return {
        "shelter": place("Westside Emergency Housing", "shelter-emergency", available=0),
        "food": place("Roadrunner Pantry", "food-pantry", address="2 Food Way"),
        "detox": place("Turquoise Lodge", "detox"),
        "closed": place("No Referrals Shelter", "shelter", accepts=False),
    }


def names(body):
    return sorted(s["name"] for s in body["services"])


def test_the_needs_ticked_choose_the_services_and_a_full_place_is_listed(field, places):
    body = field.get(URL, {"need": ["shelter"]}).json()

    assert names(body) == ["Westside Emergency Housing"]
    (row,) = body["services"]
    assert row["capacity"]["available"] == 0 and row["capacity"]["total"] == 40
    assert row["location"] == "Westside Emergency Housing house"
    assert row["address"] == "1 Main St" and row["city"] == "Albuquerque"
    assert row["organization_id"] == str(places["shelter"].service.organization.public_id)
    assert row["needs"] == ["shelter"]
    assert body["filtered"] is True

    both = field.get(URL, {"need": ["food", "substance_use"]}).json()
    assert names(both) == ["Roadrunner Pantry", "Turquoise Lodge"]


def test_typing_searches_the_directory_typo_tolerant_within_the_needs(field, places):
    assert names(field.get(URL, {"q": "pantri"}).json()) == ["Roadrunner Pantry"]
    assert field.get(URL, {"q": "pantry", "need": "shelter"}).json()["services"] == []


def test_words_that_find_nothing_offered_say_which_services_they_meant_and_why(field, places):
    """The picker offers services that take referrals at a place; words that meant others
    get them named with why (for the picker to show instead of a bare "No service matches")."""
    places["detox"].service.status = ServiceStatus.INACTIVE
    places["detox"].service.save()

    body = field.get(URL, {"q": "turquoise"}).json()
    assert body["services"] == []
    assert body["not_offered"] == [{"name": "Turquoise Lodge", "why": "inactive"}]
    refused = field.get(URL, {"q": "no referrals"}).json()
    assert refused["not_offered"] == [
        {"name": "No Referrals Shelter", "why": "does not take referrals"}
    ]
    assert "not_offered" not in field.get(URL, {"q": "pantry"}).json()  # something offered
    assert "not_offered" not in field.get(URL, {"q": "xylophone"}).json()  # nothing meant
    assert "not_offered" not in field.get(URL).json()  # the snapshot kept offline


def test_the_snapshot_kept_offline_carries_every_service_with_its_needs(field, places):
    body = field.get(URL).json()

    assert names(body) == ["Roadrunner Pantry", "Turquoise Lodge", "Westside Emergency Housing"]
    assert body["filtered"] is False
    assert body["matchable_needs"] == list(NEED_TERMS)
    needs = {s["name"]: s["needs"] for s in body["services"]}
    assert needs["Turquoise Lodge"] == ["behavioral_health", "substance_use"]
    assert needs["Roadrunner Pantry"] == ["food"]


def test_a_need_without_a_term_filters_nothing_and_unknown_needs_are_ignored(field, places):
    assert need_terms(["other"]) == []
    assert len(field.get(URL, {"need": ["other", "nonsense"]}).json()["services"]) == 3


def test_the_picker_costs_the_same_queries_for_three_places_or_twelve(field, places):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert field.get(URL, {"need": ["food"]}).status_code == 200
        return len(ctx.captured_queries)

    few = queries()
    for i in range(9):
        place(f"Pantry {i}", "food-meals")
    assert queries() == few


def test_the_directory_is_for_field_staff_only(client, partner_a):
    assert client.get(URL).status_code == 302
    client.force_login(partner_a)
    assert client.get(URL).status_code == 403


# --- what the person's consent covers ---------------------------------------------------------


def test_the_consents_answer_says_what_a_referral_would_find_for_every_partner(
    field, responder, agency_a, agency_b
):
    resident = resident_create(actor=responder, data={"preferred_name": "Sunny"})
    consent_record(
        actor=responder,
        resident=resident,
        scope=Consent.Scope.SHARE_NAMED_PARTNER,
        organization=agency_a,
        method=Consent.Method.VERBAL,
    )
    third = OrganizationFactory(name="Third Partner")
    expired = consent_record(
        actor=responder,
        resident=resident,
        scope=Consent.Scope.SHARE_NAMED_PARTNER,
        organization=third,
        method=Consent.Method.VERBAL,
    )
    Consent.objects.filter(pk=expired.pk).update(expires_at=timezone.now())

    url = f"/api/v1/field/residents/{resident.public_id}/consents"
    sharing = field.get(url).json()["sharing"]

    assert sharing == {"partners": False, "named_partners": [str(agency_a.public_id)]}
    for org in (agency_a, agency_b, third):
        expected = "named_partner" if str(org.public_id) in sharing["named_partners"] else "none"
        assert sharing_consent_for(resident, org) == expected

    general = consent_record(
        actor=responder,
        resident=resident,
        scope=Consent.Scope.SHARE_PARTNERS,
        method=Consent.Method.VERBAL,
    )
    assert field.get(url).json()["sharing"]["partners"] is True
    assert sharing_consent_for(resident, agency_b) == "partners"
    consent_revoke(actor=responder, consent=general)
    assert field.get(url).json()["sharing"]["partners"] is False


def test_the_consents_answer_is_a_read_of_the_record_and_out_of_scope_is_404(field, responder):
    from acs.models import AuditEvent
    from tests.factories import ResidentFactory

    resident = resident_create(actor=responder, data={"preferred_name": "Sunny"})
    before = AuditEvent.objects.filter(target_id=resident.public_id, action="view").count()
    assert field.get(f"/api/v1/field/residents/{resident.public_id}/consents").status_code == 200
    assert AuditEvent.objects.filter(target_id=resident.public_id, action="view").count() > before
    stranger = ResidentFactory()
    assert field.get(f"/api/v1/field/residents/{stranger.public_id}/consents").status_code == 404
    assert field.get(f"/api/v1/field/residents/{uuid.uuid4()}/consents").status_code == 404


def test_the_pickers_words_are_in_spanish_for_a_spanish_speaker(field, responder):
    responder.language = "es"
    responder.save(update_fields=["language"])

    html = field.get("/field/encounters/new").content.decode()

    assert "Buscar un servicio (nombre, socio, lugar)" in html
    assert "Lugares libres a las %(time)s" in html
    assert "Lleno: %(a)s de %(t)s %(unit)s libres" in html
    assert "Sin conexión: servicios y lugares libres de la última sincronización" in html
    assert "Consentimiento registrado para este socio" in html
    assert "No se ofrece aquí: %(services)s." in html
