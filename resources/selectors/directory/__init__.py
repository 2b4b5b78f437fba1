"""Reads of the directory. `service_search` is the one search of the field app, admin and API.

The directory is public (no personal data), so these selectors take no acting user. By concern:
`search` (the search), `pages` (reading its pages), `text` (full-text search and corrections),
`geo` (points and distances), `open_now` (open at an instant), `needs` (an encounter's needs
as terms) and `hsds` (the public HSDS API's reads).
"""

from resources.models.directory import EARTH_RADIUS_KM
from resources.selectors.directory.geo import (
    MAX_RADIUS_KM,
    Point,
    chord_km,
    distance_km,
    earth_box,
)
from resources.selectors.directory.heaviest import heaviest_page_keys
from resources.selectors.directory.hsds import (
    organizations_list,
    postcode_centroid,
    service_at_locations_list,
    services_list,
    taxonomies_list,
    taxonomy_terms_list,
)
from resources.selectors.directory.needs import (
    NEED_TERMS,
    NEEDS_TAXONOMY,
    need_terms,
    service_needs,
)
from resources.selectors.directory.open_now import open_at_condition, open_at_filter
from resources.selectors.directory.pages import (
    MATCHES_COUNTED,
    REACH_MAX_STOP,
    REACH_PLACES,
    counted_page_keys,
    page_keys,
    page_rows,
    pages_by_slice,
    rows_of,
)
from resources.selectors.directory.search import (
    left_out_of_search,
    left_out_text,
    listed_brief,
    listed_with,
    service_search,
)
from resources.selectors.directory.text import (
    MAX_CORRECTIONS,
    MAX_EDITS,
    MAX_QUERY_WORDS,
    MAX_WORD_LENGTH,
    MIN_CORRECTION_SIMILARITY,
    MIN_TEXT_RANK,
    SHORT_WORD,
    TEXT_WEIGHTS,
    TextQuery,
    documents_matching,
    only_text_match,
    text_matches,
    text_query,
    text_score,
    text_search,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "MATCHES_COUNTED",
    "MAX_CORRECTIONS",
    "MAX_EDITS",
    "MAX_QUERY_WORDS",
    "MAX_RADIUS_KM",
    "MAX_WORD_LENGTH",
    "MIN_CORRECTION_SIMILARITY",
    "MIN_TEXT_RANK",
    "NEEDS_TAXONOMY",
    "NEED_TERMS",
    "REACH_MAX_STOP",
    "REACH_PLACES",
    "SHORT_WORD",
    "TEXT_WEIGHTS",
    "Point",
    "TextQuery",
    "chord_km",
    "counted_page_keys",
    "distance_km",
    "documents_matching",
    "earth_box",
    "heaviest_page_keys",
    "left_out_of_search",
    "left_out_text",
    "listed_brief",
    "listed_with",
    "need_terms",
    "only_text_match",
    "open_at_condition",
    "open_at_filter",
    "organizations_list",
    "page_keys",
    "page_rows",
    "pages_by_slice",
    "postcode_centroid",
    "rows_of",
    "service_at_locations_list",
    "service_needs",
    "service_search",
    "services_list",
    "taxonomies_list",
    "taxonomy_terms_list",
    "text_matches",
    "text_query",
    "text_score",
    "text_search",
]
