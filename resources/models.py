"""The resource directory, shaped after Open Referral HSDS 3.0 (shared/hsds/)."""

from django.db import models
from django.db.models import Q

from acs.models import BaseModel


class Organization(BaseModel):
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)

    class Meta(BaseModel.Meta):
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class ServiceStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    DEFUNCT = "defunct", "Defunct"
    TEMPORARILY_CLOSED = "temporarily closed", "Temporarily closed"


class Service(BaseModel):
    Status = ServiceStatus

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)

    class Meta(BaseModel.Meta):
        ordering = ("name", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ServiceStatus]),
                name="resources_service_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Location(BaseModel):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="locations"
    )
    name = models.CharField(max_length=255, blank=True)
    address_1 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=120, blank=True)
    state_province = models.CharField(max_length=64, blank=True)
    postal_code = models.CharField(max_length=16, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    def __str__(self) -> str:
        return self.name or self.address_1


class ServiceAtLocation(BaseModel):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="at_locations")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="services_here")

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["service", "location"], name="resources_serviceatlocation_unique"
            ),
        ]
