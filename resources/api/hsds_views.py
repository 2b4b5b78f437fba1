"""The public, read-only HSDS 3.0 API under /api/hsds/ (shared/hsds/schema/openapi.json).

Views only translate HTTP: validate the query with an input serializer, call one selector,
page it into the HSDS envelope, shape the output. Bad parameters give 400 in the project's
error shape; unknown or malformed ids give 404.
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from acs.errors import DomainError, NotFound
from resources import selectors
from resources.api import hsds_serializers as out
from resources.api.hsds_pagination import PageParams, paginate

HSDS_VERSION = "3.0"
HSDS_PROFILE = "https://docs.openreferral.org/en/v3.0/"
HSDS_OPENAPI_URL = (
    "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
)


# --- query parameters ------------------------------------------------------------------------


class UuidList(serializers.CharField):
    """A comma-separated list of UUIDs."""

    def to_internal_value(self, data) -> list[uuid.UUID]:
        text = super().to_internal_value(data)
        try:
            return [uuid.UUID(part.strip()) for part in text.split(",") if part.strip()]
        except ValueError as exc:
            raise serializers.ValidationError("Must be one or more comma-separated ids.") from exc


class ListParams(PageParams):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class ServiceParams(ListParams):
    taxonomy_term_id = UuidList(required=False)
    taxonomy_id = serializers.UUIDField(required=False)
    organization_id = serializers.UUIDField(required=False)
    modified_after = serializers.DateTimeField(required=False)
    minimal = serializers.BooleanField(required=False, default=False)
    full = serializers.BooleanField(required=False, default=False)


class ServiceAtLocationParams(ServiceParams):
    postcode = serializers.CharField(required=False, max_length=16)
    proximity = serializers.IntegerField(required=False, min_value=1, max_value=500_000)
    # Beyond HSDS: the field app's search.
    latitude = serializers.FloatField(required=False, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, min_value=-180, max_value=180)
    radius_km = serializers.FloatField(required=False)
    open_now = serializers.BooleanField(required=False, default=False)
    open_at = serializers.DateTimeField(required=False)
    has_capacity = serializers.BooleanField(required=False, default=False)
    accepts_referrals = serializers.BooleanField(required=False, allow_null=True, default=None)
    language = serializers.CharField(required=False, max_length=16, default="")

    def validate(self, attrs):
        if ("latitude" in attrs) != ("longitude" in attrs):
            raise serializers.ValidationError(
                {"longitude": ["latitude and longitude go together."]}
            )
        if "proximity" in attrs and "postcode" not in attrs:
            raise serializers.ValidationError({"proximity": ["proximity needs a postcode."]})
        if "radius_km" in attrs and "latitude" not in attrs:
            raise serializers.ValidationError({"radius_km": ["radius_km needs a point."]})
        return attrs


class OrganizationParams(ListParams):
    full = serializers.BooleanField(required=False, default=False)
    full_service = serializers.BooleanField(required=False, default=False)


class OrganizationDetailParams(serializers.Serializer):
    full_service = serializers.BooleanField(required=False, default=False)


class TaxonomyTermParams(ListParams):
    taxonomy_id = serializers.UUIDField(required=False)
    parent_id = serializers.UUIDField(required=False)
    top_only = serializers.BooleanField(required=False, default=False)


def query(request: Request, params: type[serializers.Serializer]) -> dict:
    serializer = params(data=request.query_params.dict())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def one(queryset: QuerySet, public_id: str, what: str):
    try:
        key = uuid.UUID(public_id)
    except ValueError:
        key = None
    row = queryset.filter(public_id=key).first() if key else None
    if row is None:
        raise NotFound(f"No {what} has this id.")
    return row


# --- views -----------------------------------------------------------------------------------


class JsonOnly(DefaultContentNegotiation):
    """`format` is an HSDS query parameter (json, ndjson), not DRF's renderer switch."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema(exclude=True)  # the contract is HSDS's own openapi.json
class HsdsView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonOnly

    def page(self, request, queryset, params, serializer, **context) -> Response:
        rows, envelope = paginate(queryset, page=params["page"], per_page=params["per_page"])
        context.setdefault("now", timezone.now())
        contents = serializer(rows, many=True, context={"request": request, **context}).data
        return Response({**envelope, "contents": contents})


class RootView(HsdsView):
    def get(self, request: Request) -> Response:
        return Response(
            {"version": HSDS_VERSION, "profile": HSDS_PROFILE, "openapi_url": HSDS_OPENAPI_URL}
        )


class ServiceListView(HsdsView):
    def get(self, request: Request) -> Response:
        p = query(request, ServiceParams)
        qs = selectors.services_list(
            text=p["search"],
            taxonomy_terms=p.get("taxonomy_term_id", ()),
            taxonomy=p.get("taxonomy_id"),
            organization=p.get("organization_id"),
            modified_after=p.get("modified_after"),
            full=p["full"] and not p["minimal"],
        )
        if p["minimal"]:
            return self.page(request, qs, p, MinimalOut)
        return self.page(request, qs, p, out.ServiceFullOut if p["full"] else out.ServiceOut)


class MinimalOut(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    last_modified = out.UtcDateTime(source="updated_at")


class ServiceDetailView(HsdsView):
    def get(self, request: Request, public_id: str) -> Response:
        service = one(selectors.services_list(full=True), public_id, "service")
        return Response(out.ServiceFullOut(service, context={"request": request}).data)


class ServiceAtLocationListView(HsdsView):
    def get(self, request: Request) -> Response:
        p = query(request, ServiceAtLocationParams)
        near, radius_km = None, p.get("radius_km")
        if "latitude" in p:
            near = selectors.Point(p["latitude"], p["longitude"])
        elif "proximity" in p:
            near = selectors.postcode_centroid(p["postcode"])
            if near is None:
                raise DomainError(
                    "No location in the directory has this postcode.",
                    code="invalid",
                    fields={"postcode": ["Unknown postcode."]},
                )
            radius_km = p["proximity"] / 1000
        qs = selectors.service_at_locations_list(
            full=p["full"],
            text=p["search"],
            taxonomy_terms=p.get("taxonomy_term_id", ()),
            taxonomy=p.get("taxonomy_id"),
            organization=p.get("organization_id"),
            modified_after=p.get("modified_after"),
            postcode=p.get("postcode", "") if "proximity" not in p else "",
            near=near,
            radius_km=radius_km,
            open_now=p["open_now"] or "open_at" in p,
            at=p.get("open_at"),
            has_capacity=p["has_capacity"],
            accepts_referrals=p["accepts_referrals"],
            language=p["language"],
        )
        serializer = out.ServiceAtLocationFullOut if p["full"] else out.ServiceAtLocationOut
        return self.page(request, qs, p, serializer)


class ServiceAtLocationDetailView(HsdsView):
    def get(self, request: Request, public_id: str) -> Response:
        sal = one(selectors.service_at_locations_list(full=True), public_id, "service at location")
        context = {"request": request, "now": timezone.now()}
        return Response(out.ServiceAtLocationFullOut(sal, context=context).data)


class OrganizationListView(HsdsView):
    def get(self, request: Request) -> Response:
        p = query(request, OrganizationParams)
        qs = selectors.organizations_list(
            text=p["search"], full=p["full"], full_service=p["full_service"]
        )
        if p["full_service"]:
            serializer = out.OrganizationFullServicesOut
        elif p["full"]:
            serializer = out.OrganizationFullOut
        else:
            serializer = out.OrganizationOut
        return self.page(request, qs, p, serializer)


class OrganizationDetailView(HsdsView):
    def get(self, request: Request, public_id: str) -> Response:
        p = query(request, OrganizationDetailParams)
        qs = selectors.organizations_list(full=True, full_service=p["full_service"])
        org = one(qs, public_id, "organization")
        serializer = (
            out.OrganizationFullServicesOut if p["full_service"] else out.OrganizationFullOut
        )
        return Response(serializer(org, context={"request": request}).data)


class TaxonomyListView(HsdsView):
    def get(self, request: Request) -> Response:
        p = query(request, ListParams)
        return self.page(request, selectors.taxonomies_list(text=p["search"]), p, out.TaxonomyOut)


class TaxonomyDetailView(HsdsView):
    def get(self, request: Request, public_id: str) -> Response:
        taxonomy = one(selectors.taxonomies_list(), public_id, "taxonomy")
        return Response(out.TaxonomyOut(taxonomy).data)


class TaxonomyTermListView(HsdsView):
    def get(self, request: Request) -> Response:
        p = query(request, TaxonomyTermParams)
        qs = selectors.taxonomy_terms_list(
            text=p["search"],
            taxonomy=p.get("taxonomy_id"),
            parent=p.get("parent_id"),
            top_only=p["top_only"],
        )
        return self.page(request, qs, p, out.TaxonomyTermOut)


class TaxonomyTermDetailView(HsdsView):
    def get(self, request: Request, public_id: str) -> Response:
        term = one(selectors.taxonomy_terms_list(), public_id, "taxonomy term")
        return Response(out.TaxonomyTermOut(term).data)
