"""`service_search`, the one search of the field app, admin and API, and the listings its rows
are read with (`pages` reads its pages)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import (
    Exists,
    F,
    Func,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import OrderBy
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from acs.errors import DomainError
from resources.models import (
    Address,
    Attribute,
    Language,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
    capacity_stale_after,
)
from resources.selectors.directory.geo import (
    MAX_RADIUS_KM,
    Point,
    WithinRadius,
    chord_km,
    distance_km,
)
from resources.selectors.directory.open_now import in_ids, open_at_condition, open_at_filter
from resources.selectors.directory.text import text_search

_M = TypeVar("_M", bound=Model)

# The path from a service at location to its search row (SearchPlace): the name, status,
# referral flag, point, document, terms, languages and capacity the search filters and orders
# on, on one table.
PLACE = "search_place__"


def _term_ids(terms: Iterable[uuid.UUID | TaxonomyTerm]) -> list[uuid.UUID]:
    return [t.public_id if isinstance(t, TaxonomyTerm) else t for t in terms]


def _terms_or_children(terms: Iterable[uuid.UUID | TaxonomyTerm]) -> QuerySet[TaxonomyTerm]:
    """These terms and their direct children: what asking for a term means."""
    ids = _term_ids(terms)
    return TaxonomyTerm.objects.filter(Q(public_id__in=ids) | Q(parent__public_id__in=ids))


def offers_terms(terms: Iterable[uuid.UUID | TaxonomyTerm], *, service: str) -> Exists:
    """The service (the row's `service` column: "pk" for a Service, "service_id" for a
    service at a location) has any of these terms or one of their direct children."""
    return Exists(
        Attribute.objects.filter(
            service=OuterRef(service), taxonomy_term__in=_terms_or_children(terms)
        )
    )


def offers_terms_here(terms: Iterable[uuid.UUID | TaxonomyTerm]) -> Q:
    """offers_terms on a service at location's search row: its service's terms (SearchPlace
    `terms`, under a GIN index) hold any of these terms or one of their direct children.

    The terms' keys are read first (one small query) and given as a constant array: from a
    subquery PostgreSQL could not know how many places they name, guessed a few hundred,
    and sorted every match of a common term open now to find its first page by name where it
    walks the names' index (a primary care term open at five on a Monday at 200,000
    services: 19,832 places, 82 -> 3 ms)."""
    keys = sorted(_terms_or_children(terms).values_list("id", flat=True))
    return Q(search_place__terms__overlap=keys)


def in_taxonomy(taxonomy: uuid.UUID, *, service: str) -> Exists:
    """The service (as offers_terms's `service`) has a term of this taxonomy."""
    return Exists(
        Attribute.objects.filter(
            service=OuterRef(service), taxonomy_term__taxonomy__public_id=taxonomy
        )
    )


def _listing_prefetches(
    *, addresses: bool, languages: bool, needs: bool
) -> list[str | Prefetch[Any]]:
    chosen: list[str | Prefetch[Any]] = []
    if addresses:
        chosen.append("location__addresses")
    if languages:
        chosen.append(
            Prefetch("service__languages", queryset=Language.objects.order_by("code", "id"))
        )
    if needs:  # the terms service_needs reads
        chosen.append(
            Prefetch(
                "service__attributes",
                queryset=Attribute.objects.select_related(
                    "taxonomy_term__taxonomy", "taxonomy_term__parent"
                ),
            )
        )
    return chosen


def listed_with(
    queryset: QuerySet[ServiceAtLocation],
    *,
    addresses: bool = False,
    languages: bool = False,
    needs: bool = False,
) -> QuerySet[ServiceAtLocation]:
    """service_search's rows with only the lists the caller shows prefetched (service_search
    prefetches all three: the field app's snapshot shows them all): the addresses, the
    service's languages, its terms (`needs`). A list not shown is a statement and its model
    instances (four per term) a page that nothing reads."""
    return queryset.prefetch_related(None).prefetch_related(
        *_listing_prefetches(addresses=addresses, languages=languages, needs=needs)
    )


# The columns a line of a place shows (and what its lists and the referral preview read):
# the four joined rows' other columns (descriptions, contact fields, timestamps) were a third
# of reading the resources screen's 50 rows at 20,000 services (26 -> 19 ms in process,
# docs/benchmarks.md). Whoever goes on to write with a row reads it wide (`.defer(None)`).
BRIEF_FIELDS = (
    "public_id",
    "service__public_id",
    "service__name",
    "service__accepts_referrals",
    "service__organization__public_id",
    "service__organization__name",
    "location__name",
    "location__latitude",
    "location__longitude",
    "capacity__available",
    "capacity__total",
    "capacity__unit",
    "capacity__updated_at",
)


def listed_brief(
    queryset: QuerySet[ServiceAtLocation], *, languages: bool = False
) -> QuerySet[ServiceAtLocation]:
    """service_search's rows as a list of places shows each (the field app's resources screen,
    the admin's referral picker and its preview), in one statement: the service and its
    organization, the location (not its organization), the capacity figure, and as
    annotations the first address's `street` and `city` (None when it has none) and, with
    `languages`, the service's `language_codes` (by code).

    No prefetch: a list shows one line of each place, so reading every address and language
    as model instances (two statements and about 150 instances a page of 50) cost more than
    the page's own rows (the resources screen's 50 rows: 22 -> 14 ms at 20,000 services,
    docs/benchmarks.md). The annotations are read with the page's rows only: page_keys
    selects keys alone."""
    first_address = Address.objects.filter(location=OuterRef("location_id")).order_by("id")
    qs = (
        queryset.prefetch_related(None)
        .select_related(None)
        .select_related("service__organization", "location", "capacity")
        .only(*BRIEF_FIELDS)
        .annotate(
            street=Subquery(first_address.values("address_1")[:1]),
            city=Subquery(first_address.values("city")[:1]),
        )
    )
    if languages:
        qs = qs.annotate(
            language_codes=ArraySubquery(
                Language.objects.filter(service=OuterRef("service_id"))
                .order_by("code", "id")
                .values("code")
            )
        )
    return qs


def service_search(
    *,
    text: str = "",
    taxonomy_terms: Sequence[uuid.UUID | TaxonomyTerm] = (),
    taxonomy: uuid.UUID | None = None,
    organization: uuid.UUID | None = None,
    language: str = "",
    open_now: bool = False,
    at: datetime | None = None,
    has_capacity: bool = False,
    accepts_referrals: bool | None = None,
    near: Point | None = None,
    radius_km: float | None = None,
    modified_after: datetime | None = None,
    postcode: str = "",
    active_only: bool = True,
) -> QuerySet[ServiceAtLocation]:
    """Services at locations matching every filter given, best first.

    - `text`: full-text match of every word (English and Spanish stemming) over the service's
      name, organization, taxonomy terms and description, misspelt words corrected from the
      directory's words (`text_query`); annotates `text_score` (the order) and `rank` (0-1).
    - `taxonomy_terms`: any of these terms or their direct children.
    - `language`: ISO code spoken by the service or at the location.
    - `open_now`: open at `at` (default now) by the schedules: the precomputed opening
      intervals where their window covers `at`, else opening_hours.is_open (the reference).
    - `has_capacity`: a capacity figure with places free that is not stale.
    - `near`: annotates `distance_km`; with `radius_km`, only places within it.
    Ordered by distance when `near` is given (then rank), else by rank, else by name.

    The result is a lazy queryset, but `text` reads the query's words (one or two small
    queries) and `open_now` reads the intervals' window (one small query; two more to pick the
    open rows when `at` is outside it) when this is called.
    """
    qs = ServiceAtLocation.objects.select_related(
        "service__organization", "location__organization", "capacity"
    ).prefetch_related(*_listing_prefetches(addresses=True, languages=True, needs=True))
    if active_only:
        qs = qs.filter(search_place__status=ServiceStatus.ACTIVE)
    else:
        # Every place has its search row (the triggers write it with the place): joined
        # inner, as any filter on it would, so the name order can walk its index (a left
        # join, the HSDS list's every status, hashed every place: 3 -> 9.5 ms a page).
        qs = qs.filter(search_place__isnull=False)
    if organization:
        qs = qs.filter(service__organization__public_id=organization)
    if modified_after:
        qs = qs.filter(
            Q(updated_at__gte=modified_after) | Q(service__updated_at__gte=modified_after)
        )
    if accepts_referrals is not None:
        qs = qs.filter(search_place__accepts_referrals=accepts_referrals)
    if postcode:
        qs = qs.filter(
            Exists(Address.objects.filter(location=OuterRef("location_id"), postal_code=postcode))
        )
    if taxonomy_terms:
        qs = qs.filter(offers_terms_here(taxonomy_terms))
    if taxonomy:
        qs = qs.filter(in_taxonomy(taxonomy, service="service_id"))
    if language:
        # Case-blind: the search row holds the upper-case codes of the service's and the
        # location's languages, under a GIN index.
        qs = qs.filter(search_place__languages__contains=[language.strip().upper()])
    if has_capacity:
        qs = qs.filter(
            search_place__available__gt=0,
            search_place__capacity_updated_at__gte=timezone.now() - capacity_stale_after(),
        )
    ordering: list[OrderBy] = []
    if near is not None:
        if radius_km is not None:
            if not 0 < radius_km <= MAX_RADIUS_KM:
                raise DomainError(
                    "The radius is out of range.",
                    code="invalid",
                    fields={"radius_km": [f"Must be more than 0 and at most {MAX_RADIUS_KM:g}."]},
                )
            qs = qs.filter(WithinRadius(near, radius_km, place=PLACE))
        qs = qs.filter(search_place__point__isnull=False)
        qs = qs.annotate(distance_km=distance_km(near, place=PLACE))
        # The chord grows with the distance: the same order, and the one the index serves
        # (page_keys walks the index nearest first: see _nearest_cut).
        ordering.append(chord_km(near, place=PLACE).asc())
    text = text.strip()
    if text:
        qs, ranked = text_search(qs, text, service="service__", place=PLACE)
        if ranked:
            ordering.append(F("text_score").desc())
    if open_now:
        at = at or timezone.now()
        # With words or terms, open now is asked from their index (the hour), then on the
        # rows it finds.
        condition: Q | Func | None = open_at_condition(
            at, place=PLACE, hours_indexed=bool(text or taxonomy_terms)
        )
        if condition is None:  # beyond the intervals' window: judge the schedules in Python
            condition = in_ids("id", open_at_filter(qs, at))
        qs = qs.filter(condition)
    qs = qs.order_by(*ordering, "search_place__name", "id")
    if near is not None:
        # Read by page_keys; the query's attributes follow its clones (filters, slices).
        # An attribute of our own on Django's Query, which its stubs do not know.
        qs.query.nearest_first = (near, ordering[0])  # type: ignore[attr-defined]
    return qs


def left_out_of_search(
    text: str, *, accepts_referrals: bool = False, limit: int = 3
) -> list[tuple[str, str]]:
    """The services best matching `text` (every status) that `service_search(text=text,
    accepts_referrals=...)` leaves out, each with why, for a screen or picker that shows what
    that search finds and found nothing: its status when it is not active ("inactive",
    "temporarily closed"...), "does not take referrals" (when only those are asked for), "has
    no place yet" (the search lists services at locations); a name and reason once. In the
    active language. One query; directory data only."""
    qs, ranked = text_search(Service.objects.all(), text, service="")
    if not ranked:
        return []
    placed = ServiceAtLocation.objects.filter(service=OuterRef("pk"))
    listed = Q(status=ServiceStatus.ACTIVE, placed=True)
    if accepts_referrals:
        listed &= Q(accepts_referrals=True)
    rows = (
        qs.annotate(placed=Exists(placed))
        .exclude(listed)
        .order_by("-text_score", "name", "id")
        # A few more than `limit`: services of one name (each partner's "Food pantry") and
        # one reason are named once.
        .values_list("name", "status", "accepts_referrals")[: limit * 3]
    )
    reasons: list[tuple[str, str]] = []
    for name, status, takes_referrals in rows:
        if status != ServiceStatus.ACTIVE:
            why = _STATUS_REASONS.get(status, status)
        elif accepts_referrals and not takes_referrals:
            why = gettext("does not take referrals")
        else:  # active (and taking referrals, if asked), so left out for having no place
            why = gettext("has no place yet")
        if (name, str(why)) not in reasons:
            reasons.append((name, str(why)))
    return reasons[:limit]


def left_out_text(left_out: Iterable[tuple[str, str]]) -> str:
    """left_out_of_search's answer as people read it: "Name (why); Name (why)"."""
    return "; ".join(f"{name} ({why})" for name, why in left_out)


# A service status as the reason it is not listed (the labels are HSDS's, untranslated).
_STATUS_REASONS = {
    ServiceStatus.INACTIVE: gettext_lazy("inactive"),
    ServiceStatus.DEFUNCT: gettext_lazy("defunct"),
    ServiceStatus.TEMPORARILY_CLOSED: gettext_lazy("temporarily closed"),
}
