"""Needs: the encounter's words for what a person needs, and the directory's terms meeting them."""

from __future__ import annotations

from collections.abc import Iterable

from resources.models import ServiceAtLocation, TaxonomyTerm

# The taxonomy the needs are matched in (seeded by migration 0005).
NEEDS_TAXONOMY = "ACS needs"
# Each need of an encounter (cases.models.Need) and the "ACS needs" terms that meet it; a term
# also covers its direct children (service_search's rule). "other" names no term.
NEED_TERMS: dict[str, tuple[str, ...]] = {
    "shelter": ("shelter",),
    "behavioral_health": ("behavioral-health", "crisis"),
    "substance_use": ("substance-use", "detox"),
    "medical": ("health",),
    "food": ("food",),
    "id_documents": ("id-documents",),
    "benefits": ("benefits",),
    "housing": ("housing",),
    "transportation": ("transportation",),
    "safety": ("domestic-violence",),
}


def need_terms(needs: Iterable[str]) -> list[TaxonomyTerm]:
    """The taxonomy terms that meet any of `needs` (one small query; none for no need or only
    needs without a term), for `service_search(taxonomy_terms=...)`."""
    codes = {code for need in needs for code in NEED_TERMS.get(need, ())}
    if not codes:
        return []
    return list(TaxonomyTerm.objects.filter(taxonomy__name=NEEDS_TAXONOMY, code__in=codes))


def service_needs(sal: ServiceAtLocation) -> list[str]:
    """The needs a service meets, read from its terms as service_search prefetches them (no
    query): the same rule as need_terms, so the tablet can filter offline as the server does."""
    codes = set()
    for attribute in sal.service.attributes.all():
        term = attribute.taxonomy_term
        if term.taxonomy.name != NEEDS_TAXONOMY:
            continue
        codes.add(term.code)
        if term.parent is not None:
            codes.add(term.parent.code)
    return [need for need, terms in NEED_TERMS.items() if codes.intersection(terms)]
