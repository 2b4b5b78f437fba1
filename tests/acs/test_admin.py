import pytest

from acs.audit import audit_record
from acs.models import ApiToken
from acs.roles import Role
from acs.tokens import token_check, token_issue

pytestmark = pytest.mark.django_db


def test_an_administrator_revokes_a_token_in_the_admin(client, admin_user):
    row, token = token_issue(role=Role.CAD_INTEGRATION, name="old-cad")
    client.force_login(admin_user)

    response = client.post(
        "/admin/acs/apitoken/", {"action": "revoke", "_selected_action": [row.pk]}
    )

    assert response.status_code == 302
    assert ApiToken.objects.get().revoked_at is not None
    assert token_check(token) is None


def test_the_audit_trail_is_read_only_in_the_admin(client, admin_user, responder):
    event = audit_record(actor=responder, action="view", target=responder)
    client.force_login(admin_user)

    assert client.get("/admin/acs/auditevent/").status_code == 200
    page = client.get(f"/admin/acs/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/acs/auditevent/{event.pk}/delete/").status_code == 403


def test_supervisors_see_the_audit_trail_and_case_managers_do_not(client, supervisor, case_manager):
    client.force_login(supervisor)
    assert client.get("/admin/acs/auditevent/").status_code == 200

    client.force_login(case_manager)
    assert client.get("/admin/acs/auditevent/").status_code == 403
