"""The supervisor's read-only audit view (AuditEventAdmin): filters by resident (public id),
by user (a bounded username search) and by time; supervisors and administrators only."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs.audit import audit_record
from acs.models import AuditAction, AuditEvent
from acs.roles import Role
from tests.factories import ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/acs/auditevent/"
ACTORS_URL = "/admin/acs/auditevent/actors/"


def shown(response) -> set[int]:
    assert response.status_code == 200, response
    return {event.pk for event in response.context["cl"].result_list}


@pytest.fixture
def trail(responder, case_manager):
    """Two residents; each seen by a different person; a few other events."""
    marisol, sunny = ResidentFactory(), ResidentFactory()
    return {
        "marisol": marisol,
        "sunny": sunny,
        "marisol_by_responder": audit_record(
            actor=responder, action=AuditAction.VIEW, target=marisol
        ),
        "marisol_by_cm": audit_record(
            actor=case_manager, action=AuditAction.CHANGE, target=marisol
        ),
        "sunny_by_cm": audit_record(actor=case_manager, action=AuditAction.VIEW, target=sunny),
        "account": audit_record(actor=None, action=AuditAction.SIGN_IN_FAILED, target=responder),
    }


@pytest.fixture
def as_supervisor(client, supervisor):
    client.force_login(supervisor)
    client.get(URL)  # the first request of a session does the MFA middleware's extra queries
    return client


def test_a_supervisor_filters_by_the_residents_public_id(as_supervisor, trail):
    response = as_supervisor.get(URL, {"resident": str(trail["marisol"].public_id)})

    assert shown(response) == {trail["marisol_by_responder"].pk, trail["marisol_by_cm"].pk}
    # The page names the resident by id only.
    assert trail["marisol"].preferred_name not in response.content.decode()


def test_a_resident_filter_that_is_not_a_public_id_is_refused(as_supervisor, trail):
    response = as_supervisor.get(URL, {"resident": "Marisol"})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_a_supervisor_filters_by_user(as_supervisor, trail, case_manager):
    response = as_supervisor.get(URL, {"actor": str(case_manager.public_id)})

    assert shown(response) == {trail["marisol_by_cm"].pk, trail["sunny_by_cm"].pk}


def test_filters_combine(as_supervisor, trail, case_manager):
    response = as_supervisor.get(
        URL, {"actor": str(case_manager.public_id), "resident": str(trail["sunny"].public_id)}
    )

    assert shown(response) == {trail["sunny_by_cm"].pk}


def test_a_supervisor_filters_by_a_time_range(as_supervisor, trail):
    today = timezone.localdate()
    everything = {e.pk for e in AuditEvent.objects.all()}

    def between(start, end):
        params = {}
        if start:
            params["from"] = start.isoformat()
        if end:
            params["to"] = end.isoformat()
        return shown(as_supervisor.get(URL, params))

    assert between(today, today) == everything
    assert between(today - timedelta(days=7), None) == everything
    assert between(today + timedelta(days=1), None) == set()
    assert between(None, today - timedelta(days=1)) == set()
    # The date hierarchy drills down the same way.
    assert shown(as_supervisor.get(URL, {"created_at__year": today.year - 1})) == set()


def test_the_user_search_offers_public_ids_and_at_most_twenty_names(as_supervisor, trail):
    for n in range(25):
        UserFactory(username=f"searchable-{n:02}")

    body = as_supervisor.get(ACTORS_URL, {"term": "searchable"}).json()

    assert len(body["results"]) == 20
    assert body["pagination"] == {"more": True}
    first = body["results"][0]
    assert first["text"] == "searchable-00"
    assert first["id"] == str(UserFactory(username="searchable-00").public_id)


def test_the_changelist_query_count_does_not_grow_with_its_rows(as_supervisor, responder):
    resident = ResidentFactory()

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert as_supervisor.get(URL).status_code == 200
        return len(captured)

    for _ in range(2):
        audit_record(actor=responder, action=AuditAction.VIEW, target=resident)
    few = queries_for_page()
    for _ in range(40):
        audit_record(actor=UserFactory(), action=AuditAction.VIEW, target=ResidentFactory())
    many = queries_for_page()

    assert many == few


def test_the_trail_is_read_only_even_for_administrators(client, admin_user, supervisor, trail):
    event = trail["marisol_by_cm"]
    for user in (admin_user, supervisor):
        client.force_login(user)
        assert client.get(f"{URL}add/").status_code == 403
        page = client.get(f"{URL}{event.pk}/change/")
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert client.post(f"{URL}{event.pk}/change/", {"action": "view"}).status_code == 403
        assert client.post(f"{URL}{event.pk}/delete/").status_code == 403
        listing = client.get(URL).content.decode()
        assert "delete_selected" not in listing
    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.CHANGE


def test_case_managers_and_responders_are_refused(client, case_manager, responder, trail):
    client.force_login(case_manager)
    assert client.get(URL).status_code == 403
    assert client.get(ACTORS_URL, {"term": "a"}).status_code == 403
    assert "auditevent" not in client.get("/admin/").content.decode()

    client.force_login(responder)  # not staff: the admin sends them to its sign-in
    for path in (URL, ACTORS_URL):
        response = client.get(path)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_the_view_permission_alone_does_not_open_it_to_other_roles(client, trail):
    """Even if the case managers' group were given the permission, the role decides."""
    from django.contrib.auth.models import Group, Permission

    Group.objects.get(name=Role.CASE_MANAGER).permissions.add(
        Permission.objects.get(content_type__app_label="acs", codename="view_auditevent")
    )
    client.force_login(UserFactory(username="cm-with-perm", role=Role.CASE_MANAGER))

    assert client.get(URL).status_code == 403
