"""The HSDS `Page` envelope (shared/hsds/schema/openapi.json, components/schemas/Page)."""

from __future__ import annotations

import math

from django.db.models import QuerySet
from rest_framework import serializers

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


def paginate(queryset: QuerySet, *, page: int, per_page: int) -> tuple[list, dict]:
    """The page's rows and the envelope without `contents`. Two queries: count and slice."""
    total_items = queryset.count()
    total_pages = math.ceil(total_items / per_page)
    offset = (page - 1) * per_page
    rows = list(queryset[offset : offset + per_page]) if offset < total_items else []
    envelope = {
        "total_items": total_items,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(rows),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not rows,
    }
    return rows, envelope
