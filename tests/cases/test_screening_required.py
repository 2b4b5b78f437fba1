"""Forms bound as required (#22): the server accepts an encounter without one (an old tablet's,
or one queued offline, is never lost), and the desk sees the gap on the encounter admin,
"required form missing: <form>", computed in the list's one statement for every kind of
binding (call type, team, disposition)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.models import Call, Encounter, FormBinding, FormDefinition, FormVersion
from cases.screening.selectors import required_forms_missing
from cases.screening.services import form_response_submit
from tests.cases.helpers import dispatched_call, logged_encounter
from tests.factories import TeamFactory, UnitFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/cases/encounter/"
CSSRS = "Columbia Suicide Severity Rating Scale (C-SSRS) screener, recent"
CSSRS_NONE = {"cssrs-1": False, "cssrs-2": False, "cssrs-6": False}


def cssrs() -> FormVersion:
    return FormVersion.objects.get(definition__key="cssrs-screener", status="published")


def missing(encounter) -> list[str]:
    return (
        required_forms_missing(Encounter.objects.filter(pk=encounter.pk))
        .get()
        .required_forms_missing
    )


def on_call(unit, call_type: str) -> Call:
    """A call the unit works, of this type."""
    call = dispatched_call(unit)
    Call.objects.filter(pk=call.pk).update(call_type=call_type)
    call.refresh_from_db()
    return call


def screened(responder, encounter) -> None:
    form_response_submit(
        actor=responder,
        client_id=uuid.uuid4(),
        encounter=encounter,
        version=cssrs(),
        resident=None,
        answers=CSSRS_NONE,
        started_at=timezone.now(),
    )


def test_an_mntl_encounter_without_the_cssrs_is_accepted_and_shown_missing(responder, unit):
    # The server takes it (submitted): refusing would lose an old tablet's encounter.
    encounter = logged_encounter(responder, unit, call=on_call(unit, "MNTL"), submit=True)
    assert encounter.status == "submitted"
    assert missing(encounter) == [CSSRS]
    screened(responder, encounter)
    assert missing(encounter) == []
    # Not bound as required to a welfare check.
    assert missing(logged_encounter(responder, unit, call=on_call(unit, "WELFARE"))) == []
    assert missing(logged_encounter(responder, unit)) == []


def test_team_and_disposition_bindings_must_all_match(responder, unit):
    plan = FormDefinition.objects.get(key="safety-plan")
    FormBinding.objects.create(
        definition=plan, team=unit.team, disposition="referred", required=True
    )
    referred = logged_encounter(responder, unit, disposition="referred")
    assert missing(referred) == ["My safety plan"]
    assert missing(logged_encounter(responder, unit, disposition="settled_by_contact")) == []
    other = UnitFactory(call_sign="ACS-90", team=TeamFactory(name="Other team"))
    other.members.add(responder)
    assert missing(logged_encounter(responder, other, disposition="referred")) == []


def test_the_desk_sees_required_form_missing_at_the_same_cost_for_one_row_or_thirty(
    client, case_manager, responder, unit, django_assert_max_num_queries
):
    first = logged_encounter(responder, unit, call=on_call(unit, "MNTL"), submit=True)
    client.force_login(case_manager)
    client.get("/admin/")  # the session's first request does the MFA check
    with CaptureQueriesContext(connection) as captured:
        page = client.get(LIST)
    one = len(captured)
    assert f"required form missing: {CSSRS}" in page.content.decode()
    detail = client.get(f"{LIST}{first.pk}/change/")
    assert f"required form missing: {CSSRS}" in detail.content.decode()

    done = []
    for n in range(29):
        encounter = logged_encounter(
            responder, unit, call=on_call(unit, "SUICTHRT" if n % 2 else "WELFARE")
        )
        if n % 3 == 0:
            screened(responder, encounter)
            done.append(encounter)

    with django_assert_max_num_queries(one):
        page = client.get(LIST)
    assert page.context["cl"].result_count == 30

    rows = {e.pk: e.required_forms_missing for e in page.context["cl"].result_list}
    for encounter in done:
        assert rows[encounter.pk] == []
    assert rows[first.pk] == [CSSRS]

    filtered = client.get(LIST, {"required_form": "missing"})
    shown = {e.pk for e in filtered.context["cl"].result_list}
    expected = {pk for pk, titles in rows.items() if titles}
    assert shown == expected and first.pk in shown
    # The SUICTHRT encounters not screened (n odd, not a multiple of 3) and the first.
    assert len(shown) == 1 + len([n for n in range(29) if n % 2 and n % 3])
