"""Reads of the public HSDS API: services, services at locations, organizations, taxonomies and
terms, with the prefetches of a full record."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import Prefetch, QuerySet, Value

from resources.models import (
    Attribute,
    Language,
    Location,
    Organization,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from resources.selectors.directory.geo import Point
from resources.selectors.directory.search import (
    in_taxonomy,
    listed_with,
    offers_terms,
    service_search,
)
from resources.selectors.directory.text import MIN_TEXT_RANK, text_search


def _detail_prefetches(prefix: str = "") -> list[str | Prefetch[Any]]:
    """Prefetches of a full service."""
    p = prefix
    return [
        f"{p}phones__languages",
        f"{p}schedules",
        f"{p}cost_options",
        f"{p}required_documents",
        f"{p}contacts__phones__languages",
        Prefetch(f"{p}languages", queryset=Language.objects.order_by("code", "id")),
        Prefetch(
            f"{p}attributes",
            queryset=Attribute.objects.select_related(
                "taxonomy_term__taxonomy", "taxonomy_term__parent"
            ),
        ),
    ]


def services_list(
    *,
    text: str = "",
    taxonomy_terms: Sequence[uuid.UUID] = (),
    taxonomy: uuid.UUID | None = None,
    organization: uuid.UUID | None = None,
    modified_after: datetime | None = None,
    full: bool = False,
) -> QuerySet[Service]:
    """Services for the HSDS API (every status: HSDS publishes inactive ones with their status)."""
    qs = Service.objects.select_related("organization")
    if organization:
        qs = qs.filter(organization__public_id=organization)
    if modified_after:
        qs = qs.filter(updated_at__gte=modified_after)
    if taxonomy_terms:
        qs = qs.filter(offers_terms(taxonomy_terms, service="pk"))
    if taxonomy:
        qs = qs.filter(in_taxonomy(taxonomy, service="pk"))
    if full:
        qs = qs.prefetch_related(
            *_detail_prefetches(),
            Prefetch(
                "at_locations",
                queryset=ServiceAtLocation.objects.select_related(
                    "location__organization"
                ).prefetch_related(
                    "location__addresses",
                    "location__phones__languages",
                    "location__schedules",
                    "location__languages",
                    "phones__languages",
                    "schedules",
                    "contacts__phones__languages",
                ),
            ),
        )
    text = text.strip()
    if text:
        qs, ranked = text_search(qs, text, service="")
        if ranked:
            # text_search's annotation is on a QuerySet[Any]: the plugin checks this order
            # against Service's fields alone.
            return qs.order_by("-text_score", "name", "id")  # type: ignore[misc]
    return qs.order_by("name", "id")


def service_at_locations_list(
    *, full: bool = False, active_only: bool = False, **filters: Any
) -> QuerySet[ServiceAtLocation]:
    """service_search for the HSDS list (every status, unless `active_only`): the one-to-one
    rows it joins are all the short form shows (ServiceAtLocationOut), so its prefetches (the
    field app's and the picker's addresses, languages and needs) are dropped: three statements
    and about 150 model instances a page of 20 that nothing read. `full` prefetches everything
    HSDS nests."""
    qs = listed_with(service_search(active_only=active_only, **filters))
    if full:
        qs = qs.prefetch_related(
            *_detail_prefetches("service__"),
            "location__addresses",
            "phones__languages",
            "schedules",
            "contacts__phones__languages",
            "location__phones__languages",
            "location__schedules",
            "location__languages",
            "location__contacts__phones__languages",
        )
    return qs


def organizations_list(
    *, text: str = "", full: bool = False, full_service: bool = False
) -> QuerySet[Organization]:
    qs = Organization.objects.all()
    if full or full_service:
        qs = qs.prefetch_related(
            "phones__languages",
            "contacts__phones__languages",
            Prefetch(
                "locations",
                queryset=Location.objects.prefetch_related(
                    "addresses", "phones__languages", "schedules", "languages"
                ),
            ),
        )
        if full_service:
            qs = qs.prefetch_related(
                Prefetch(
                    "services",
                    queryset=Service.objects.select_related("organization").prefetch_related(
                        *_detail_prefetches()
                    ),
                )
            )
        else:
            qs = qs.prefetch_related("services")
    text = text.strip()
    if text:
        return (
            # Django takes an expression as the string (and wraps a str in Value); the stubs
            # say str.
            qs.annotate(rank=TrigramWordSimilarity(Value(text), "name"))  # type: ignore[arg-type]
            .filter(rank__gte=MIN_TEXT_RANK)
            .order_by("-rank", "name", "id")
        )
    return qs.order_by("name", "id")


def postcode_centroid(postcode: str) -> Point | None:
    """The mean position of our locations with this postcode (HSDS `proximity` is measured
    from the postcode's centroid; we know no other geography)."""
    from django.db.models import Avg

    centre = Location.objects.filter(
        addresses__postal_code=postcode, latitude__isnull=False, longitude__isnull=False
    ).aggregate(latitude=Avg("latitude"), longitude=Avg("longitude"))
    if centre["latitude"] is None:
        return None
    return Point(float(centre["latitude"]), float(centre["longitude"]))


def taxonomies_list(*, text: str = "") -> QuerySet[Taxonomy]:
    qs = Taxonomy.objects.all()
    if text.strip():
        qs = qs.filter(name__icontains=text.strip())
    return qs.order_by("name", "id")


def taxonomy_terms_list(
    *,
    text: str = "",
    taxonomy: uuid.UUID | None = None,
    parent: uuid.UUID | None = None,
    top_only: bool = False,
) -> QuerySet[TaxonomyTerm]:
    qs = TaxonomyTerm.objects.select_related("taxonomy", "parent")
    if taxonomy:
        qs = qs.filter(taxonomy__public_id=taxonomy)
    if parent:
        qs = qs.filter(parent__public_id=parent)
    if top_only:
        qs = qs.filter(parent__isnull=True)
    text = text.strip()
    if text:
        return (
            # Django takes an expression as the string (and wraps a str in Value); the stubs
            # say str.
            qs.annotate(rank=TrigramWordSimilarity(Value(text), "name"))  # type: ignore[arg-type]
            .filter(rank__gte=MIN_TEXT_RANK)
            .order_by("-rank", "code", "id")
        )
    return qs.order_by("taxonomy__name", "code", "id")
