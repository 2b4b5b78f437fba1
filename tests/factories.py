"""factory_boy factories. Personas built from them live in tests/conftest.py."""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from acs.roles import STAFF_ROLES, Role
from cases.models import Call, CallSource, Resident
from resources.models import Location, Organization, Service
from responders.models import Team, TeamKind, Unit, User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    kind = TeamKind.BEHAVIORAL_HEALTH


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Agency {n}")


class UserFactory(factory.django.DjangoModelFactory):
    """`UserFactory(role=Role.RESPONDER)` puts the user in that role's group."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=Role(extracted).value))
            self.is_staff = extracted in STAFF_ROLES
            self.is_superuser = extracted == Role.ADMIN
        if create:
            self.save()


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("call_sign",)

    call_sign = factory.Sequence(lambda n: f"ACS-{100 + n}")
    team = factory.SubFactory(TeamFactory)
    status = Unit.Status.AVAILABLE
    status_changed_at = factory.LazyFunction(timezone.now)


class CallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Call

    incident_number = factory.Sequence(lambda n: f"T-{n:06d}")
    source = CallSource.NINE_ONE_ONE
    call_type = "WELFARE"
    priority = 3
    received_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=10))
    status_changed_at = factory.SelfAttribute("received_at")
    address = "400 Central Ave SW"


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    preferred_name = factory.Sequence(lambda n: f"Resident {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Location {n}")
    city = "Albuquerque"
