"""Referring from the field app: a responder refers a resident met on an encounter; the
encounter shows the referral's live status."""

import uuid

import pytest

from cases.models import Consent
from cases.services import consent_record, resident_create
from resources import services
from resources.models import Referral, ReferralStatus
from tests.factories import ResidentFactory
from tests.resources.referral_helpers import referrable_service

pytestmark = pytest.mark.django_db
URL = "/api/v1/field/referrals"


@pytest.fixture
def field(client, responder):
    client.force_login(responder)
    return client


@pytest.fixture
def service(agency_a):
    return referrable_service(agency_a)[0]


@pytest.fixture
def met(field, responder, agency_a):
    """A resident met on an encounter, who consented to share with agency A."""
    resident = resident_create(actor=responder, data={"preferred_name": "Sunny"})
    consent_record(
        actor=responder,
        resident=resident,
        scope=Consent.Scope.SHARE_NAMED_PARTNER,
        organization=agency_a,
        method=Consent.Method.VERBAL,
    )
    encounter = field.post(
        "/api/v1/field/encounters",
        {
            "client_id": str(uuid.uuid4()),
            "unit": "ACS-11",
            "residents": [str(resident.public_id)],
        },
        content_type="application/json",
    ).json()
    return resident, encounter


def refer(field, resident, service, **body):
    body.setdefault("client_id", str(uuid.uuid4()))
    body.update(resident=str(resident.public_id), service=str(service.public_id))
    return field.post(URL, body, content_type="application/json")


def test_a_responder_refers_from_the_encounter_and_sees_the_live_status(
    field, met, service, partner_a
):
    resident, encounter = met
    response = refer(
        field, resident, service, encounter=encounter["id"], needs=["shelter"], urgency="urgent"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "sent" and body["encounter"] == encounter["id"]

    services.referral_accept(actor=partner_a, referral=Referral.objects.get())
    shown = field.get(f"/api/v1/field/encounters/{encounter['id']}").json()["referrals"]
    assert [(r["id"], r["status"]) for r in shown] == [(body["id"], "accepted")]
    assert field.get(f"{URL}/{body['id']}").json()["status"] == "accepted"


def test_a_retry_returns_the_first_referral(field, met, service):
    resident, _ = met
    client_id = str(uuid.uuid4())
    first = refer(field, resident, service, client_id=client_id)
    again = refer(field, resident, service, client_id=client_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Referral.objects.count() == 1


def test_without_consent_the_referral_is_refused_and_nothing_is_sent(field, responder, service):
    resident = resident_create(actor=responder, data={"preferred_name": "Beto"})
    response = refer(field, resident, service)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "consent_required"
    assert not Referral.objects.filter(status=ReferralStatus.SENT).exists()


def test_a_draft_can_wait(field, responder, service):
    resident = resident_create(actor=responder, data={"preferred_name": "Beto"})
    response = refer(field, resident, service, send=False)
    assert response.status_code == 201 and response.json()["status"] == "draft"


def test_a_responder_cannot_refer_a_resident_out_of_reach(field, service):
    stranger = ResidentFactory()
    assert refer(field, stranger, service).status_code == 404
    assert not Referral.objects.exists()


def test_a_responder_cannot_override_consent(field, responder, service):
    resident = resident_create(actor=responder, data={"preferred_name": "Beto"})
    response = refer(field, resident, service, consent_override_reason="hurry")
    assert response.status_code == 403


def test_partners_cannot_use_the_staff_endpoint(client, partner_a, service):
    client.force_login(partner_a)
    assert refer(client, ResidentFactory(), service).status_code == 403


def test_another_responders_referral_is_404(client, service, met, field, team):
    from acs.roles import Role
    from tests.factories import UserFactory

    resident, _ = met
    made = refer(field, resident, service).json()
    other = UserFactory(username="other-responder", role=Role.RESPONDER, team=team)
    client.force_login(other)
    assert client.get(f"{URL}/{made['id']}").status_code == 404
