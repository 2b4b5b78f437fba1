"""Output serializers of the HSDS 3.0 API: field names of shared/hsds/schema/*.json.

`id` is our `public_id`. Optional fields that are empty are left out rather than sent as null
(HSDS types them as plain strings and numbers, so null would not validate). Times are UTC ISO
8601. Beyond HSDS, services carry `accepts_referrals`, `referral_response_hours` and
`last_verified_at`, schedules `closed`, and services at locations `capacity` (HSDS 3.0 sets no
`additionalProperties`, so extra fields are valid).
"""

from __future__ import annotations

from datetime import UTC
from functools import cached_property

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers
from rest_framework.fields import SkipField, is_simple_callable

from resources.models import capacity_stale_after


def prefetched_as(relation: str) -> str:
    """The attribute a Prefetch(relation, to_attr=...) fills for serializers given
    {"prefetched": True}."""
    return f"{relation}_prefetched"


class Hsds(serializers.Serializer):
    """Drops empty optional values; `hsds_required` lists the keys the HSDS schema requires.

    `to_representation` is DRF's, with the readable fields and their attribute paths worked out
    once per serializer instead of once per object: the export writes hundreds of thousands of
    objects through one instance (resources/hsds_export.py), and DRF's generic path (a generator
    over the fields, abstract-class checks on every attribute) was most of its time. Each value
    still goes through its field's own `to_representation`, so the output is DRF's.
    """

    hsds_required: tuple[str, ...] = ("id",)

    @cached_property
    def _plan(self) -> list[tuple[str, tuple[str, ...], object, serializers.Field]]:
        # With {"prefetched": True} in the context, nested lists are read from the plain lists
        # that Prefetch(..., to_attr=prefetched_as(name)) leaves (the export's querysets): Django
        # then builds no queryset per object and relation to hold them.
        listed = self.context.get("prefetched", False)
        plan = []
        for field in self._readable_fields:
            attrs = tuple(field.source_attrs)
            if listed and isinstance(field, serializers.ListSerializer) and len(attrs) == 1:
                attrs = (prefetched_as(attrs[0]),)
            plan.append((field.field_name, attrs, field.to_representation, field))
        return plan

    def to_representation(self, instance):
        data = {}
        for name, attrs, represent, field in self._plan:
            value = instance
            try:
                for attr in attrs:
                    value = getattr(value, attr)
                    if callable(value) and is_simple_callable(value):
                        value = value()
            except ObjectDoesNotExist:
                value = None
            except (KeyError, AttributeError):
                try:  # DRF's own rules for a missing attribute (default, null, skip, error)
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
            data[name] = None if value is None else represent(value)
        return self.finish(instance, data)

    def finish(self, instance, data: dict) -> dict:
        return {
            key: value
            for key, value in data.items()
            if key in self.hsds_required or (value is not None and value != "")
        }


def uuid_field(source: str) -> serializers.UUIDField:
    return serializers.UUIDField(source=source, read_only=True)


class UtcDateTime(serializers.DateTimeField):
    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)


class LanguageOut(Hsds):
    id = uuid_field("public_id")
    name = serializers.CharField()
    code = serializers.CharField()
    note = serializers.CharField()


class PhoneOut(Hsds):
    hsds_required = ("id", "number")
    id = uuid_field("public_id")
    number = serializers.CharField()
    extension = serializers.IntegerField()
    type = serializers.CharField()
    description = serializers.CharField()
    languages = LanguageOut(many=True)


class ContactOut(Hsds):
    id = uuid_field("public_id")
    name = serializers.CharField()
    title = serializers.CharField()
    department = serializers.CharField()
    email = serializers.CharField()
    phones = PhoneOut(many=True)


class ScheduleOut(Hsds):
    id = uuid_field("public_id")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()
    dtstart = serializers.DateField()
    until = serializers.DateField()
    wkst = serializers.CharField()
    freq = serializers.CharField()
    interval = serializers.IntegerField()
    byday = serializers.CharField()
    bymonthday = serializers.CharField()
    description = serializers.CharField()
    # Wall-clock time in America/Denver (see docs/directory.md): a fixed UTC offset would be
    # wrong for half of the year.
    opens_at = serializers.TimeField(format="%H:%M")
    closes_at = serializers.TimeField(format="%H:%M")
    schedule_link = serializers.CharField()
    attending_type = serializers.CharField()
    notes = serializers.CharField()
    closed = serializers.BooleanField()

    def finish(self, instance, data: dict) -> dict:
        data = super().finish(instance, data)
        if not instance.closed:
            data.pop("closed", None)
        return data


class AddressOut(Hsds):
    hsds_required = (
        "id",
        "address_1",
        "city",
        "state_province",
        "postal_code",
        "country",
        "address_type",
    )
    id = uuid_field("public_id")
    attention = serializers.CharField()
    address_1 = serializers.CharField()
    address_2 = serializers.CharField()
    city = serializers.CharField()
    region = serializers.CharField()
    state_province = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    address_type = serializers.CharField()


class TaxonomyOut(Hsds):
    hsds_required = ("id", "name", "description")
    id = uuid_field("public_id")
    name = serializers.CharField()
    description = serializers.CharField()
    uri = serializers.CharField()
    version = serializers.CharField()


class TaxonomyTermOut(Hsds):
    hsds_required = ("id", "name", "description")
    id = uuid_field("public_id")
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    parent_id = serializers.SerializerMethodField()
    taxonomy = serializers.CharField(source="taxonomy.name")
    taxonomy_detail = TaxonomyOut(source="taxonomy")
    language = serializers.CharField()
    taxonomy_id = uuid_field("taxonomy.public_id")
    term_uri = serializers.CharField()

    def get_parent_id(self, term) -> str | None:
        return str(term.parent.public_id) if term.parent_id else None


class AttributeOut(Hsds):
    id = uuid_field("public_id")
    link_id = uuid_field("service.public_id")
    taxonomy_term_id = uuid_field("taxonomy_term.public_id")
    link_type = serializers.SerializerMethodField()
    link_entity = serializers.SerializerMethodField()
    value = serializers.CharField()
    taxonomy_term = TaxonomyTermOut()

    def get_link_type(self, attribute) -> str:
        return "service_category"

    def get_link_entity(self, attribute) -> str:
        return "service"


class CostOptionOut(Hsds):
    id = uuid_field("public_id")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()
    option = serializers.CharField()
    currency = serializers.CharField()
    amount = serializers.FloatField()
    amount_description = serializers.CharField()


class RequiredDocumentOut(Hsds):
    id = uuid_field("public_id")
    document = serializers.CharField()
    uri = serializers.CharField()


class OrganizationOut(Hsds):
    """One-to-one fields of an organization (compiled/organization_list.json)."""

    hsds_required = ("id", "name", "description")
    id = uuid_field("public_id")
    name = serializers.CharField()
    alternate_name = serializers.CharField()
    description = serializers.CharField()
    email = serializers.CharField()
    website = serializers.CharField()
    tax_status = serializers.CharField()
    tax_id = serializers.CharField()
    year_incorporated = serializers.IntegerField()
    legal_status = serializers.CharField()
    logo = serializers.CharField()
    uri = serializers.CharField()
    parent_organization_id = serializers.SerializerMethodField()

    def get_parent_organization_id(self, org) -> str | None:
        return str(org.parent_organization.public_id) if org.parent_organization_id else None


class LocationOut(Hsds):
    """One-to-one fields of a location."""

    hsds_required = ("id", "location_type")
    id = uuid_field("public_id")
    location_type = serializers.CharField()
    url = serializers.CharField()
    organization_id = serializers.SerializerMethodField()
    name = serializers.CharField()
    alternate_name = serializers.CharField()
    description = serializers.CharField()
    transportation = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    external_identifier = serializers.CharField()
    external_identifier_type = serializers.CharField()

    def get_organization_id(self, location) -> str | None:
        # Read through the select_related organization of the caller's queryset when present.
        org = location.organization if location.organization_id else None
        return str(org.public_id) if org else None


class LocationFullOut(LocationOut):
    addresses = AddressOut(many=True)
    phones = PhoneOut(many=True)
    schedules = ScheduleOut(many=True)
    languages = LanguageOut(many=True)


class ServiceOut(Hsds):
    """One-to-one fields of a service plus its organization (compiled/service_list.json)."""

    hsds_required = ("id", "name", "status")
    id = uuid_field("public_id")
    organization_id = uuid_field("organization.public_id")
    name = serializers.CharField()
    alternate_name = serializers.CharField()
    description = serializers.CharField()
    url = serializers.CharField()
    email = serializers.CharField()
    status = serializers.CharField()
    interpretation_services = serializers.CharField()
    application_process = serializers.CharField()
    fees_description = serializers.CharField()
    wait_time = serializers.CharField()
    accreditations = serializers.CharField()
    eligibility_description = serializers.CharField()
    minimum_age = serializers.IntegerField()
    maximum_age = serializers.IntegerField()
    assured_date = serializers.DateField()
    assurer_email = serializers.CharField()
    licenses = serializers.CharField()
    alert = serializers.CharField()
    last_modified = UtcDateTime(source="updated_at")
    organization = OrganizationOut()
    accepts_referrals = serializers.BooleanField()
    referral_response_hours = serializers.IntegerField()
    last_verified_at = UtcDateTime()


class ServiceDetailsMixin(serializers.Serializer):
    phones = PhoneOut(many=True)
    schedules = ScheduleOut(many=True)
    languages = LanguageOut(many=True)
    cost_options = CostOptionOut(many=True)
    required_documents = RequiredDocumentOut(many=True)
    contacts = ContactOut(many=True)
    attributes = AttributeOut(many=True)


class CapacityOut(serializers.Serializer):
    available = serializers.IntegerField()
    total = serializers.IntegerField()
    unit = serializers.CharField()
    updated_at = UtcDateTime()
    stale = serializers.SerializerMethodField()

    def get_stale(self, capacity) -> bool:
        now = self.context.get("now")
        if now is None:
            return capacity.is_stale
        return capacity.updated_at < now - capacity_stale_after()


class ServiceAtLocationOut(Hsds):
    """compiled/service_at_location_list.json: one-to-one fields, location and service."""

    id = uuid_field("public_id")
    service_id = uuid_field("service.public_id")
    location_id = uuid_field("location.public_id")
    description = serializers.CharField()
    location = LocationOut()
    service = ServiceOut()
    capacity = serializers.SerializerMethodField()
    distance_km = serializers.SerializerMethodField()

    @cached_property
    def _capacity_out(self) -> CapacityOut:
        # One for every row of the page: a serializer built per row deep-copies its fields
        # (an eighth of a page's time over HTTP).
        return CapacityOut(context=self.context)

    def get_capacity(self, sal) -> dict | None:
        capacity = getattr(sal, "capacity", None)
        return self._capacity_out.to_representation(capacity) if capacity else None

    def get_distance_km(self, sal) -> float | None:
        distance = getattr(sal, "distance_km", None)
        return round(distance, 3) if distance is not None else None


class ServiceAtLocationInServiceOut(Hsds):
    id = uuid_field("public_id")
    service_id = uuid_field("service.public_id")
    location_id = uuid_field("location.public_id")
    description = serializers.CharField()
    contacts = ContactOut(many=True)
    phones = PhoneOut(many=True)
    schedules = ScheduleOut(many=True)
    location = LocationFullOut()


class ServiceFullOut(ServiceDetailsMixin, ServiceOut):
    service_at_locations = ServiceAtLocationInServiceOut(many=True, source="at_locations")


class ServiceInSalOut(ServiceDetailsMixin, ServiceOut):
    """A full service as nested in a service_at_location (without service_at_locations)."""


class ServiceAtLocationFullOut(ServiceAtLocationOut):
    contacts = ContactOut(many=True)
    phones = PhoneOut(many=True)
    schedules = ScheduleOut(many=True)
    location = LocationFullOut()
    service = ServiceInSalOut()


class ServiceSummaryOut(Hsds):
    """A service as an organization lists it: what HSDS requires of a service (compiled/
    organization.json's `services` items need `id`, `name` and `status`), read from the
    organization's prefetched services, so no query per service."""

    hsds_required = ("id", "name", "status")
    id = uuid_field("public_id")
    name = serializers.CharField()
    status = serializers.CharField()


class OrganizationFullOut(OrganizationOut):
    contacts = ContactOut(many=True)
    phones = PhoneOut(many=True)
    locations = LocationFullOut(many=True)
    services = ServiceSummaryOut(many=True)


class OrganizationFullServicesOut(OrganizationFullOut):
    services = ServiceInSalOut(many=True)
