"""Versioned forms on encounters (#22): versions and their freezing, conditions and required
items on the server, the C-SSRS screener's triage rules case by case, responses recorded
once from the tablet, the encounter's risk level and the follow-up rule keyed on it, access
and audit, retention, and the FHIR Questionnaire / QuestionnaireResponse exchange."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from acs.errors import Conflict, Forbidden
from acs.models import AuditEvent
from cases.models import FollowUp, FormDefinition, FormResponse, FormVersion
from cases.screening import questionnaire, scoring, services
from cases.services import resident_create
from cases.services.retention import retention_deidentify
from tests.cases.helpers import dispatched_call, logged_encounter
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

DEFINITIONS = Path(settings.BASE_DIR) / "cases" / "screening" / "definitions"


def shipped(key: str) -> FormVersion:
    return FormVersion.objects.select_related("definition").get(
        definition__key=key, status="published"
    )


def url(encounter) -> str:
    return f"/api/v1/field/encounters/{encounter.public_id}/forms"


def body(version, answers, **extra):
    return {
        "client_id": str(uuid.uuid4()),
        "version": str(version.public_id),
        "answers": answers,
        "started_at": timezone.now().isoformat(),
        **extra,
    }


@pytest.fixture
def field(client, responder):
    client.force_login(responder)
    return client


@pytest.fixture
def sunny(responder):
    return resident_create(actor=responder, data={"preferred_name": "Sunny"})


@pytest.fixture
def encounter(responder, unit, sunny):
    return logged_encounter(responder, unit, residents=[sunny], call=dispatched_call(unit))


CSSRS_NONE = {"cssrs-1": False, "cssrs-2": False, "cssrs-6": False}


# --- versions --------------------------------------------------------------------------------


def test_the_shipped_forms_are_published_and_bound_to_mental_health_and_suicide_calls():
    keys = set(
        FormVersion.objects.filter(status="published").values_list("definition__key", flat=True)
    )
    assert keys == {"cssrs-screener", "safety-plan", "crisis-assessment"}
    cssrs = FormDefinition.objects.get(key="cssrs-screener")
    assert sorted(cssrs.bindings.values_list("call_type", "required")) == [
        ("MNTL", True),
        ("SUICTHRT", True),
    ]
    assert "Columbia" in cssrs.licence


def test_a_published_version_never_changes_in_the_service_nor_in_the_database(admin_user):
    version = shipped("safety-plan")
    with pytest.raises(Conflict):
        services.form_version_save_draft(
            actor=admin_user, definition=version.definition, items=version.items, version=version
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        FormVersion.objects.filter(pk=version.pk).update(items=[])
    with pytest.raises(IntegrityError), transaction.atomic():
        FormVersion.objects.filter(pk=version.pk).delete()
    version.refresh_from_db()
    assert version.items and version.status == "published"


def test_publishing_a_draft_retires_the_version_in_use(admin_user):
    v1 = shipped("safety-plan")
    draft = services.form_version_new_draft(actor=admin_user, definition=v1.definition)
    assert (draft.number, draft.status) == (2, "draft")
    services.form_version_publish(actor=admin_user, version=draft)
    v1.refresh_from_db()
    draft.refresh_from_db()
    assert (v1.status, draft.status) == ("retired", "published")
    assert v1.retired_at is not None and draft.published_by == admin_user


def test_only_supervisors_and_administrators_manage_forms(responder, case_manager, supervisor):
    definition = shipped("safety-plan").definition
    for person in (responder, case_manager):
        with pytest.raises(Forbidden):
            services.form_version_new_draft(actor=person, definition=definition)
    assert services.form_version_new_draft(actor=supervisor, definition=definition).number == 2


def test_a_response_keeps_answering_the_version_it_started_on_after_a_new_one_is_published(
    field, encounter, admin_user
):
    v1 = shipped("cssrs-screener")
    started = timezone.now() - timedelta(minutes=5)  # opened on the tablet, offline
    v2 = services.form_version_new_draft(actor=admin_user, definition=v1.definition)
    services.form_version_publish(actor=admin_user, version=v2)

    answered = field.post(
        url(encounter),
        body(v1, CSSRS_NONE, started_at=started.isoformat()),
        content_type="application/json",
    )
    assert answered.status_code == 201, answered.json()
    assert answered.json()["version"] == str(v1.public_id)
    assert FormResponse.objects.get().version == v1

    # A form opened after v1 was retired must answer the version in use.
    late = field.post(url(encounter), body(v1, CSSRS_NONE), content_type="application/json")
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "form_version_not_open"


# --- conditions and required items ----------------------------------------------------------


def test_items_hidden_by_their_condition_are_not_required_and_their_answers_are_dropped():
    items = shipped("cssrs-screener").items
    # No to 2: 3, 4 and 5 are hidden; an answer left from before is dropped.
    kept = questionnaire.clean_answers(items, {**CSSRS_NONE, "cssrs-3": True})
    assert kept == CSSRS_NONE
    # Yes to 2: 3, 4 and 5 are asked, and required.
    with pytest.raises(questionnaire.FormInvalid) as refused:
        questionnaire.clean_answers(items, {**CSSRS_NONE, "cssrs-2": True})
    assert refused.value.code == "answers_required"
    assert set(refused.value.fields) == {"cssrs-3", "cssrs-4", "cssrs-5"}


def test_required_items_block_the_response_with_the_items_named(field, encounter):
    response = field.post(
        url(encounter),
        body(shipped("cssrs-screener"), {"cssrs-1": True}),
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "answers_required"
    assert set(error["fields"]) == {"cssrs-2", "cssrs-6"}
    assert not FormResponse.objects.exists()


def test_answers_must_fit_their_items():
    items = shipped("crisis-assessment").items
    with pytest.raises(questionnaire.FormInvalid) as refused:
        questionnaire.clean_answers(
            items,
            {"ca-concerns": ["nonsense"], "ca-oriented": "yes", "nowhere": 1},
        )
    assert set(refused.value.fields) == {"ca-concerns", "ca-oriented", "nowhere"}


def test_enable_when_with_any_and_comparisons():
    items = [
        {"linkId": "age", "type": "integer", "text": "Age"},
        {"linkId": "kind", "type": "choice", "text": "Kind", "repeats": True,
         "answerOption": [{"valueCoding": {"code": "a"}}, {"valueCoding": {"code": "b"}}]},
        {"linkId": "why", "type": "string", "text": "Why", "required": True,
         "enableBehavior": "any",
         "enableWhen": [
             {"question": "age", "operator": ">=", "answerInteger": 65},
             {"question": "kind", "operator": "=", "answerCoding": {"code": "b"}},
         ]},
    ]  # fmt: skip
    questionnaire.check_items(items)
    assert questionnaire.clean_answers(items, {"age": 30, "kind": ["a"]}) == {
        "age": 30,
        "kind": ["a"],
    }
    for answers in ({"age": 70}, {"kind": ["a", "b"]}):
        with pytest.raises(questionnaire.FormInvalid):
            questionnaire.clean_answers(items, answers)


def test_a_definition_with_a_condition_on_an_unknown_item_is_refused():
    items = [
        {"linkId": "q1", "type": "boolean", "text": "?"},
        {"linkId": "q2", "type": "boolean", "text": "?",
         "enableWhen": [{"question": "q9", "operator": "=", "answerBoolean": True}]},
    ]  # fmt: skip
    with pytest.raises(questionnaire.FormInvalid) as refused:
        questionnaire.check_items(items)
    assert "q2" in refused.value.fields


# --- C-SSRS screener triage -----------------------------------------------------------------

# (answers yes, risk level): the published triage points, case by case (docs/screening.md).
CSSRS_CASES = [
    ([], "low"),  # nothing endorsed: screened, no risk identified
    (["cssrs-1"], "low"),
    (["cssrs-2"], "low"),
    (["cssrs-1", "cssrs-2"], "low"),
    (["cssrs-2", "cssrs-3"], "moderate"),
    (["cssrs-6"], "moderate"),  # behaviour, lifetime, not in the past 3 months
    (["cssrs-2", "cssrs-4"], "high"),
    (["cssrs-2", "cssrs-5"], "high"),
    (["cssrs-6", "cssrs-6a"], "high"),  # behaviour within the past 3 months
    (["cssrs-1", "cssrs-2", "cssrs-3", "cssrs-6"], "moderate"),
    (["cssrs-1", "cssrs-2", "cssrs-3", "cssrs-4", "cssrs-5", "cssrs-6", "cssrs-6a"], "high"),
]


@pytest.mark.parametrize(("endorsed", "expected"), CSSRS_CASES)
def test_the_cssrs_screener_triage(endorsed, expected):
    items = shipped("cssrs-screener").items
    asked = questionnaire.questions(items)
    answers = {"cssrs-1": False, "cssrs-2": False, "cssrs-6": False}
    if "cssrs-2" in endorsed:
        answers |= {"cssrs-3": False, "cssrs-4": False, "cssrs-5": False}
    if "cssrs-6" in endorsed:
        answers["cssrs-6a"] = False
    answers |= dict.fromkeys(endorsed, True)
    cleaned = questionnaire.clean_answers(items, answers)
    assert set(cleaned) <= set(asked)
    level, detail = scoring.score("cssrs_screener", cleaned)
    assert level == expected
    assert set(detail["endorsed"]) == set(endorsed)


# --- responses: once, the risk level, the follow-up rule ----------------------------------------


def test_a_response_sent_twice_is_stored_once_and_sets_the_risk_level(
    field, encounter, sunny, responder
):
    sent = body(
        shipped("cssrs-screener"),
        {**CSSRS_NONE, "cssrs-2": True, "cssrs-3": False, "cssrs-4": True, "cssrs-5": False},
        resident=str(sunny.public_id),
    )
    first = field.post(url(encounter), sent, content_type="application/json")
    again = field.post(url(encounter), sent, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert FormResponse.objects.count() == 1
    assert first.json()["risk_level"] == "high"
    encounter.refresh_from_db()
    assert encounter.risk_level == "high"
    assert encounter.risk_level_set_by == responder and encounter.risk_level_set_at is not None
    change = AuditEvent.objects.get(
        target_id=encounter.public_id, action="change", detail__fields=["risk_level"]
    )
    assert change.detail["risk_level"] == "high" and change.detail["was"] == "not_screened"
    assert AuditEvent.objects.filter(target_id=sunny.public_id, action="create").exists()


def test_another_users_client_id_is_refused(field, encounter, unit, client):
    sent = body(shipped("cssrs-screener"), CSSRS_NONE)
    assert field.post(url(encounter), sent, content_type="application/json").status_code == 201
    partner = UserFactory(username="partner-responder", role="responder")
    unit.members.add(partner)
    client.force_login(partner)
    again = client.post(url(encounter), sent, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "client_id_reused"


def test_a_high_risk_screen_makes_a_call_within_24_hours_assigned_to_a_case_manager(
    responder, unit, sunny, case_manager
):
    encounter = logged_encounter(responder, unit, residents=[sunny])
    services.form_response_submit(
        actor=responder,
        client_id=uuid.uuid4(),
        encounter=encounter,
        version=shipped("cssrs-screener"),
        resident=sunny,
        answers={"cssrs-1": False, "cssrs-2": False, "cssrs-6": True, "cssrs-6a": True},
        started_at=timezone.now(),
    )
    from cases.services import encounter_submit

    encounter = encounter_submit(actor=responder, encounter=encounter)
    follow_up = FollowUp.objects.get(encounter=encounter)
    assert follow_up.kind == "phone"
    assert follow_up.due_at <= encounter.submitted_at + timedelta(hours=24, seconds=1)
    assert follow_up.assignee == case_manager


def test_a_low_risk_screen_keeps_the_disposition_rule(responder, unit, sunny, case_manager):
    encounter = logged_encounter(responder, unit, residents=[sunny])
    services.form_response_submit(
        actor=responder,
        client_id=uuid.uuid4(),
        encounter=encounter,
        version=shipped("cssrs-screener"),
        resident=sunny,
        answers=CSSRS_NONE,
        started_at=timezone.now(),
    )
    from cases.services import encounter_submit

    encounter = encounter_submit(actor=responder, encounter=encounter)
    follow_up = FollowUp.objects.get(encounter=encounter)
    assert follow_up.assignee is None
    assert follow_up.due_at >= encounter.submitted_at + timedelta(hours=47)


def test_a_high_risk_screen_after_submission_brings_the_follow_up_forward(
    responder, unit, sunny, case_manager
):
    encounter = logged_encounter(responder, unit, residents=[sunny], submit=True)
    before = FollowUp.objects.get(encounter=encounter)
    assert before.assignee is None
    services.form_response_submit(
        actor=responder,
        client_id=uuid.uuid4(),
        encounter=encounter,
        version=shipped("cssrs-screener"),
        resident=sunny,
        answers={**CSSRS_NONE, "cssrs-2": True, "cssrs-3": True, "cssrs-4": False, "cssrs-5": True},
        started_at=timezone.now(),
    )
    after = FollowUp.objects.get(pk=before.pk)
    assert after.due_at < before.due_at and after.assignee == case_manager


# --- access, audit, retention -----------------------------------------------------------------


def test_a_responder_of_another_unit_neither_records_nor_reads_responses(client, encounter, field):
    made = field.post(
        url(encounter), body(shipped("cssrs-screener"), CSSRS_NONE), content_type="application/json"
    ).json()
    stranger = UserFactory(username="stranger", role="responder")
    UnitFactory(call_sign="ACS-99").members.add(stranger)
    client.force_login(stranger)
    sent = body(shipped("cssrs-screener"), CSSRS_NONE)
    assert client.post(url(encounter), sent, content_type="application/json").status_code == 404
    assert client.get(f"/api/v1/field/form-responses/{made['id']}").status_code == 404


def test_reading_a_response_is_audited_on_the_resident(
    field, encounter, sunny, case_manager, client
):
    made = field.post(
        url(encounter),
        body(shipped("cssrs-screener"), CSSRS_NONE, resident=str(sunny.public_id)),
        content_type="application/json",
    ).json()
    client.force_login(case_manager)
    read = client.get(f"/api/v1/field/form-responses/{made['id']}")
    assert read.status_code == 200
    assert read["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(
        actor=case_manager,
        action="view",
        target_id=sunny.public_id,
        detail__form_response=made["id"],
    ).exists()


def test_retention_removes_the_answers_and_keeps_the_form_and_the_risk(responder, unit, sunny):
    encounter = logged_encounter(responder, unit, residents=[sunny])
    response, _ = services.form_response_submit(
        actor=responder,
        client_id=uuid.uuid4(),
        encounter=encounter,
        version=shipped("safety-plan"),
        resident=sunny,
        answers={"sp-1": "When I stop answering my sister", "sp-2": "Walk to the river"},
        started_at=timezone.now(),
    )
    FormResponse.objects.filter(pk=response.pk).update(
        completed_at=timezone.now() - timedelta(days=365 * 8)
    )
    assert retention_deidentify(dry_run=True).counts["form responses"] == 1
    assert retention_deidentify().counts["form responses"] == 1
    response.refresh_from_db()
    assert response.answers == {} and response.deidentified_at is not None
    assert response.version.definition.key == "safety-plan"
    assert retention_deidentify().counts["form responses"] == 0


# --- FHIR ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["cssrs-screener", "safety-plan", "crisis-assessment"])
def test_each_shipped_definition_is_a_valid_fhir_r4_questionnaire(key):
    from fhir.resources.R4B.questionnaire import Questionnaire

    resource = json.loads((DEFINITIONS / f"{key}.json").read_text())
    Questionnaire.model_validate(resource)
    exported = questionnaire.questionnaire_from_version(shipped(key))
    parsed = Questionnaire.model_validate(exported)
    assert parsed.url == f"urn:acs:form:{key}" and parsed.status == "active"
    assert exported["item"] == shipped(key).items


def test_a_questionnaire_round_trip_through_export_and_import(admin_user):
    from fhir.resources.R4B.questionnaire import Questionnaire

    exported = questionnaire.questionnaire_from_version(shipped("crisis-assessment"))
    imported = services.form_import_questionnaire(actor=admin_user, resource=exported)
    assert imported.definition.key == "crisis-assessment"
    assert (imported.number, imported.status) == (2, "draft")
    assert imported.items == shipped("crisis-assessment").items
    again = questionnaire.questionnaire_from_version(imported)
    Questionnaire.model_validate(again)
    assert again["item"] == exported["item"]


def test_an_invalid_fhir_questionnaire_is_refused(admin_user):
    resource = json.loads((DEFINITIONS / "safety-plan.json").read_text())
    broken = copy.deepcopy(resource)
    broken["item"][0]["required"] = "maybe"  # FHIR's required is a boolean
    broken["unknownElement"] = 1  # and R4 has no such element
    with pytest.raises(questionnaire.FormInvalid):
        services.form_import_questionnaire(actor=admin_user, resource=broken)
    no_items = {**resource, "item": []}
    with pytest.raises(questionnaire.FormInvalid):
        services.form_import_questionnaire(actor=admin_user, resource=no_items)


def test_a_questionnaire_response_round_trip(responder, unit, sunny):
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    encounter = logged_encounter(responder, unit, residents=[sunny])
    version = shipped("crisis-assessment")
    answers = {
        "ca-concerns": ["suicidal_thoughts", "grief"],
        "ca-oriented": True,
        "ca-harm-others": True,
        "ca-harm-others-plan": "No plan, no one named",
        "ca-medical": False,
        "ca-level": "outpatient",
    }
    response, _ = services.form_response_submit(
        actor=responder,
        client_id=uuid.uuid4(),
        encounter=encounter,
        version=version,
        resident=sunny,
        answers=answers,
        started_at=timezone.now(),
    )
    resource = questionnaire.questionnaire_response_from(response)
    parsed = QuestionnaireResponse.model_validate(resource)
    assert parsed.questionnaire == "urn:acs:form:crisis-assessment|1"
    assert parsed.subject.reference == f"Patient/{sunny.public_id}"
    assert questionnaire.answers_from_questionnaire_response(version.items, resource) == answers


def test_the_residents_timeline_shows_screens_and_safety_plans(responder, unit, sunny):
    from cases.selectors.timeline import resident_timeline

    encounter = logged_encounter(responder, unit, residents=[sunny])
    for key, answers in (
        ("cssrs-screener", CSSRS_NONE),
        ("safety-plan", {"sp-1": "a", "sp-2": "b"}),
    ):
        services.form_response_submit(
            actor=responder,
            client_id=uuid.uuid4(),
            encounter=encounter,
            version=shipped(key),
            resident=sunny,
            answers=answers,
            started_at=timezone.now(),
        )
    rows = {entry.kind: entry for entry in resident_timeline(sunny)}
    assert rows["screening"].text.endswith("by ACS-11: low risk")
    assert rows["safety_plan"].text.startswith("My safety plan (version 1)")
    assert rows["safety_plan"].record[0] == "cases.formresponse"
