"""Reads of the responders' field app, scoped to the signed-in responder.

They build on the cases and resources selectors (which own the access rules) and add what a
tablet screen needs in a fixed number of queries: a unit's calls with their assignments, what
responders should know before they walk up to a place, a resident's history as far as the
responder may see it, and the directory snapshot the app keeps for dead zones.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from acs.audit import audit_record_many
from acs.errors import NotFound
from acs.models import AuditAction
from cases import selectors as case_selectors
from cases.models import (
    Addendum,
    Call,
    Consent,
    Encounter,
    EncounterResident,
    Resident,
    UnitAssignment,
)
from responders.models import Unit

# What the call screen lists of earlier contacts at the same place.
PLACE_HISTORY_LIMIT = 10


def field_units(user) -> QuerySet[Unit]:
    """The units (call signs) the user staffs, with their teams (the encounter form marks the
    forms bound to the unit's team)."""
    return Unit.objects.filter(members=user).select_related("team").order_by("call_sign")


def field_calls(user) -> QuerySet[Call]:
    """The calls the user's units are working now, newest first, with the assignments."""
    return case_selectors.calls_for_unit_user(user).prefetch_related(
        Prefetch(
            "assignments",
            queryset=UnitAssignment.objects.select_related("unit").order_by("id"),
        )
    )


def field_call_get(user, public_id: uuid.UUID) -> Call:
    call = field_calls(user).filter(public_id=public_id).first()
    if call is None:
        raise NotFound("No such call among your unit's.", code="call_not_found")
    return call


def field_call_cleared(user, public_id: uuid.UUID) -> bool:
    """Whether one of the user's units was on this call and is no longer working it."""
    return (
        UnitAssignment.objects.filter(call__public_id=public_id, unit__members=user)
        .exclude(status__in=case_selectors.ACTIVE_ASSIGNMENTS)
        .exists()
    )


@dataclass(frozen=True)
class PlaceNote:
    """Something a responder should know before walking up: a safety flag recorded on a
    person met at this address before, how many contacts there it came up on and the last
    one. The person is not named (their recorded names are blanked out of the flag too): the
    responder may not have met them, and the flag is what matters at the door."""

    text: str
    contacts: int
    last_at: datetime
    incident_number: str  # of the last contact


@dataclass(frozen=True)
class PlaceHistory:
    """What is known at a call's address from earlier calls: counts, dates and safety flags;
    never names or narratives."""

    earlier_calls: int
    last_call_at: datetime | None
    encounters: int
    notes: list[PlaceNote]


def normalized_address(address: str) -> str:
    """The address as the lookup compares it: spaces collapsed (case is the index's:
    UPPER(address), cases_call_address_upper_idx)."""
    return " ".join(address.split())


def _without_names(text: str, resident: Resident) -> str:
    names = [resident.preferred_name, resident.legal_name, *(resident.aliases or [])]
    words = {w for name in names for w in name.split() if len(w) > 1}
    for word in sorted(words, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", "…", text, flags=re.IGNORECASE)
    return text


def call_place_history(
    user, call: Call, *, request=None, limit: int = PLACE_HISTORY_LIMIT
) -> PlaceHistory:
    """What is known at the address of `call` (a call of the user's unit: the caller fetched
    it with field_call_get) from earlier calls there: two queries, the address index behind
    both. Reading the flags reads the residents' records: one audited `view` per resident."""
    address = normalized_address(call.address)
    if not address:
        return PlaceHistory(0, None, 0, [])
    earlier = Call.objects.filter(address__iexact=address, received_at__lt=call.received_at)
    counts = earlier.aggregate(
        calls=Count("id", distinct=True),
        last=Max("received_at"),
        encounters=Count("encounters", distinct=True),
    )
    links = list(
        EncounterResident.objects.filter(
            encounter__call__address__iexact=address,
            encounter__call__received_at__lt=call.received_at,
        )
        .exclude(resident__safety_flags="")
        .select_related("encounter__call", "resident")
        .order_by("-encounter__occurred_at")[: limit * 5]
    )
    by_resident: dict[int, list[EncounterResident]] = {}
    for link in links:
        by_resident.setdefault(link.resident_id, []).append(link)
    notes = [
        PlaceNote(
            text=_without_names(seen[0].resident.safety_flags, seen[0].resident),
            contacts=len({link.encounter_id for link in seen}),
            last_at=seen[0].encounter.occurred_at,
            incident_number=seen[0].encounter.call.incident_number,
        )
        for seen in by_resident.values()
    ][:limit]
    if by_resident:
        audit_record_many(
            actor=user,
            action=AuditAction.VIEW,
            targets=[seen[0].resident for seen in list(by_resident.values())[:limit]],
            request=request,
            reason="field_place_history",
            detail={"call": str(call.public_id)},
        )
    return PlaceHistory(counts["calls"], counts["last"], counts["encounters"], notes)


@dataclass(frozen=True)
class FieldResidentProfile:
    resident: Resident
    encounters: list
    consents: list
    referrals: list


def field_resident_profile(user, public_id: uuid.UUID, *, request=None) -> FieldResidentProfile:
    """A resident as the field app shows them: the record (the read is audited by the cases
    selector), their encounters the user may see, consents with state, referrals with live
    status. NotFound when the resident is out of the user's scope."""
    from resources.models import Referral

    resident = case_selectors.resident_get_for_user(user, public_id, request=request)
    encounters = list(
        case_selectors.encounter_queryset_for_user(user)
        .filter(people__resident=resident)
        .order_by("-occurred_at", "-id")[:50]
    )
    consents = list(
        Consent.objects.filter(resident=resident)
        .select_related("organization")
        .order_by("-created_at", "-id")
    )
    referrals = list(
        Referral.objects.filter(resident=resident)
        .select_related("service", "organization")
        .order_by("-created_at", "-id")[:50]
    )
    return FieldResidentProfile(resident, encounters, consents, referrals)


# How far back "My encounters" looks, and how many it lists.
RECENT_ENCOUNTER_DAYS = 14
RECENT_ENCOUNTER_LIMIT = 50


def field_recent_encounters(user) -> list[Encounter]:
    """The user's own encounters and their units' of the last RECENT_ENCOUNTER_DAYS, newest
    first, with how many people and addenda each has: two queries whatever the number (the
    author and unit indexes on occurred_at serve the filter). No names: a list, not records."""
    since = timezone.now() - timedelta(days=RECENT_ENCOUNTER_DAYS)
    mine = Q(created_by=user) | Q(unit__in=Unit.objects.filter(members=user).values("pk"))
    return list(
        case_selectors.encounter_queryset_for_user(user)
        .filter(mine, occurred_at__gte=since)
        .annotate(
            people_count=Count("people", distinct=True),
            addenda_count=Count("addenda", distinct=True),
        )
        .order_by("-occurred_at", "-id")[:RECENT_ENCOUNTER_LIMIT]
    )


# How many unfinished encounters the home page lists.
SERVER_DRAFT_LIMIT = 20


def field_server_drafts(user) -> list[Encounter]:
    """Encounters of the user or their units still drafts on the server (begun on another
    tablet, or sent in part before a refusal) of the last RECENT_ENCOUNTER_DAYS, newest first:
    one query. No names: the form opens them through the audited API."""
    since = timezone.now() - timedelta(days=RECENT_ENCOUNTER_DAYS)
    mine = Q(created_by=user) | Q(unit__in=Unit.objects.filter(members=user).values("pk"))
    return list(
        case_selectors.encounter_queryset_for_user(user)
        .filter(mine, status=Encounter.Status.DRAFT, occurred_at__gte=since)
        .order_by("-occurred_at", "-id")[:SERVER_DRAFT_LIMIT]
    )


@dataclass(frozen=True)
class FieldEncounter:
    encounter: Encounter
    people: list[EncounterResident]  # with their resident and living situation
    addenda: list[Addendum]
    consents: list = ()  # (consent, active now), recorded on this encounter
    referrals: list = ()  # with their live status
    follow_ups: list = ()


def field_encounter(user, public_id: uuid.UUID, *, request=None) -> FieldEncounter:
    """One encounter as the field app shows it, everything recorded on it (people, consents,
    referrals with their live status, follow-ups, notes), its read audited on each person
    met; NotFound when out of the user's scope (another unit's). Six queries, whatever the
    numbers (each on its encounter foreign-key index)."""
    from cases.models import FollowUp
    from resources.models import Referral

    encounter = case_selectors.encounter_get_for_user(user, public_id)
    case_selectors.encounter_read_audit(user, encounter, request=request, via="field")
    people = list(
        EncounterResident.objects.filter(encounter=encounter)
        .select_related("resident")
        .order_by("resident__preferred_name", "id")
    )
    addenda = list(
        Addendum.objects.filter(encounter=encounter).select_related("author").order_by("created_at")
    )
    consents = [
        (c, c.holds())
        for c in Consent.objects.filter(encounter=encounter)
        .select_related("resident", "organization")
        .order_by("created_at", "id")
    ]
    referrals = list(
        Referral.objects.filter(encounter=encounter)
        .select_related("resident", "service", "organization")
        .order_by("created_at", "id")
    )
    follow_ups = list(
        FollowUp.objects.filter(encounter=encounter)
        .select_related("resident")
        .order_by("due_at", "id")
    )
    return FieldEncounter(encounter, people, addenda, consents, referrals, follow_ups)
