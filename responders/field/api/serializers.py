"""Input and output shapes of the field API (responders, signed in): residents, encounters,
consents, follow-ups and units' moves. Those it shares with the CAD API (the call as rendered,
times with an offset, coordinates) are in cases/api/serializers.py. Input serializers validate
(the encounter's also hands what it validated to the service, for the API and the page alike);
output ones render."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from acs.serializers import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictUUIDField,
    UTCDateTimeField,
)
from cases import selectors, services
from cases.api.serializers import (
    UNIT_CALL_STATUSES,
    UNIT_SERVICE_STATUSES,
    AwareDateTimeField,
)
from cases.models import (
    ConsentMethod,
    ConsentScope,
    Disposition,
    DobQuality,
    Encounter,
    FollowUpKind,
    HousingStatus,
    Language,
    Need,
    RiskLevel,
    ServiceOnScene,
)


class ResidentInput(serializers.Serializer):
    preferred_name = StrictCharField(max_length=150, required=False, allow_blank=True)
    legal_name = StrictCharField(max_length=200, required=False, allow_blank=True)
    aliases = serializers.ListField(
        child=StrictCharField(max_length=150), required=False, max_length=20
    )
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    dob_quality = serializers.ChoiceField(choices=DobQuality.choices, required=False)
    gender = StrictCharField(max_length=40, required=False, allow_blank=True)
    race_ethnicity = serializers.ListField(
        child=StrictCharField(max_length=40), required=False, max_length=10
    )
    veteran_status = StrictCharField(max_length=16, required=False, allow_blank=True)
    preferred_language = serializers.ChoiceField(choices=Language.choices, required=False)
    phone = StrictCharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="any usual form ((505) 555-0100, +44 20 7946 0958, 505-555-0100 ext. 12); "
        "stored and returned as E.164, with `;ext=` and the extension's digits when there is "
        "one. A number that cannot exist is a 400 on `phone`.",
    )
    email = serializers.EmailField(required=False, allow_blank=True)
    where_to_find_me = StrictCharField(max_length=2000, required=False, allow_blank=True)
    housing_status = serializers.ChoiceField(choices=HousingStatus.choices, required=False)
    safety_flags = StrictCharField(max_length=2000, required=False, allow_blank=True)


class ResidentCreateInput(ResidentInput):
    confirm_new = StrictBooleanField(required=False, default=False)
    client_id = StrictUUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="the tablet's id for this person: a retry returns the record it made (200)",
    )


class ResidentSearchInput(serializers.Serializer):
    name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")
    date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if not attrs["name"].strip() and attrs["date_of_birth"] is None:
            raise serializers.ValidationError("Search by name, date of birth, or both.")
        return attrs


class ResidentSummaryOutput(serializers.Serializer):
    """What a search shows: enough to recognise a person, no more."""

    id = serializers.UUIDField(source="public_id")
    preferred_name = serializers.CharField()
    legal_name = serializers.CharField()
    aliases = serializers.ListField(child=serializers.CharField())
    date_of_birth = serializers.DateField(allow_null=True)
    dob_quality = serializers.CharField()


class ResidentMatchOutput(ResidentSummaryOutput):
    score = serializers.FloatField(help_text="how close the match is, 0 to 1")


class ResidentOutput(ResidentSummaryOutput):
    client_id = serializers.UUIDField(
        allow_null=True, help_text="the tablet's id for this person, when a tablet made it"
    )
    gender = serializers.CharField()
    race_ethnicity = serializers.ListField(child=serializers.CharField())
    veteran_status = serializers.CharField()
    preferred_language = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    where_to_find_me = serializers.CharField()
    housing_status = serializers.CharField()
    safety_flags = serializers.CharField()
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()


class EncounterInput(serializers.Serializer):
    occurred_at = AwareDateTimeField(required=False)
    anonymous_people = StrictIntegerField(min_value=0, max_value=50, required=False)
    needs = serializers.ListField(child=serializers.ChoiceField(Need.choices), required=False)
    services_on_scene = serializers.ListField(
        child=serializers.ChoiceField(ServiceOnScene.choices), required=False
    )
    narrative = StrictCharField(max_length=20000, required=False, allow_blank=True)
    narrative_part2 = StrictBooleanField(
        required=False,
        help_text="the narrative mentions substance use (42 CFR Part 2 information)",
    )
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    disposition = serializers.ChoiceField(choices=Disposition.choices, required=False)
    transport_destination = StrictCharField(max_length=255, required=False, allow_blank=True)
    police_requested = StrictBooleanField(required=False)
    ems_requested = StrictBooleanField(required=False)
    involuntary_hold = StrictBooleanField(
        required=False,
        help_text="an involuntary hold or emergency mental-health evaluation was initiated "
        "on scene (optional: omitted leaves it as it is, false on a new encounter)",
    )
    residents = serializers.ListField(child=StrictUUIDField(), required=False, max_length=20)
    living_situations = serializers.DictField(
        child=serializers.ChoiceField(choices=HousingStatus.choices),
        required=False,
        help_text="each person's living situation on this contact (HMIS's current living "
        "situation), by resident id; a key that names no one on the encounter is a 404",
    )


class EncounterCreateInput(EncounterInput):
    client_id = StrictUUIDField()
    unit = StrictCharField(max_length=32)
    call = StrictUUIDField(required=False, allow_null=True, default=None)

    def create_encounter(self, request: Any) -> tuple[Encounter, bool]:
        """The validated form as one encounter of the requesting responder (the API and the
        page without a script): its unit and call resolved for them, then encounter_create,
        once per client_id. DomainError as the service raises it."""
        values = dict(self.validated_data)
        unit, call = selectors.encounter_unit_and_call(
            request.user, call_sign=values.pop("unit"), call_id=values.pop("call")
        )
        return services.encounter_create(
            actor=request.user,
            client_id=values.pop("client_id"),
            unit=unit,
            call=call,
            resident_ids=values.pop("residents", []),
            data=values,
            request=request,
        )


class AddendumInput(serializers.Serializer):
    text = StrictCharField(max_length=20000)


class AddendumOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    text = serializers.CharField()
    author = serializers.CharField(source="author.username")
    created_at = UTCDateTimeField()
    approved_at = UTCDateTimeField(allow_null=True)


class EncounterReferralOutput(serializers.Serializer):
    """A referral made from the encounter, with its live status."""

    id = serializers.UUIDField(source="public_id")
    resident = serializers.UUIDField(source="resident.public_id")
    service = serializers.CharField(source="service.name")
    organization = serializers.CharField(source="organization.name")
    status = serializers.CharField()
    outcome = serializers.CharField()
    respond_by = UTCDateTimeField(allow_null=True)
    updated_at = UTCDateTimeField()


class UnitStatusInput(serializers.Serializer):
    """A unit's move from the field app: on a call (moves its assignment through the same
    life cycle as CAD's events), or in or out of service."""

    event_id = StrictUUIDField()
    status = serializers.ChoiceField(
        choices=[*UNIT_CALL_STATUSES, *UNIT_SERVICE_STATUSES, "dispatched"]
    )
    call = StrictUUIDField(required=False, allow_null=True, default=None)
    # When the responder tapped it: the tablet may send it much later, after a dead zone.
    at = AwareDateTimeField()
    # Undo: the event_id of the unit's mistaken move on `call`, taken back; `status` is then
    # the status the unit returns to (the one it had before), `event_id` the undo's own key.
    undoes = StrictUUIDField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        on_call = attrs["status"] in UNIT_CALL_STATUSES or (
            attrs.get("undoes") is not None and attrs["status"] == "dispatched"
        )
        if attrs["status"] == "dispatched" and attrs.get("undoes") is None:
            raise serializers.ValidationError(
                {"status": ["Dispatch is CAD's: only an undo returns to it."]}
            )
        if attrs.get("undoes") is not None and attrs["call"] is None:
            raise serializers.ValidationError({"undoes": ["Only a move on a call can be undone."]})
        if on_call and attrs["call"] is None:
            raise serializers.ValidationError({"call": [f"{attrs['status']} needs the call."]})
        if not on_call and attrs["call"] is not None:
            raise serializers.ValidationError({"call": ["Only call statuses name a call."]})
        return attrs


class UnitServiceStatusOutput(serializers.Serializer):
    """A unit's move between calls: in or out of service."""

    unit = serializers.CharField(source="call_sign")
    status = serializers.CharField()


class ConsentInput(serializers.Serializer):
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    method = serializers.ChoiceField(choices=ConsentMethod.choices)
    organization = serializers.UUIDField(required=False, allow_null=True, default=None)
    encounter = serializers.UUIDField(required=False, allow_null=True, default=None)
    expires_at = AwareDateTimeField(required=False, allow_null=True, default=None)
    client_id = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="the tablet's id for this consent: a retry returns the consent it recorded "
        "(200); another user's is refused (409 client_id_reused)",
    )


class ConsentOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    scope = serializers.CharField()
    method = serializers.CharField()
    organization = serializers.UUIDField(
        source="organization.public_id", default=None, allow_null=True
    )
    # The encounter it was captured in: the field app's sync skips a consent already recorded.
    encounter = serializers.UUIDField(source="encounter.public_id", default=None, allow_null=True)
    recorded_by = serializers.CharField(source="recorded_by.username")
    created_at = UTCDateTimeField()
    expires_at = UTCDateTimeField(allow_null=True)
    revoked_at = UTCDateTimeField(allow_null=True)


class FollowUpRequestInput(serializers.Serializer):
    resident = StrictUUIDField(help_text="one of the encounter's people")
    kind = serializers.ChoiceField(choices=FollowUpKind.choices)
    due_at = AwareDateTimeField()


class FollowUpOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    resident = serializers.UUIDField(source="resident.public_id")
    encounter = serializers.UUIDField(source="encounter.public_id", allow_null=True, default=None)
    kind = serializers.CharField()
    status = serializers.CharField()
    due_at = UTCDateTimeField()


class EncounterConsentOutput(ConsentOutput):
    resident = serializers.UUIDField(source="resident.public_id")


class EncounterOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    client_id = serializers.UUIDField()
    status = serializers.CharField()
    unit = serializers.CharField(source="unit.call_sign")
    call = serializers.UUIDField(source="call.public_id", allow_null=True, default=None)
    occurred_at = UTCDateTimeField()
    anonymous_people = serializers.IntegerField()
    needs = serializers.ListField(child=serializers.CharField())
    services_on_scene = serializers.ListField(child=serializers.CharField())
    narrative = serializers.CharField()
    narrative_part2 = serializers.BooleanField()
    risk_level = serializers.CharField()
    disposition = serializers.CharField()
    transport_destination = serializers.CharField()
    police_requested = serializers.BooleanField()
    ems_requested = serializers.BooleanField()
    involuntary_hold = serializers.BooleanField()
    submitted_at = UTCDateTimeField(allow_null=True)
    locks_at = UTCDateTimeField(allow_null=True)
    residents = serializers.SerializerMethodField()
    addenda = AddendumOutput(many=True)
    referrals = EncounterReferralOutput(many=True)
    # Everything recorded on it, so that a draft opens on any tablet as it was left.
    people = serializers.SerializerMethodField(help_text="the residents met, to recognise them")
    consents = EncounterConsentOutput(many=True, help_text="consents captured on it")
    follow_ups = FollowUpOutput(many=True, help_text="follow-ups asked for on it")

    living_situations = serializers.SerializerMethodField()

    @extend_schema_field(ResidentSummaryOutput(many=True))
    def get_people(self, encounter) -> list[dict]:
        return ResidentSummaryOutput([p.resident for p in encounter.people.all()], many=True).data

    def get_residents(self, encounter) -> list[str]:
        return [str(p.resident.public_id) for p in encounter.people.all()]

    def get_living_situations(self, encounter) -> dict[str, str]:
        return {
            str(p.resident.public_id): p.living_situation
            for p in encounter.people.all()
            if p.living_situation
        }
