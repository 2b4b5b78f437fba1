"""Forms in the staff exports (#22): the encounters CSV says when a screen set the risk level
and which forms were completed; the billing evidence file lists each screen and assessment
with who did it (and their credentials), the call's times, the instrument and its result, and
never the answers."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import FormVersion
from cases.screening import services
from cases.services import encounter_submit, resident_create
from tests.cases import hmis_world
from tests.cases.export_helpers import built
from tests.cases.helpers import dispatched_call, logged_encounter

pytestmark = pytest.mark.django_db
exports_dir = hmis_world.exports_dir

TODAY = timezone.localdate()
RANGE = {"start_date": TODAY - timedelta(days=1), "end_date": TODAY}


@pytest.fixture
def screened(responder, unit):
    responder.first_name, responder.last_name = "Rae", "Lopez"
    responder.credentials = "LPCC, NPI 1234567893"
    responder.save()
    sunny = resident_create(actor=responder, data={"preferred_name": "Sunny"})
    encounter = logged_encounter(
        responder, unit, residents=[sunny], call=dispatched_call(unit), disposition="referred"
    )
    for key, answers in (
        ("cssrs-screener", {"cssrs-1": True, "cssrs-2": True, "cssrs-3": True,
                            "cssrs-4": False, "cssrs-5": False, "cssrs-6": False}),
        ("safety-plan", {"sp-1": "Not sleeping", "sp-2": "Music"}),
    ):  # fmt: skip
        services.form_response_submit(
            actor=responder,
            client_id=uuid.uuid4(),
            encounter=encounter,
            version=FormVersion.objects.get(definition__key=key, status="published"),
            resident=sunny,
            answers=answers,
            started_at=timezone.now() - timedelta(minutes=10),
        )
    return encounter_submit(actor=responder, encounter=encounter)


def test_the_billing_evidence_lists_each_screen_with_who_when_and_the_result(
    screened, supervisor, exports_dir
):
    _job, rows = built(supervisor, kind="billing_csv", redaction="full", **RANGE)
    assert len(rows) == 1  # the safety plan is not a screen or an assessment
    row = rows[0]
    assert row["encounter_id"] == str(screened.public_id)
    assert row["instrument"].startswith("Columbia Suicide Severity Rating Scale")
    assert row["instrument_version"] == "1" and row["result_risk_level"] == "moderate"
    assert row["staff_name"] == "Rae Lopez"
    assert row["staff_credentials"] == "LPCC, NPI 1234567893"
    assert row["unit_on_scene_at"] and row["call_received_at"] and row["form_completed_at"]
    assert "Not sleeping" not in str(rows) and "cssrs-1" not in str(row)


def test_the_billing_evidence_drops_names_and_credentials_below_full(
    screened, supervisor, exports_dir
):
    _job, rows = built(supervisor, kind="billing_csv", redaction="deidentified", **RANGE)
    assert "staff_name" not in rows[0] and "staff_credentials" not in rows[0]
    assert rows[0]["encounter_id"].startswith("e-")


def test_the_encounters_csv_names_the_forms_and_when_the_risk_was_screened(
    screened, case_manager, exports_dir
):
    _job, rows = built(case_manager, kind="encounters_csv", **RANGE)
    assert rows[0]["risk_level"] == "moderate"
    assert rows[0]["risk_screened_at"]
    assert rows[0]["forms_completed"] == "cssrs-screener v1;safety-plan v1"
