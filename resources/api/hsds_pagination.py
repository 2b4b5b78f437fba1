"""The HSDS `Page` envelope (shared/hsds/schema/openapi.json, components/schemas/Page)."""

from __future__ import annotations

import math

from django.db.models import QuerySet
from rest_framework import serializers

from resources.selectors import MATCHES_COUNTED, counted_page_keys, page_keys, rows_of

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


class PageParams(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    per_page = serializers.IntegerField(
        min_value=1, max_value=MAX_PER_PAGE, default=DEFAULT_PER_PAGE
    )
    format = serializers.ChoiceField(
        choices=["json"],
        default="json",
        error_messages={"invalid_choice": "Only json is supported."},
    )


# Counting stops here: an exact count of a large match set is a scan of it on every page.
COUNT_CAP = MATCHES_COUNTED


def _count_limit(at_least: int) -> int:
    # A page number past any real list (99999999999999999999999) must not overflow LIMIT.
    return min(max(COUNT_CAP, at_least), 2**31)


def capped_count(queryset: QuerySet, *, at_least: int = 0) -> tuple[int, bool]:
    """(count, capped): the exact number of rows when there are at most max(COUNT_CAP,
    at_least); otherwise that limit + 1 with capped True, meaning "at least this many". One
    query that reads at most limit + 1 rows (`SELECT count(*) FROM (... LIMIT n)`), with
    the ordering and the annotations (a text rank) left out."""
    limit = _count_limit(at_least)
    counted = queryset.order_by().values("pk")[: limit + 1].count()
    return counted, counted > limit


def paginate(queryset: QuerySet, *, page: int, per_page: int) -> tuple[list, dict]:
    """The page's rows and the envelope without `contents`: the count and, when it is exact,
    the page's keys in one statement (counted_page_keys), the keys of a capped one by
    page_keys (told the count is past `limit`: no second count), then its rows and the
    queryset's prefetches.

    The count is exact up to COUNT_CAP rows (or to the end of the asked page, if further);
    past it `total_items` is a lower bound, one more than that limit, and
    `"total_items_capped": true` (beyond HSDS, which sets no additionalProperties; absent
    when the count is exact) says so. The page
    numbers stay consistent: a capped count always leaves a page after this one, so
    `last_page` is false until the real end, and clients paging on `last_page` or
    `total_pages` walk the whole list.

    (The first COUNT_CAP + 1 keys in order whatever the count was tried: at 200,000
    services it was slower, the ordered walk 1,001 deep costing more than the unordered
    capped count plus a page of 20; docs/benchmarks.md. Only matches the count has read,
    at most COUNT_CAP of them, are sorted here.)"""
    offset, stop = (page - 1) * per_page, page * per_page
    limit = _count_limit(stop)
    total_items, keys = counted_page_keys(queryset, min(stop, limit), limit=limit)
    capped = total_items > limit
    if keys is None and offset < total_items:
        keys = page_keys(queryset, stop, counted_past=limit)
    rows = rows_of(queryset, keys[offset:stop]) if keys else []
    total_pages = math.ceil(total_items / per_page)
    envelope = {
        "total_items": total_items,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(rows),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not rows,
    }
    if capped:
        envelope["total_items_capped"] = True
    return rows, envelope
