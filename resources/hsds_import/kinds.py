"""What we keep of HSDS: its objects (kinds) as our models hold them, their fields and
references, and the kind of a top-level JSON object told from its keys."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db import models

from resources.hsds_schemas import SCHEMA_DIR, validator
from resources.models import (
    Address,
    Attribute,
    Contact,
    CostOption,
    Language,
    Location,
    Organization,
    Phone,
    RequiredDocument,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)


@dataclass(frozen=True)
class Ref:
    slot: str  # our foreign key
    kind: str  # the HSDS object it points at
    id_field: str  # its flat HSDS name
    required: bool = False


@dataclass(frozen=True, eq=False)
class Kind:
    name: str
    model: type[models.Model]
    fields: tuple[str, ...]  # kept as they are, under the same name as on the model
    refs: tuple[Ref, ...] = ()
    children: dict[str, tuple[str, str]] = field(default_factory=dict)  # key: (kind, its slot)
    nested: dict[str, str] = field(default_factory=dict)  # key of one nested object: our slot
    not_kept: dict[str, str | None] = field(default_factory=dict)  # key: HSDS object, or None
    extensions: tuple[str, ...] = ()  # beyond HSDS; kept as they are when the file omits them
    extra: tuple[str, ...] = ()  # read by the importer itself (a term's `taxonomy` name)
    derived: tuple[str, ...] = ()  # our own output, not input (last_modified, capacity)
    one_owner: bool = False  # must belong to at least one of its refs

    def ref(self, slot: str) -> Ref:
        return next(r for r in self.refs if r.slot == slot)


def _kind(name: str, model: type[models.Model], fields: str, **options: Any) -> Kind:
    for key in ("extensions", "extra", "derived"):
        options[key] = tuple(options.get(key, "").split())
    return Kind(name, model, tuple(fields.split()), **options)


def _owners(*slots: str) -> tuple[Ref, ...]:
    return tuple(Ref(slot, slot, f"{slot}_id") for slot in slots)


def _children(kind: str, keys: str) -> dict[str, tuple[str, str]]:
    """`phones schedules` under a service: {"phones": ("phone", "service"), ...}."""
    singular = {"addresses": "address", "service_at_locations": "service_at_location"}
    return {key: (singular.get(key, key.removesuffix("s")), kind) for key in keys.split()}


_DETAILS: dict[str, str | None] = {"attributes": "attribute", "metadata": "metadata"}
_OWN_SERVICE = (Ref("service", "service", "service_id", required=True),)

# In dependency order: a kind refers only to kinds above it (and to itself).
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        _kind("taxonomy", Taxonomy, "name description uri version", not_kept=_DETAILS),
        _kind(
            "taxonomy_term",
            TaxonomyTerm,
            "code name description language term_uri",
            refs=(
                Ref("taxonomy", "taxonomy", "taxonomy_id", required=True),
                Ref("parent", "taxonomy_term", "parent_id"),
            ),
            # `taxonomy_details` is how HSDS's own attribute guidance example spells it.
            nested={"taxonomy_detail": "taxonomy", "taxonomy_details": "taxonomy"},
            not_kept=_DETAILS,
            extra="taxonomy",
        ),
        _kind(
            "organization",
            Organization,
            "name alternate_name description email website tax_status tax_id "
            "year_incorporated legal_status logo uri",
            refs=(Ref("parent_organization", "organization", "parent_organization_id"),),
            children=_children("organization", "contacts phones locations services"),
            not_kept={
                "funding": "funding",
                "programs": "program",
                "organization_identifiers": "organization_identifier",
                **_DETAILS,
            },
        ),
        _kind(
            "service",
            Service,
            "name alternate_name description url email status interpretation_services "
            "application_process fees_description wait_time accreditations "
            "eligibility_description minimum_age maximum_age assured_date assurer_email "
            "licenses alert",
            refs=(Ref("organization", "organization", "organization_id", required=True),),
            children=_children(
                "service",
                "phones schedules languages cost_options required_documents contacts "
                "attributes service_at_locations",
            ),
            nested={"organization": "organization"},
            not_kept={
                "program_id": None,
                "fees": None,
                "program": "program",
                "service_areas": "service_area",
                "funding": "funding",
                "metadata": "metadata",
            },
            extensions="accepts_referrals referral_response_hours last_verified_at",
            derived="last_modified",
        ),
        _kind(
            "location",
            Location,
            "location_type url name alternate_name description transportation latitude "
            "longitude external_identifier external_identifier_type",
            refs=(Ref("organization", "organization", "organization_id"),),
            children=_children("location", "languages addresses contacts phones schedules"),
            not_kept={"accessibility": "accessibility", **_DETAILS},
        ),
        _kind(
            "address",
            Address,
            "attention address_1 address_2 city region state_province postal_code country "
            "address_type",
            refs=(Ref("location", "location", "location_id", required=True),),
            not_kept=_DETAILS,
        ),
        _kind(
            "service_at_location",
            ServiceAtLocation,
            "description",
            refs=(
                Ref("service", "service", "service_id", required=True),
                Ref("location", "location", "location_id", required=True),
            ),
            children=_children("service_at_location", "contacts phones schedules"),
            nested={"service": "service", "location": "location"},
            not_kept=_DETAILS,
            derived="capacity distance_km",
        ),
        _kind(
            "contact",
            Contact,
            "name title department email",
            refs=_owners("organization", "service", "service_at_location", "location"),
            children=_children("contact", "phones"),
            not_kept=_DETAILS,
            one_owner=True,
        ),
        _kind(
            "phone",
            Phone,
            "number extension type description",
            refs=_owners("location", "service", "organization", "contact", "service_at_location"),
            children=_children("phone", "languages"),
            not_kept=_DETAILS,
            one_owner=True,
        ),
        _kind(
            "language",
            Language,
            "name code note",
            refs=_owners("service", "location", "phone"),
            not_kept=_DETAILS,
            one_owner=True,
        ),
        _kind(
            "schedule",
            Schedule,
            "valid_from valid_to dtstart until wkst freq interval byday bymonthday description "
            "opens_at closes_at schedule_link attending_type notes closed",
            refs=_owners("service", "location", "service_at_location"),
            not_kept={"timezone": None, "count": None, "byweekno": None, "byyearday": None}
            | _DETAILS,
            one_owner=True,
        ),
        _kind(
            "attribute",
            Attribute,
            "value",
            refs=(
                Ref("service", "service", "link_id", required=True),
                Ref("taxonomy_term", "taxonomy_term", "taxonomy_term_id", required=True),
            ),
            nested={"taxonomy_term": "taxonomy_term"},
            not_kept={"metadata": "metadata"},
            extra="link_id link_entity link_type",
        ),
        _kind(
            "cost_option",
            CostOption,
            "valid_from valid_to option currency amount amount_description",
            refs=_OWN_SERVICE,
            not_kept=_DETAILS,
        ),
        _kind(
            "required_document",
            RequiredDocument,
            "document uri",
            refs=_OWN_SERVICE,
            not_kept=_DETAILS,
        ),
    )
}

# HSDS tables we do not model: their rows are counted as ignored.
NOT_MODELLED = (
    "program",
    "funding",
    "service_area",
    "accessibility",
    "metadata",
    "meta_table_description",
    "organization_identifier",
)
# What a file may hold at its top level (an API endpoint's object), and their collections.
TOP_KINDS = (
    "service",
    "organization",
    "service_at_location",
    "location",
    "taxonomy_term",
    "taxonomy",
)
COLLECTIONS = {
    "services": "service",
    "organizations": "organization",
    "service_at_locations": "service_at_location",
    "locations": "location",
    "taxonomies": "taxonomy",
    "taxonomy_terms": "taxonomy_term",
}
UNIQUE = {
    "taxonomy": ("name",),
    "taxonomy_term": ("taxonomy", "code"),
    "service_at_location": ("service", "location"),
    "attribute": ("service", "taxonomy_term"),
}
# Prose that HSDS leaves unbounded and our column does not: cut, with a warning, rather than
# reject the object (HSDS's own example document has 279 characters). A TextField would be the
# real fix.
TRUNCATED = {("required_document", "document")}


@cache
def _schema(kind: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{kind}.json").read_text(encoding="utf-8"))


@cache
def _validator(kind: str):
    return validator(f"{kind}.json")


def _keys(kind: Kind) -> set[str]:
    return (
        set(_schema(kind.name)["properties"])
        | set(kind.children)
        | set(kind.nested)
        | set(kind.extensions)
        | set(kind.derived)
    )


@cache
def _distinctive() -> dict[str, set[str]]:
    keys = {name: _keys(KINDS[name]) for name in TOP_KINDS}
    return {
        name: own - set().union(*(keys[o] for o in TOP_KINDS if o != name))
        for name, own in keys.items()
    }


def detect(obj: dict) -> str | None:
    """The HSDS object a top-level JSON object is, from its keys; None when it cannot be told.

    An object is a kind when it has a key only that kind has (`status`: service,
    `location_type`: location, `website`: organization, `service_id` or a nested `location`:
    service at location, `code` or `parent_id`: taxonomy term, `version`: taxonomy). Failing
    that, when exactly one kind has all its keys and its required ones; `{"id", "name",
    "description"}` fits an organization, a taxonomy and a term, and needs `--type`.
    """
    keys = set(obj)
    hits = [name for name, own in _distinctive().items() if keys & own]
    if len(hits) == 1:
        return hits[0]
    if hits:
        return None
    fits = [
        name
        for name in TOP_KINDS
        if keys <= _keys(KINDS[name]) and set(_schema(name).get("required", ())) <= keys
    ]
    return fits[0] if len(fits) == 1 else None
