"""The resource directory, shaped after Open Referral HSDS 3.0 (shared/hsds/).

Table and field names follow HSDS where it has them; `public_id` is the HSDS `id`. Beyond HSDS:
live capacity per service at a location (with an append-only history), whether a service takes
electronic referrals and how fast it answers, when a listing was last verified, and
`Schedule.closed` for holiday closures. See docs/directory.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.db import models
from django.db.models import F, FloatField, Func, Q
from django.db.models.functions import Cast, Upper
from django.utils import timezone

from acs.models import BaseModel
from acs.phones import validate_directory_phone

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    _ExpressionField = models.Field[Any, Any]
else:
    _ExpressionField = models.Field  # not subscriptable at run time


def capacity_stale_after() -> timedelta:
    """How old a capacity figure may be before it shows as stale (CAPACITY_STALE_AFTER).

    Read at call time, so that tests can override the setting."""
    return settings.CAPACITY_STALE_AFTER


# The sphere of the distance search (mean Earth radius, IUGG), in the SQL function
# resources_earth_point too (migration 0013): distances are great-circle distances on it.
EARTH_RADIUS_KM = 6371.0088


class Cube(_ExpressionField):
    """The `cube` extension's type, for expressions only (no column has it)."""

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


def _trigram_index(field: str, name: str) -> GinIndex:
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


class PhoneType(models.TextChoices):
    VOICE = "voice", "Voice"
    TEXT = "text", "Text"
    CELL = "cell", "Cell"
    FAX = "fax", "Fax"
    VIDEO = "video", "Video"
    PAGER = "pager", "Pager"
    TEXTPHONE = "textphone", "Textphone"


class ScheduleFreq(models.TextChoices):
    """HSDS 3.0 allows WEEKLY and MONTHLY; blank means every day of the validity window."""

    NONE = "", "Every day"
    WEEKLY = "WEEKLY", "Weekly"
    MONTHLY = "MONTHLY", "Monthly"


class Weekday(models.TextChoices):
    MO = "MO", "Monday"
    TU = "TU", "Tuesday"
    WE = "WE", "Wednesday"
    TH = "TH", "Thursday"
    FR = "FR", "Friday"
    SA = "SA", "Saturday"
    SU = "SU", "Sunday"


def _choices_valid(
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
            _trigram_index("name", "resources_org_name_trgm"),
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
            _trigram_index("name", "resources_service_name_trgm"),
            _trigram_index("description", "resources_service_desc_trgm"),
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
            _choices_valid("location_type", LocationType, "resources_location_type_valid"),
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
            # "Within r km" and "nearest first" (resources.selectors.directory: distance).
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
            _choices_valid("address_type", LocationType, "resources_address_type_valid"),
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


# --- details ---------------------------------------------------------------------------------


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
            _choices_valid("type", PhoneType, "resources_phone_type_valid"),
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


class Schedule(BaseModel):
    """Opening hours after HSDS `schedule` (RRULE-like), evaluated by resources.opening_hours.

    Times are wall-clock times in the department's zone (America/Denver); a `closes_at` at or
    before `opens_at` closes the next day (overnight). `closed=True` (beyond HSDS) marks a
    closure: no session starting on a date from `valid_from` to `valid_to` takes place.
    """

    Freq = ScheduleFreq

    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="schedules"
    )
    service_at_location = models.ForeignKey(
        ServiceAtLocation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="schedules",
    )
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    dtstart = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    wkst = models.CharField(max_length=2, choices=Weekday.choices, blank=True)
    freq = models.CharField(max_length=7, choices=ScheduleFreq.choices, blank=True)
    interval = models.PositiveSmallIntegerField(null=True, blank=True)
    byday = models.CharField(max_length=64, blank=True)
    bymonthday = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    schedule_link = models.URLField(blank=True)
    attending_type = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)
    closed = models.BooleanField(
        default=False,
        help_text="A closure (holiday, emergency): nothing opens on the dates from valid_from "
        "to valid_to, whatever the other schedules say.",
    )

    class Meta(BaseModel.Meta):
        constraints = [
            _choices_valid("freq", ScheduleFreq, "resources_schedule_freq_valid"),
            models.CheckConstraint(
                condition=Q(wkst="") | Q(wkst__in=[d.value for d in Weekday]),
                name="resources_schedule_wkst_valid",
            ),
            models.CheckConstraint(
                condition=Q(service__isnull=False)
                | Q(location__isnull=False)
                | Q(service_at_location__isnull=False),
                name="resources_schedule_has_owner",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_from__lte=F("valid_to")),
                name="resources_schedule_validity_ordered",
            ),
            models.CheckConstraint(
                condition=Q(closed=False) | Q(valid_from__isnull=False),
                name="resources_schedule_closure_has_date",
            ),
            models.CheckConstraint(
                condition=Q(interval__isnull=True) | Q(interval__gte=1),
                name="resources_schedule_interval_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["valid_from", "valid_to"], name="resources_schedule_valid_idx"),
        ]

    def __str__(self) -> str:
        return self.description or f"{self.freq or 'DAILY'} {self.byday} {self.opens_at}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from resources.opening_hours import ScheduleError, occurs_on

        try:
            occurs_on(self, self.valid_from or timezone.localdate())
        except ScheduleError as exc:
            raise ValidationError(str(exc)) from exc


# --- taxonomy --------------------------------------------------------------------------------


class Taxonomy(BaseModel):
    name = models.CharField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    uri = models.URLField(blank=True)
    version = models.CharField(max_length=32, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name_plural = "taxonomies"
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class TaxonomyTerm(BaseModel):
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="terms")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=16, blank=True)
    term_uri = models.URLField(blank=True)

    class Meta(BaseModel.Meta):
        ordering = ("taxonomy_id", "code", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["taxonomy", "code"], name="resources_taxonomyterm_code_unique"
            ),
        ]
        indexes = [_trigram_index("name", "resources_term_name_trgm")]

    def __str__(self) -> str:
        return self.name


class Attribute(BaseModel):
    """Applies a taxonomy term to a service (HSDS `attribute` with link_entity "service")."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="attributes")
    taxonomy_term = models.ForeignKey(
        TaxonomyTerm, on_delete=models.PROTECT, related_name="attributes"
    )
    value = models.CharField(max_length=255, blank=True)

    class Meta(BaseModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["service", "taxonomy_term"], name="resources_attribute_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_id}: {self.taxonomy_term_id}"


# --- fees and documents ----------------------------------------------------------------------


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


# --- capacity (beyond HSDS) ------------------------------------------------------------------


class Capacity(BaseModel):
    """The live figure of one service at one location: `available` of `total` `unit` free."""

    service_at_location = models.OneToOneField(
        ServiceAtLocation, on_delete=models.CASCADE, related_name="capacity"
    )
    available = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    unit = models.CharField(max_length=32, default="beds")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta(BaseModel.Meta):
        verbose_name_plural = "capacities"
        constraints = [
            models.CheckConstraint(
                condition=Q(available__lte=F("total")),
                name="resources_capacity_available_within_total",
            ),
        ]
        indexes = [
            models.Index(
                fields=["updated_at"],
                name="resources_capacity_free_idx",
                condition=Q(available__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.available}/{self.total} {self.unit}"

    @property
    def is_stale(self) -> bool:
        return self.updated_at < timezone.now() - capacity_stale_after()


class CapacityHistory(BaseModel):
    """One row per capacity change (`created_at` is when); rows are only ever appended."""

    service_at_location = models.ForeignKey(
        ServiceAtLocation, on_delete=models.CASCADE, related_name="capacity_history"
    )
    available = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    unit = models.CharField(max_length=32)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta(BaseModel.Meta):
        verbose_name_plural = "capacity history"
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(available__lte=F("total")),
                name="resources_capacityhistory_available_within_total",
            ),
        ]
        indexes = [
            models.Index(
                fields=["service_at_location", "-created_at"],
                name="resources_caphist_sal_idx",
            ),
        ]

    def __str__(self) -> str:
        at = timezone.localtime(self.created_at)
        return f"{self.available}/{self.total} {self.unit} at {at:%Y-%m-%d %H:%M}"
