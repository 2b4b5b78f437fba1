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


def test_only_desk_roles_reach_the_admin(
    responder, case_manager, supervisor, partner_a, cad_client
):
    assert case_manager.is_staff and supervisor.is_staff
    assert not (responder.is_staff or partner_a.is_staff or cad_client.is_staff)


def test_every_user_has_an_unguessable_public_id(responder, outsider):
    assert responder.public_id != outsider.public_id
    assert responder.public_id.version == 4
