"""Input and output shapes of the partner API (/api/v1/referrals, /api/v1/capacity)."""

from __future__ import annotations

from rest_framework import serializers

from acs.openapi import WHITESPACE
from acs.serializers import StrictCharField, StrictIntegerField, UTCDateTimeField
from resources.models import Referral, ReferralEvent, ReferralOutcome, ReferralStatus

FEED_PAGE_SIZE = 50
FEED_MAX_PAGE_SIZE = 200
# What a partner may filter on: every status but a draft (partners never see drafts).
FEED_STATUSES = [s for s in ReferralStatus.values if s != ReferralStatus.DRAFT]
# `status` as validate_status reads it: statuses separated by commas, blanks around them and
# empty items ignored, at least one status.
_ONE = "(?:" + "|".join(FEED_STATUSES) + ")"
_GAP = f"[{WHITESPACE},]*"
STATUS_FILTER_PATTERN = f"^{_GAP}{_ONE}(?:[{WHITESPACE}]*,{_GAP}{_ONE})*{_GAP}$"


class ReferralListInput(serializers.Serializer):
    status = StrictCharField(
        required=False,
        help_text="one status or several, comma-separated: " + ", ".join(FEED_STATUSES),
    )
    updated_since = serializers.DateTimeField(
        required=False,
        help_text="ISO 8601; referrals changed at or after this time (inclusive)",
    )
    # Read by the paginator (PartnerFeed); checked here so that garbage is a 400, not ignored.
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=f"referrals per page: {FEED_PAGE_SIZE} unless given, {FEED_MAX_PAGE_SIZE} "
        "at most",
    )

    def validate_status(self, value: str) -> list[str]:
        statuses = [s.strip() for s in value.split(",") if s.strip()]
        unknown = [s for s in statuses if s not in FEED_STATUSES]
        if unknown or not statuses:
            raise serializers.ValidationError(
                f"Unknown status: {', '.join(unknown) or value!r}. "
                f"One of: {', '.join(FEED_STATUSES)}."
            )
        return statuses


class _ServiceRef(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()


class ReferralSummaryOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    urgency = serializers.ChoiceField(choices=Referral.Urgency.choices)
    service = _ServiceRef()
    service_at_location_id = serializers.SerializerMethodField()
    outcome = serializers.CharField(allow_blank=True)
    sent_at = UTCDateTimeField()
    respond_by = UTCDateTimeField()
    responded_at = UTCDateTimeField(allow_null=True)
    closed_at = UTCDateTimeField(allow_null=True)
    updated_at = UTCDateTimeField()

    def get_service_at_location_id(self, referral: Referral) -> str | None:
        sal = referral.service_at_location
        return str(sal.public_id) if sal else None


class PartnerResidentOutput(serializers.Serializer):
    consent_basis = serializers.ChoiceField(
        source="basis",
        choices=["named_partner", "partners", "supervisor_override", "none"],
        help_text="why these fields are shared; `none`: nothing is (no or revoked consent)",
    )
    preferred_name = serializers.CharField(allow_null=True)
    language = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    where_to_find_me = serializers.CharField(allow_null=True)
    needs = serializers.ListField(child=serializers.CharField())
    part2_notice = serializers.CharField(
        allow_null=True,
        help_text="present when `needs` or the referral's `reason` holds substance-use "
        "information (42 CFR Part 2): the notice that prohibits redisclosure; keep it with "
        "the record",
    )


class ReferralEventOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    at = UTCDateTimeField(source="created_at")
    kind = serializers.SerializerMethodField()
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    by = serializers.SerializerMethodField(help_text="`partner` (you) or `acs`")

    def get_kind(self, event: ReferralEvent) -> str:
        return "note" if event.is_note else "status_change"

    def get_by(self, event: ReferralEvent) -> str:
        return "partner" if event.by_organization_id else "acs"


class ReferralDetailOutput(ReferralSummaryOutput):
    reason = serializers.CharField(
        source="partner_resident.reason",
        allow_blank=True,
        help_text="why this service; empty when `reason_withheld`",
    )
    reason_withheld = serializers.BooleanField(
        source="partner_resident.reason_withheld",
        help_text="true: ACS wrote a reason that holds substance-use information (42 CFR "
        "Part 2) and the resident has not consented in writing to share it",
    )
    resident = PartnerResidentOutput(source="partner_resident")
    history = ReferralEventOutput(many=True, source="partner_history")


class DeclineInput(serializers.Serializer):
    reason = StrictCharField(max_length=4000, trim_whitespace=True)


class NoteOnlyInput(serializers.Serializer):
    note = StrictCharField(max_length=4000, required=False, allow_blank=True, default="")


class CompleteInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=ReferralOutcome.choices)
    note = StrictCharField(max_length=4000, required=False, allow_blank=True, default="")


class NoteInput(serializers.Serializer):
    note = StrictCharField(max_length=4000, trim_whitespace=True)


class CapacityInput(serializers.Serializer):
    available = StrictIntegerField(min_value=0, max_value=100_000)
    total = StrictIntegerField(min_value=0, max_value=100_000)
    unit = StrictCharField(max_length=32, required=False, default="beds")
    note = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, data):
        if data["available"] > data["total"]:
            raise serializers.ValidationError({"available": ["Must not exceed total."]})
        return data


class CapacityOutput(serializers.Serializer):
    service_at_location_id = serializers.SerializerMethodField()
    available = serializers.IntegerField()
    total = serializers.IntegerField()
    unit = serializers.CharField()
    updated_at = UTCDateTimeField()

    def get_service_at_location_id(self, capacity) -> str:
        return str(capacity.service_at_location.public_id)
