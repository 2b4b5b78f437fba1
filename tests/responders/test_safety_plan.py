"""The resident's copy of a safety plan (#22): a printable page in English or Spanish, read
only by those who may read the encounter (audited, never cached), and a text through the
notification outbox only with a number and a consent to texts, carrying their own plan and the
988 line and nothing else of the record."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from acs.models import AuditEvent
from cases import messages
from cases.models import Consent, FormVersion, Notification
from cases.screening import services
from cases.services import consent_record, resident_create
from tests.cases.helpers import logged_encounter
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

PLAN = {
    "sp-1": "When I stop answering my sister",
    "sp-2": "Walk to the river",
    "sp-4": "Tía Rosa 505-555-0100",
}


@pytest.fixture
def plan(responder, unit):
    sunny = resident_create(
        actor=responder,
        data={"preferred_name": "Sunny", "phone": "505-555-0142", "preferred_language": "es"},
    )
    encounter = logged_encounter(responder, unit, residents=[sunny], narrative="Talked a while.")
    response, _ = services.form_response_submit(
        actor=responder,
        client_id=uuid.uuid4(),
        encounter=encounter,
        version=FormVersion.objects.get(definition__key="safety-plan", status="published"),
        resident=sunny,
        answers=PLAN,
        started_at=timezone.now(),
        language="es",
    )
    return response


def test_the_printable_copy_is_in_english_or_spanish_audited_and_never_cached(
    client, responder, plan
):
    client.force_login(responder)
    english = client.get(f"/field/safety-plans/{plan.public_id}/?lang=en")
    assert english.status_code == 200 and english["Cache-Control"] == "no-store"
    text = english.content.decode()
    assert "My safety plan" in text and "Walk to the river" in text
    assert "Step 1. Warning signs" in text and "988" in text
    assert "Talked a while" not in text  # nothing else of the record
    spanish = client.get(f"/field/safety-plans/{plan.public_id}/").content.decode()
    assert "Mi plan de seguridad" in spanish and "Paso 1. Señales de alerta" in spanish
    assert "Tía Rosa 505-555-0100" in spanish
    assert (
        AuditEvent.objects.filter(
            actor=responder,
            action="view",
            target_id=plan.resident.public_id,
            reason="field_print",
        ).count()
        == 2
    )


def test_another_units_responder_cannot_open_the_copy(client, plan):
    stranger = UserFactory(username="stranger", role="responder")
    UnitFactory(call_sign="ACS-98").members.add(stranger)
    client.force_login(stranger)
    assert client.get(f"/field/safety-plans/{plan.public_id}/").status_code == 404
    assert client.post(f"/field/safety-plans/{plan.public_id}/text").status_code == 404
    assert not Notification.objects.exists()


def test_a_text_needs_their_consent_to_texts(client, responder, plan):
    client.force_login(responder)
    page = client.post(f"/field/safety-plans/{plan.public_id}/text", follow=True)
    assert "Record their consent to texts first" in page.content.decode()
    assert not Notification.objects.filter(template="safety_plan").exists()

    consent_record(
        actor=responder, resident=plan.resident, scope=Consent.Scope.SMS, method="verbal"
    )
    client.post(f"/field/safety-plans/{plan.public_id}/text")
    client.post(f"/field/safety-plans/{plan.public_id}/text")  # asked twice: one text
    sent = Notification.objects.get(template="safety_plan")
    assert sent.resident == plan.resident and sent.channel == "sms"
    assert sent.context == {"form_response_pk": plan.pk}  # the outbox row holds no answers
    assert AuditEvent.objects.filter(detail__safety_plan_sent=str(plan.public_id)).count() == 1


def test_the_text_is_their_plan_and_the_988_line_in_their_language(plan):
    _subject, body = messages.render("safety_plan", "es", {"form_response_pk": plan.pk})
    assert body.startswith("Su plan, de Albuquerque Community Safety:")
    assert "Paso 1: When I stop answering my sister" in body
    assert "Paso 4: Tía Rosa 505-555-0100" in body
    assert "988" in body and "PARA" in body  # STOP, in Spanish
    assert "Sunny" not in body and "suicid" not in body.lower()
    # A plan removed by retention: the 988 line alone.
    plan.answers = {}
    plan.save()
    _subject, body = messages.render("safety_plan", "en", {"form_response_pk": plan.pk})
    assert "Step" not in body and "988" in body


def test_a_safety_plan_text_is_not_held_by_the_quiet_hours():
    assert "safety_plan" in messages.ON_REQUEST
    assert "checkin" not in messages.ON_REQUEST
