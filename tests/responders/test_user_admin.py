"""An administrator adds and changes staff accounts in the admin with one Roles field, which
also decides who may enter the admin (responders/services.py): a new case manager can sign in
to the admin at once, a partner user belongs to an agency, and every change of roles is audited."""

import pytest
from django.urls import reverse

from acs.models import AuditEvent
from acs.roles import Role
from responders.models import User
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:responders_user_add")


def add(client, **fields):
    data = {
        "username": "newcm",
        "first_name": "Dolores",
        "last_name": "Baca",
        "email": "dbaca@example.org",
        "usable_password": "true",
        "password1": "a-long-enough-passphrase-42",
        "password2": "a-long-enough-passphrase-42",
        **fields,
    }
    return client.post(ADD, data)


def test_an_administrator_adds_a_case_manager_who_may_enter_the_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get(ADD).status_code == 200
    response = add(client, roles=[Role.CASE_MANAGER])
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = User.objects.get(username="newcm")
    assert person.role_names == [Role.CASE_MANAGER]
    assert (person.is_staff, person.is_superuser) == (True, False)
    event = AuditEvent.objects.get(target_id=person.public_id, action="change")
    assert event.actor == admin_user
    assert event.detail == {"roles_before": [], "roles_after": ["case_manager"]}

    listing = client.get(reverse("admin:responders_user_changelist")).content.decode()
    assert "Case manager" in listing


def test_a_partner_user_needs_an_agency_and_no_staff_role(client, admin_user):
    client.force_login(admin_user)
    response = add(client, roles=[Role.PARTNER_USER])
    assert response.status_code == 200
    assert "choose it" in str(response.context["adminform"].form.errors["organization"])
    response = add(
        client,
        roles=[Role.PARTNER_USER, Role.SUPERVISOR],
        organization=OrganizationFactory().pk,
    )
    assert "cannot also hold" in str(response.context["adminform"].form.errors["roles"])
    response = add(client, roles=[Role.RESPONDER], organization=OrganizationFactory().pk)
    assert "Only partner users" in str(response.context["adminform"].form.errors["organization"])
    assert not User.objects.filter(username="newcm").exists()

    agency = OrganizationFactory()
    assert add(client, roles=[Role.PARTNER_USER], organization=agency.pk).status_code == 302
    person = User.objects.get(username="newcm")
    assert (person.role_names, person.organization, person.is_staff) == (
        [Role.PARTNER_USER],
        agency,
        False,
    )


def test_changing_roles_changes_who_may_enter_the_admin(client, admin_user):
    person = UserFactory(username="moving", role=Role.SUPERVISOR)
    client.force_login(admin_user)
    url = reverse("admin:responders_user_change", args=[person.pk])
    page = client.get(url)
    assert page.context["adminform"].form["roles"].value() == [Role.SUPERVISOR]
    response = client.post(
        url,
        {
            "username": "moving",
            "email": person.email,
            "roles": [Role.RESPONDER],
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = User.objects.get(pk=person.pk)
    assert person.role_names == [Role.RESPONDER]
    assert person.is_staff is False
    assert AuditEvent.objects.filter(target_id=person.public_id, action="change").exists()


def test_only_administrators_manage_accounts(client, case_manager, supervisor):
    for user in (case_manager, supervisor):
        client.force_login(user)
        assert client.get(ADD).status_code == 403
