import importlib

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from acs.roles import Role
from responders.models import User

pytestmark = pytest.mark.django_db


def test_the_user_model_is_responders_user():
    assert get_user_model() is User


def test_every_role_of_the_domain_exists_as_a_group_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


def test_the_data_migration_creates_exactly_the_roles_of_the_enum():
    migration = importlib.import_module("responders.migrations.0002_roles")
    assert sorted(migration.ROLES) == sorted(Role.values)


def test_a_user_holds_only_the_roles_given(responder, case_manager):
    assert responder.has_role(Role.RESPONDER)
    assert not responder.has_role(Role.CASE_MANAGER)
    assert case_manager.role_names == [Role.CASE_MANAGER.value]


def test_a_users_roles_are_read_once_and_follow_the_groups_they_are_given(
    case_manager, django_assert_num_queries
):
    """An admin page asks every model's permissions: the groups are read once per loaded
    user, not once per question, and a role given or taken through the user is seen."""
    user = User.objects.get(pk=case_manager.pk)  # as a request loads it
    with django_assert_num_queries(1):
        for _ in range(9):
            assert user.has_role(Role.CASE_MANAGER)
    user.groups.add(Group.objects.get(name=Role.SUPERVISOR.value))
    assert user.role_names == [Role.CASE_MANAGER.value, Role.SUPERVISOR.value]
    user.groups.remove(Group.objects.get(name=Role.CASE_MANAGER.value))
    assert user.role_names == [Role.SUPERVISOR.value]
    User.objects.get(pk=user.pk).groups.clear()  # another instance: this one reads again
    user.refresh_from_db()
    assert user.role_names == []


def test_only_desk_roles_reach_the_admin(
    responder, case_manager, supervisor, partner_a, cad_client
):
    assert case_manager.is_staff and supervisor.is_staff
    assert not (responder.is_staff or partner_a.is_staff or cad_client.is_staff)


def test_every_user_has_an_unguessable_public_id(responder, outsider):
    assert responder.public_id != outsider.public_id
    assert responder.public_id.version == 4
