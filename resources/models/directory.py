"""The resource directory, shaped after Open Referral HSDS 3.0 (shared/hsds/).

Table and field names follow HSDS where it has them; `public_id` is the HSDS `id`. Beyond HSDS:
live capacity per service at a location (with an append-only history), whether a service takes
electronic referrals and how fast it answers, when a listing was last verified, and
`Schedule.closed` for holiday closures. See docs/directory.md.

This module holds the core of it, organizations, services, locations with their addresses and
services at locations, and the pieces their neighbours share (the Earth point of the distance
search, the trigram index, the choices constraint); their details are in `details` (contacts,
phones, languages, costs, required documents), `schedules`, `taxonomy` and `capacity`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.db import models
from django.db.models import F, FloatField, Func, Q
from django.db.models.functions import Cast

from acs.models import BaseModel

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    _ExpressionField = models.Field[Any, Any]
else:
    _ExpressionField = models.Field  # not subscriptable at run time

# The sphere of the distance search (mean Earth radius, IUGG), in the SQL function
# resources_earth_point too (migration 0013): distances are great-circle distances on it.
EARTH_RADIUS_KM = 6371.0088


class Cube(_ExpressionField):
    """The `cube` extension's type: of expressions, and of SearchPlace.point (written and read
    in SQL only; Python never needs its value)."""

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        return "cube"


def earth_point(latitude: str = "latitude", longitude: str = "longitude") -> Func:
    """A location as a 3-D point (km from the Earth's centre) on the sphere of EARTH_RADIUS_KM,
    as the GiST index on locations holds it: "within r km" is a box around a point on that
    index, "nearest first" its distance operator (<->), both answered by the index."""
    return Func(
        Cast(latitude, FloatField()),
        Cast(longitude, FloatField()),
        function="resources_earth_point",
        output_field=Cube(),
    )


def trigram_index(field: str, name: str) -> GinIndex:
    # pg_trgm folds case itself, so the plain column is indexed.
    return GinIndex(fields=[field], opclasses=["gin_trgm_ops"], name=name)


# --- enumerations ---------------------------------------------------------------------------


class ServiceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DEFUNCT = "defunct", "Defunct"
    TEMPORARILY_CLOSED = "temporarily closed", "Temporarily closed"


class LocationType(models.TextChoices):
    PHYSICAL = "physical", "Physical"
    POSTAL = "postal", "Postal"
    VIRTUAL = "virtual", "Virtual"


def choices_valid(
    field: str, choices: type[models.TextChoices], name: str
) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": [c.value for c in choices]}), name=name
    )


# --- organization, service, location --------------------------------------------------------


class Organization(BaseModel):
    name = models.CharField(max_length=255)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    tax_status = models.CharField(max_length=120, blank=True)
    tax_id = models.CharField(max_length=64, blank=True)
    year_incorporated = models.PositiveSmallIntegerField(null=True, blank=True)
    legal_status = models.CharField(max_length=120, blank=True)
    logo = models.URLField(blank=True)
    uri = models.URLField(blank=True)
    parent_organization = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )

    class Meta(BaseModel.Meta):
        ordering = ("name", "id")
        indexes = [
            trigram_index("name", "resources_org_name_trgm"),
            models.Index(fields=["updated_at"], name="resources_org_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Service(BaseModel):
    Status = ServiceStatus

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(max_length=255)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    url = models.URLField(blank=True)
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    interpretation_services = models.TextField(blank=True)
    application_process = models.TextField(blank=True)
    fees_description = models.TextField(blank=True)
    wait_time = models.CharField(max_length=255, blank=True)
    accreditations = models.TextField(blank=True)
    eligibility_description = models.TextField(blank=True)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    assured_date = models.DateField(null=True, blank=True)
    assurer_email = models.EmailField(blank=True)
    licenses = models.TextField(blank=True)
    alert = models.TextField(blank=True)
    # Beyond HSDS.
    accepts_referrals = models.BooleanField(
        default=False, help_text="Takes electronic referrals through the partner API or portal."
    )
    referral_response_hours = models.PositiveIntegerField(
        default=48, help_text="How long a sent referral may wait for an answer before it expires."
    )
    last_verified_at = models.DateTimeField(null=True, blank=True)

    class Meta(BaseModel.Meta):
        ordering = ("name", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ServiceStatus]),
                name="resources_service_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(minimum_age__isnull=True)
                | Q(maximum_age__isnull=True)
                | Q(minimum_age__lte=F("maximum_age")),
                name="resources_service_age_range",
            ),
            models.CheckConstraint(
                condition=Q(referral_response_hours__gt=0),
                name="resources_service_referral_response_positive",
            ),
        ]
        indexes = [
            trigram_index("name", "resources_service_name_trgm"),
            trigram_index("description", "resources_service_desc_trgm"),
            models.Index(fields=["status"], name="resources_service_status_idx"),
            # Every list in the directory's own order (service_search without text or a
            # point, the HSDS lists, the admin): walked by name until the page is full,
            # instead of sorting every match (migration 0023).
            models.Index(fields=["name", "id"], name="resources_service_name_idx"),
            models.Index(fields=["updated_at"], name="resources_service_updated_idx"),
            models.Index(fields=["last_verified_at"], name="resources_service_verified_idx"),
            models.Index(
                fields=["accepts_referrals"],
                name="resources_service_referral_idx",
                condition=Q(accepts_referrals=True),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Location(BaseModel):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="locations"
    )
    location_type = models.CharField(
        max_length=10, choices=LocationType.choices, default=LocationType.PHYSICAL
    )
    url = models.URLField(blank=True)
    name = models.CharField(max_length=255, blank=True)
    alternate_name = models.CharField(max_length=255, blank=True)
    description = models.TextField(blank=True)
    transportation = models.TextField(blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    external_identifier = models.CharField(max_length=120, blank=True)
    external_identifier_type = models.CharField(max_length=120, blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            choices_valid("location_type", LocationType, "resources_location_type_valid"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                ),
                name="resources_location_coordinates_valid",
            ),
        ]
        indexes = [
            # "Within r km" and "nearest first" (resources.selectors.directory.geo).
            GistIndex(earth_point(), name="resources_location_earth_idx"),
        ]

    def __str__(self) -> str:
        return self.name or str(self.public_id)


class Address(BaseModel):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="addresses")
    attention = models.CharField(max_length=255, blank=True)
    address_1 = models.CharField(max_length=255)
    address_2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=120)
    region = models.CharField(max_length=120, blank=True)
    state_province = models.CharField(max_length=64)
    postal_code = models.CharField(max_length=16)
    country = models.CharField(max_length=2, default="US")
    address_type = models.CharField(
        max_length=10, choices=LocationType.choices, default=LocationType.PHYSICAL
    )

    class Meta(BaseModel.Meta):
        verbose_name_plural = "addresses"
        constraints = [
            choices_valid("address_type", LocationType, "resources_address_type_valid"),
        ]
        indexes = [models.Index(fields=["postal_code"], name="resources_address_postal_idx")]

    def __str__(self) -> str:
        return f"{self.address_1}, {self.city}"


class ServiceAtLocation(BaseModel):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="at_locations")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="services_here")
    description = models.TextField(blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = "service at location"
        verbose_name_plural = "services at locations"
        constraints = [
            models.UniqueConstraint(
                fields=["service", "location"], name="resources_serviceatlocation_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["updated_at"], name="resources_sal_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.service} at {self.location}"
