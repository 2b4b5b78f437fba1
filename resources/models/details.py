"""A service's details (HSDS 3.0): contacts, phones, languages, cost options and required
documents, each owned by an organization, service, location or service at location."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from acs.models import BaseModel
from acs.phones import validate_directory_phone
from resources.models.directory import (
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    choices_valid,
)


class PhoneType(models.TextChoices):
    VOICE = "voice", "Voice"
    TEXT = "text", "Text"
    CELL = "cell", "Cell"
    FAX = "fax", "Fax"
    VIDEO = "video", "Video"
    PAGER = "pager", "Pager"
    TEXTPHONE = "textphone", "Textphone"


class Contact(BaseModel):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="contacts",
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255, blank=True)
    department = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(organization__isnull=False)
                | Q(service__isnull=False)
                | Q(service_at_location__isnull=False)
                | Q(location__isnull=False),
                name="resources_contact_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.title or str(self.public_id)


class Phone(BaseModel):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    # As written, for people to read ("(505) 768-2000", "311"); a number that cannot exist
    # is refused in the admin and by hsds_import, which runs the field's validators.
    number = models.CharField(max_length=40, validators=[validate_directory_phone])
    extension = models.PositiveIntegerField(null=True, blank=True)
    type = models.CharField(max_length=10, choices=PhoneType.choices, default=PhoneType.VOICE)
    description = models.TextField(blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            choices_valid("type", PhoneType, "resources_phone_type_valid"),
            models.CheckConstraint(
                condition=Q(organization__isnull=False)
                | Q(service__isnull=False)
                | Q(location__isnull=False)
                | Q(service_at_location__isnull=False)
                | Q(contact__isnull=False),
                name="resources_phone_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Language(BaseModel):
    """A language a service, location or phone line works in (HSDS `language`)."""

    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    phone = models.ForeignKey(
        Phone, null=True, blank=True, on_delete=models.CASCADE, related_name="languages"
    )
    name = models.CharField(max_length=120, blank=True)
    code = models.CharField(max_length=16, help_text="ISO 639-1 or 639-3 code, e.g. 'es'.")
    note = models.TextField(blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False)
                | Q(location__isnull=False)
                | Q(phone__isnull=False),
                name="resources_language_has_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["code"], name="resources_language_code_idx"),
            # The search's language filter compares codes case-blind; an index on the
            # expression also gives the planner its statistics (migration 0020).
            models.Index(Upper("code"), name="resources_language_code_up_idx"),
        ]

    def __str__(self) -> str:
        return self.name or self.code


class CostOption(BaseModel):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="cost_options")
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    option = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    amount_description = models.TextField(blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="resources_costoption_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.option or str(self.amount)


class RequiredDocument(BaseModel):
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="required_documents"
    )
    document = models.CharField(max_length=255)
    uri = models.URLField(blank=True)

    def __str__(self) -> str:
        return self.document
