"""The partner API: referrals sent to the partner's organization, and its capacity.

Machine clients authenticate with a partner token (`manage.py issue_token partner ...`);
every query goes through the partner selectors, so another organization's referral is a 404
whatever the id. Writes take an `Idempotency-Key` (a replay renders the record again, as the
caller may see it now: resources/partners/api/idempotency.py). Requests are throttled per token.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from acs.api import CURSOR_PARAMETER, cursor_page
from acs.errors import Forbidden, NotFound
from acs.parsers import BoundedJSONParser
from acs.permissions import role_required
from acs.roles import Role
from acs.serializers import ErrorOutput
from resources import selectors, services
from resources.models import Capacity, Referral, ReferralEvent, ServiceAtLocation
from resources.partners.api.idempotency import HEADER, KEY_PATTERN, idempotent
from resources.partners.api.serializers import (
    FEED_MAX_PAGE_SIZE,
    FEED_PAGE_SIZE,
    FEED_STATUSES,
    STATUS_FILTER_PATTERN,
    CapacityInput,
    CapacityOutput,
    CompleteInput,
    DeclineInput,
    NoteInput,
    NoteOnlyInput,
    ReferralDetailOutput,
    ReferralEventOutput,
    ReferralListInput,
    ReferralSummaryOutput,
)

ERRORS = {
    400: OpenApiResponse(ErrorOutput, description="invalid input (`fields` says which)"),
    401: OpenApiResponse(ErrorOutput, description="no, an invalid, expired or revoked token"),
    403: OpenApiResponse(ErrorOutput, description="not a partner organization's token"),
    404: OpenApiResponse(ErrorOutput, description="no such referral among yours"),
    429: OpenApiResponse(ErrorOutput, description="too many requests: wait Retry-After seconds"),
}
WRITE_ERRORS = {
    **ERRORS,
    409: OpenApiResponse(
        ErrorOutput,
        description="the life cycle does not allow this move; `fields.status` is the current state",
    ),
    422: OpenApiResponse(
        ErrorOutput, description="the Idempotency-Key was used for another request"
    ),
}
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    pattern=KEY_PATTERN,
    description=(
        "a unique key of 1 to 255 visible ASCII characters (a UUID): a retry with the same key "
        "within 24 hours (IDEMPOTENCY_TTL) answers as the first request did (same status, same "
        "record, shown as you may see it now) instead of writing again; after that the key is new"
    ),
)


class PartnerRateThrottle(SimpleRateThrottle):
    """PARTNER_API_RATE requests per token (per partner user when signed in)."""

    scope = "partner"

    def get_rate(self) -> str:
        return settings.PARTNER_API_RATE

    def get_cache_key(self, request, view) -> str | None:
        token = getattr(request, "auth", None)
        ident = f"token:{token.pk}" if getattr(token, "pk", None) else f"user:{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class HasOrganization(role_required(Role.PARTNER_USER)):
    message = "This token or account is not tied to a partner organization."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and bool(request.user.organization_id)


class PartnerView(APIView):
    permission_classes = [HasOrganization]
    throttle_classes = [PartnerRateThrottle]
    parser_classes = [BoundedJSONParser]


class PartnerFeed(CursorPagination):
    """Oldest change first, so a poller that remembers the last `updated_at` misses nothing."""

    ordering = ("updated_at", "id")
    page_size = FEED_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = FEED_MAX_PAGE_SIZE

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "format": "uri", "nullable": True},
            },
        }


def render_referral(referral: Referral, *, user, request) -> dict:
    """The detail: with the resident as the consent allows (a disclosure, audited) and the
    thread."""
    referral.partner_resident = selectors.referral_resident_for_partner(
        referral, user=user, request=request
    )
    referral.partner_history = list(
        ReferralEvent.objects.filter(referral=referral).order_by("created_at", "id")
    )
    return ReferralDetailOutput(referral).data


def _replay_referral(view, request, result_id, *args, **kwargs) -> dict:
    """A replayed action: the referral as the caller may see it now (access, consent, audit)."""
    referral = selectors.referral_get_for_partner(request.user, result_id)
    return render_referral(referral, user=request.user, request=request)


def _replay_note(view, request, result_id, *args, **kwargs) -> dict:
    return ReferralEventOutput(
        selectors.referral_event_get_for_partner(request.user, result_id)
    ).data


def _replay_capacity(view, request, result_id, *args, **kwargs) -> dict:
    sal = _own_service_at_location(request.user, str(result_id))
    capacity = Capacity.objects.get(service_at_location=sal)
    capacity.service_at_location = sal
    return CapacityOutput(capacity).data


class ReferralListView(PartnerView):
    @extend_schema(
        parameters=[
            ReferralListInput,
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                pattern=STATUS_FILTER_PATTERN,
                description="one status or several, comma-separated: " + ", ".join(FEED_STATUSES),
            ),
            CURSOR_PARAMETER,
        ],
        responses={
            200: cursor_page(ReferralSummaryOutput, name="ReferralPage", previous=False),
            **ERRORS,
        },
        operation_id="v1_referrals_list",
        summary="Referrals sent to your organization, oldest change first (poll this)",
        description=(
            "Filter with `status` and `updated_since` and follow `next`. Changes of the last "
            "couple of seconds (REFERRAL_FEED_SETTLE) are held back until every transaction "
            "that could precede them has committed, so polling with the last `updated_at` "
            "you saw (inclusive) misses nothing; ignore the repeats by id."
        ),
    )
    def get(self, request: Request) -> Response:
        # A plain dict: from a QueryDict, DRF reads `?status=` as no filter at all.
        params = ReferralListInput(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        values = params.validated_data
        referrals = selectors.referral_queryset_for_partner(request.user).filter(
            updated_at__lte=timezone.now() - settings.REFERRAL_FEED_SETTLE
        )
        if "status" in values:
            referrals = referrals.filter(status__in=values["status"])
        if "updated_since" in values:
            referrals = referrals.filter(updated_at__gte=values["updated_since"])
        paginator = PartnerFeed()
        page = paginator.paginate_queryset(referrals, request, view=self)
        return paginator.get_paginated_response(ReferralSummaryOutput(page, many=True).data)


class ReferralDetailView(PartnerView):
    @extend_schema(
        responses={200: ReferralDetailOutput, **ERRORS},
        summary="One referral: service, urgency, reason, thread, and the consented resident fields",
    )
    def get(self, request: Request, public_id: str) -> Response:
        referral = selectors.referral_get_for_partner(request.user, public_id)
        return Response(render_referral(referral, user=request.user, request=request))


class _ActionView(PartnerView):
    input_class = NoteOnlyInput

    def act(self, referral: Referral, values: dict) -> Referral:
        raise NotImplementedError

    @idempotent(result_id=lambda data: data["id"], replay=_replay_referral)
    def post(self, request: Request, public_id: str) -> Response:
        referral = selectors.referral_get_for_partner(request.user, public_id)
        has_body = request.META.get("CONTENT_LENGTH") not in (None, "", "0")
        data = self.input_class(data=request.data if has_body else {})
        data.is_valid(raise_exception=True)
        referral = self.act(referral, data.validated_data)
        return Response(render_referral(referral, user=request.user, request=request))


def _action_schema(summary: str, request_class):
    return extend_schema(
        request=request_class,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: ReferralDetailOutput, **WRITE_ERRORS},
        summary=summary,
    )


class ReferralAcceptView(_ActionView):
    def act(self, referral, values):
        return services.referral_accept(actor=self.request.user, referral=referral, **values)

    @_action_schema("Accept a sent referral (optional `note`)", NoteOnlyInput)
    def post(self, request, public_id):
        return super().post(request, public_id)


class ReferralDeclineView(_ActionView):
    input_class = DeclineInput

    def act(self, referral, values):
        return services.referral_decline(
            actor=self.request.user, referral=referral, reason=values["reason"]
        )

    @_action_schema("Decline a sent referral (`reason` required)", DeclineInput)
    def post(self, request, public_id):
        return super().post(request, public_id)


class ReferralStartView(_ActionView):
    def act(self, referral, values):
        return services.referral_start(actor=self.request.user, referral=referral, **values)

    @_action_schema("The resident is being served (accepted -> in_progress)", NoteOnlyInput)
    def post(self, request, public_id):
        return super().post(request, public_id)


class ReferralCompleteView(_ActionView):
    input_class = CompleteInput

    def act(self, referral, values):
        return services.referral_complete(actor=self.request.user, referral=referral, **values)

    @_action_schema(
        "Close the loop with an outcome: enrolled and service_received end as completed, "
        "the others as not_completed",
        CompleteInput,
    )
    def post(self, request, public_id):
        return super().post(request, public_id)


class ReferralNotesView(PartnerView):
    @extend_schema(
        request=NoteInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={201: ReferralEventOutput, **WRITE_ERRORS},
        summary="A message to ACS on the referral's thread",
    )
    @idempotent(result_id=lambda data: data["id"], replay=_replay_note)
    def post(self, request: Request, public_id: str) -> Response:
        referral = selectors.referral_get_for_partner(request.user, public_id)
        data = NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.referral_note_add(
            actor=request.user, referral=referral, note=data.validated_data["note"]
        )
        return Response(ReferralEventOutput(event).data, status=status.HTTP_201_CREATED)


class CapacityView(PartnerView):
    @extend_schema(
        request=CapacityInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={200: CapacityOutput, **WRITE_ERRORS},
        summary="Set the live capacity of one of your services at a location",
    )
    @idempotent(result_id=lambda data: data["service_at_location_id"], replay=_replay_capacity)
    def put(self, request: Request, service_at_location_id: str) -> Response:
        sal = _own_service_at_location(request.user, service_at_location_id)
        data = CapacityInput(data=request.data)
        data.is_valid(raise_exception=True)
        capacity = services.capacity_update(
            service_at_location=sal, by=request.user, **data.validated_data
        )
        capacity.service_at_location = sal
        return Response(CapacityOutput(capacity).data)


def _own_service_at_location(user, service_at_location_id: str) -> ServiceAtLocation:
    organization = selectors.partner_organization(user)
    if organization is None:
        raise Forbidden("This token is not tied to a partner organization.")
    sal = (
        ServiceAtLocation.objects.select_related("service")
        .filter(service__organization=organization)
        .filter(public_id=_uuid_or_404(service_at_location_id))
        .first()
    )
    if sal is None:
        raise NotFound(
            "No such service at a location of your organization.",
            code="service_at_location_not_found",
        )
    return sal


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise NotFound("No such service at a location.", code="not_found") from exc
