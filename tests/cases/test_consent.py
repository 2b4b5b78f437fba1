"""Consent per scope: recorded with method and recorder, revoked not deleted, Part 2 rules."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from acs.errors import DomainError
from cases.models import Consent
from cases.selectors import consent_active
from cases.services import consent_record, consent_revoke, resident_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def sunny(responder):
    return resident_create(actor=responder, data={"preferred_name": "Sunny"})


def test_a_responder_records_and_revokes_sms_consent(client, responder, sunny):
    client.force_login(responder)
    url = f"/api/v1/field/residents/{sunny.public_id}/consents"

    created = client.post(
        url, {"scope": "sms", "method": "verbal"}, content_type="application/json"
    )

    assert created.status_code == 201
    assert consent_active(sunny, "sms")
    consent_id = created.json()["id"]
    revoked = client.post(f"{url}/{consent_id}/revoke")
    assert revoked.status_code == 200
    assert not consent_active(sunny, "sms")
    assert client.post(f"{url}/{consent_id}/revoke").status_code == 409
    assert len(client.get(url).json()["results"]) == 1  # kept, not deleted


def test_a_named_partner_consent_holds_only_for_that_partner(responder, sunny, agency_a, agency_b):
    consent_record(
        actor=responder,
        resident=sunny,
        scope="share_named_partner",
        method="written",
        organization=agency_a,
    )

    assert consent_active(sunny, "share_named_partner", organization=agency_a)
    assert not consent_active(sunny, "share_named_partner", organization=agency_b)


def test_substance_use_information_needs_written_consent(responder, sunny):
    with pytest.raises(DomainError) as refused:
        consent_record(actor=responder, resident=sunny, scope="substance_use", method="verbal")
    assert "method" in refused.value.fields

    consent_record(actor=responder, resident=sunny, scope="substance_use", method="written")
    assert consent_active(sunny, "substance_use")


def test_an_expired_consent_no_longer_holds(responder, sunny):
    consent = consent_record(
        actor=responder,
        resident=sunny,
        scope="email",
        method="electronic",
        expires_at=timezone.now() + timedelta(days=1),
    )

    assert consent_active(sunny, "email")
    assert not consent_active(sunny, "email", at=consent.expires_at + timedelta(seconds=1))


def test_a_consent_cannot_be_revoked_twice(responder, sunny):
    consent = consent_record(actor=responder, resident=sunny, scope="sms", method="verbal")
    consent_revoke(actor=responder, consent=consent)

    with pytest.raises(DomainError):
        consent_revoke(actor=responder, consent=consent)


def test_a_responder_cannot_record_consent_for_a_resident_out_of_reach(
    client, responder, case_manager
):
    stranger = resident_create(actor=case_manager, data={"preferred_name": "Stranger"})
    client.force_login(responder)

    response = client.post(
        f"/api/v1/field/residents/{stranger.public_id}/consents",
        {"scope": "sms", "method": "verbal"},
        content_type="application/json",
    )

    assert response.status_code == 404


def test_a_retried_consent_with_the_same_client_id_is_recorded_once(client, responder, sunny):
    client.force_login(responder)
    url = f"/api/v1/field/residents/{sunny.public_id}/consents"
    body = {"client_id": str(uuid.uuid4()), "scope": "share_partners", "method": "verbal"}

    first = client.post(url, body, content_type="application/json")
    # The first answer was lost on a dropping line: the tablet sends the same consent again.
    again = client.post(url, body, content_type="application/json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Consent.objects.filter(resident=sunny).count() == 1


def test_another_users_consent_client_id_is_refused_and_reveals_nothing(
    client, responder, case_manager, sunny
):
    client_id = str(uuid.uuid4())
    url = f"/api/v1/field/residents/{sunny.public_id}/consents"
    client.force_login(responder)
    mine = client.post(
        url,
        {"client_id": client_id, "scope": "sms", "method": "verbal"},
        content_type="application/json",
    ).json()
    client.force_login(case_manager)

    response = client.post(
        url,
        {"client_id": client_id, "scope": "sms", "method": "written"},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "client_id_reused",
            "message": "This client_id belongs to another record.",
            "fields": {},
        }
    }
    assert mine["id"] not in response.content.decode()
    assert Consent.objects.count() == 1


def test_a_consent_without_a_client_id_is_recorded_as_before(client, responder, sunny):
    client.force_login(responder)
    url = f"/api/v1/field/residents/{sunny.public_id}/consents"
    body = {"scope": "sms", "method": "verbal"}

    answers = [client.post(url, body, content_type="application/json") for _ in range(2)]

    assert [a.status_code for a in answers] == [201, 201]
    assert Consent.objects.filter(client_id__isnull=True).count() == 2


def test_the_desk_names_a_consent_revoked_expired_or_active(responder, sunny):
    """Consent.state, which the resident page and the merge screen show."""
    live = consent_record(
        actor=responder,
        resident=sunny,
        scope="email",
        method="electronic",
        expires_at=timezone.now() + timedelta(days=1),
    )
    revoked = consent_record(actor=responder, resident=sunny, scope="sms", method="verbal")
    revoked = consent_revoke(actor=responder, consent=revoked)

    assert live.state() == "active"
    assert live.state(live.expires_at + timedelta(seconds=1)) == "expired"
    assert revoked.state() == "revoked"
    assert revoked.state(timezone.now() - timedelta(days=365)) == "revoked"
