"""Fixtures of the API's schema tests (test_api_fuzz.py, test_api_contract.py)."""

import uuid

import pytest
from django.utils import timezone

from cases import services as case_services
from cases.models import AssignmentStatus, EncounterResident, UnitAssignment
from resources import services as resource_services
from tests.factories import CallFactory
from tests.resources.referral_helpers import consenting_resident, referrable_service


@pytest.fixture
def api_world(responder, unit, case_manager, supervisor, agency_a):
    """One of each record the API works on, reachable by the roles of the schema tests
    (tests/acs/api_callers.py), as (path prefix, ids of its parameters) pairs."""
    call = CallFactory(incident_number="T-000777")
    UnitAssignment.objects.create(
        call=call, unit=unit, status=AssignmentStatus.DISPATCHED, dispatched_at=timezone.now()
    )
    resident = consenting_resident(agency_a, recorded_by=case_manager)
    consent = resident.consents.get()
    encounter, _ = case_services.encounter_create(
        actor=responder,
        client_id=uuid.uuid4(),
        unit=unit,
        call=call,
        data={},
        resident_ids=[],
    )
    # The unit met the resident (a responder sees only those), as a sync from the field does.
    EncounterResident.objects.create(encounter=encounter, resident=resident)
    service, sal = referrable_service(agency_a)
    referral = resource_services.referral_create(
        actor=case_manager,
        resident=resident,
        service=service,
        service_at_location=sal,
        reason="Needs a bed tonight",
        needs=["shelter"],
        urgency="urgent",
        send=True,
    )
    # Path prefix -> the seeded records' ids for its parameters; an operation takes the first
    # prefix its path starts with, so sub-resources (/submit, /accept, ...) added later are
    # covered too. The longer of two overlapping prefixes comes first.
    resident_id, encounter_id = str(resident.public_id), str(encounter.public_id)
    return [
        ("/api/v1/cad/calls/{incident_number}", {"incident_number": call.incident_number}),
        ("/api/v1/field/units/{call_sign}", {"call_sign": unit.call_sign}),
        (
            "/api/v1/field/residents/{public_id}/consents/{consent_id}",
            {"public_id": resident_id, "consent_id": str(consent.public_id)},
        ),
        ("/api/v1/field/residents/{public_id}", {"public_id": resident_id}),
        ("/api/v1/field/encounters/{public_id}", {"public_id": encounter_id}),
        ("/api/v1/field/referrals/{public_id}", {"public_id": str(referral.public_id)}),
        ("/api/v1/referrals/{public_id}", {"public_id": str(referral.public_id)}),
        (
            "/api/v1/capacity/{service_at_location_id}",
            {"service_at_location_id": str(sal.public_id)},
        ),
    ]
