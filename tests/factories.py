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

    @factory.post_generation
    def second_factor(self, create, extracted, **kwargs):
        """Staff personas have set up TOTP, as production requires (acs/mfa.py); pass
        `second_factor=False` for one who has not."""
        if create and extracted is not False and self.is_staff:
            from allauth.mfa.models import Authenticator
            from allauth.mfa.utils import encrypt

            Authenticator.objects.get_or_create(
                user=self,
                type=Authenticator.Type.TOTP,
                defaults={"data": {"secret": encrypt("JBSWY3DPEHPK3PXP")}},
            )


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


# --- resource directory (HSDS) ----------------------------------------------------------------


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resources.Address"

    location = factory.SubFactory(LocationFactory)
    address_1 = factory.Sequence(lambda n: f"{100 + n} Central Ave SW")
    city = "Albuquerque"
    state_province = "NM"
    postal_code = "87102"


class ServiceAtLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resources.ServiceAtLocation"

    service = factory.SubFactory(ServiceFactory)
    location = factory.SubFactory(
        LocationFactory,
        organization=factory.SelfAttribute("..service.organization"),
        latitude="35.084100",
        longitude="-106.651400",
    )


class ScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resources.Schedule"

    freq = "WEEKLY"
    byday = "MO,TU,WE,TH,FR,SA,SU"


def seed_acs_needs_taxonomy() -> None:
    """Seed resources/migrations/0005_acs_needs_taxonomy.py's taxonomy again: a transactional
    test before this one may have flushed it."""
    import importlib

    from django.apps import apps

    importlib.import_module("resources.migrations.0005_acs_needs_taxonomy").forwards(apps, None)


def acs_needs_taxonomy():
    """The taxonomy seeded by resources/migrations/0005_acs_needs_taxonomy.py."""
    from resources.models import Taxonomy

    return Taxonomy.objects.get(name="ACS needs")


class TaxonomyTermFactory(factory.django.DjangoModelFactory):
    """Terms of the seeded "ACS needs" taxonomy are found by code: TaxonomyTermFactory(code=...)."""

    class Meta:
        model = "resources.TaxonomyTerm"
        django_get_or_create = ("code",)

    taxonomy = factory.LazyFunction(acs_needs_taxonomy)
    code = factory.Sequence(lambda n: f"term-{n}")
    name = factory.Sequence(lambda n: f"Term {n}")


class AttributeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resources.Attribute"

    service = factory.SubFactory(ServiceFactory)
    taxonomy_term = factory.SubFactory(TaxonomyTermFactory)


class LanguageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resources.Language"

    code = "es"
    name = "Spanish"


class PhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resources.Phone"

    number = factory.Sequence(lambda n: f"505-555-{n % 10000:04d}")


class CapacityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "resources.Capacity"

    service_at_location = factory.SubFactory(ServiceAtLocationFactory)
    available = 5
    total = 40
    unit = "beds"
