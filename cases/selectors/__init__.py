"""Reads of the cases app, scoped to the acting user (shared/DOMAIN.md, "Who may see what").

The only ways to fetch residents, encounters and a unit's calls go through here, so that the
scope cannot be forgotten. `*_get_for_user` raises NotFound for anything out of scope, the
same answer as for something that does not exist.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import Exists, Func, OuterRef, Q, QuerySet, TextField, Value
from django.utils import timezone

from acs.audit import audit_record, audit_record_many
from acs.errors import NotFound
from acs.models import AuditAction, AuditEvent
from acs.roles import ACS_ROLES, STAFF_ROLES, Role, has_any_role
from cases.models import Call, Consent, Encounter, EncounterResident, Resident, UnitAssignment
from cases.nicknames import name_variants

if TYPE_CHECKING:
    from django.http import HttpRequest

    from cases.models import FollowUp
    from resources.models import Organization
    from responders.models import Unit, User

ACTIVE_ASSIGNMENTS = ("dispatched", "en_route", "on_scene", "transporting")


APOSTROPHES = str.maketrans("", "", "'\u2019\u2018\u02bc`")


def normalize_name(value: str) -> str:
    """Lower case, no accents, single spaces, any other mark a word break and apostrophes
    dropped: "Tío  Beto" and "tio beto", "García-López" and "garcia lopez", "O'Brien" and
    "obrien" search alike. Kept in `Resident.search_names` (services.refresh_search_names)."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.lower().translate(APOSTROPHES)
    return " ".join("".join(c if c.isalnum() else " " for c in plain).split())


def resident_queryset_for_user(user: User) -> QuerySet[Resident]:
    """Active (not merged away) residents the user may see.

    Case managers, supervisors and admins: all. Responders: the residents they or their units
    have met, and those their own searches showed them recently. Anyone else: none.
    """
    active = Resident.objects.filter(merged_into__isnull=True)
    if has_any_role(user, STAFF_ROLES):
        return active
    if not has_any_role(user, (Role.RESPONDER,)):
        return active.none()
    met = EncounterResident.objects.filter(resident=OuterRef("pk")).filter(
        Q(encounter__created_by=user) | Q(encounter__unit__members=user)
    )
    window = timezone.now() - settings.RESIDENT_SEARCH_ACCESS_WINDOW
    searched = AuditEvent.objects.filter(
        actor=user,
        action__in=[AuditAction.SEARCH, AuditAction.CREATE],
        target_type="cases.resident",
        target_id=OuterRef("public_id"),
        created_at__gte=window,
    )
    return active.filter(Q(Exists(met)) | Q(Exists(searched)))


def resident_get_for_user(
    user: User, public_id: uuid.UUID, *, request: HttpRequest | None = None
) -> Resident:
    """One resident record, audited as a view; NotFound when out of the user's scope."""
    resident = resident_queryset_for_user(user).filter(public_id=public_id).first()
    if resident is None:
        raise NotFound("No such resident.", code="resident_not_found")
    audit_record(actor=user, action=AuditAction.VIEW, target=resident, request=request)
    return resident


@dataclass(frozen=True)
class ResidentMatch:
    resident: Resident
    score: float


# Resident search by name: at most this many words of a query count, and at most this many
# candidates (found through the indexes) are ranked.
NAME_WORDS_MAX = 5
CANDIDATES_MAX = 200

# How a query word scores against a resident's best-matching name word, when better than
# their trigram word similarity: the same word; a nickname or other form of it
# (cases/nicknames.py); the same Double Metaphone code (fuzzystrmatch: "sunnie" and "sunny",
# "garsia" and "garcia").
SAME_WORD, NICKNAME, SOUNDS_ALIKE = 1.0, 0.9, 0.8

# A query word "is similar" to a name word from this trigram word similarity: a typo in a
# five-letter word leaves about half of its trigrams ("garsia" and "garcia": 0.57).
WORD_SIMILARITY = 0.4
SET_WORD_SIMILARITY = (
    # pg_trgm's default when the library is not loaded yet in this session.
    "SELECT coalesce(current_setting('pg_trgm.word_similarity_threshold', true), '0.6'), "
    "set_config('pg_trgm.word_similarity_threshold', %s, true)"
)

# One statement: candidates through the two GIN indexes (trigrams of `search_names`, and
# `search_keys`: the words with their phonetic codes, `cases_name_keys`), the best
# CANDIDATES_MAX of them by trigram word similarity, each then scored word by word.
RESIDENT_MATCH_SQL = """
WITH candidates AS (
    SELECT id FROM cases_resident
    WHERE merged_into_id IS NULL AND ({dob_filter}) AND ({name_filter})
    ORDER BY word_similarity(%(q)s, search_names) DESC, id
    LIMIT %(candidates_max)s
)
SELECT r.*, {dob_weight} * m.name_score + {dob_score} AS score
FROM candidates c
JOIN cases_resident r ON r.id = c.id
CROSS JOIN LATERAL (
    SELECT 0.9 * ({word_scores}) / %(words)s
           + 0.1 * word_similarity(%(q)s, r.search_names) AS name_score
) m
ORDER BY score DESC, r.id
LIMIT %(limit)s
"""
WORD_MATCH = (
    "(search_keys && (cases_name_keys(%(w{i})s) || %(nicks{i})s::text[])"
    " OR %(w{i})s <%% search_names)"
)
WORD_SCORE = """GREATEST(word_similarity(%(w{i})s, r.search_names), CASE
    WHEN r.search_keys && ARRAY[%(w{i})s] THEN {same}
    WHEN r.search_keys && %(nicks{i})s::text[] THEN {nickname}
    WHEN r.search_keys && cases_name_keys(%(w{i})s) THEN {alike} ELSE 0 END)"""
# With a date of birth: the same date, or the same year for an approximate one, or none
# recorded (ranked below those that match).
DOB_FILTER = (
    "date_of_birth = %(dob)s OR date_of_birth IS NULL OR (dob_quality = 'approximate' "
    "AND date_of_birth BETWEEN %(jan1)s AND %(dec31)s)"
)
DOB_SCORE = (
    "CASE WHEN r.date_of_birth = %(dob)s THEN 0.3 "
    "WHEN r.date_of_birth IS NOT NULL THEN 0.15 ELSE 0 END"
)


def name_keys(search_names: str) -> Func:
    """`Resident.search_keys` for these names, computed by the database when saved."""
    return Func(
        Value(search_names), function="cases_name_keys", output_field=ArrayField(TextField())
    )


def name_words(name: str) -> list[str]:
    """The distinct words of a name, normalized, at most NAME_WORDS_MAX."""
    return list(dict.fromkeys(normalize_name(name).split()))[:NAME_WORDS_MAX]


def _name_filter(count: int) -> str:
    """Every word of the query matches a name word of the resident (the same, a nickname,
    alike in sound, or similar in trigrams), in any order; with three words or more, all
    but one."""
    required = count if count < 3 else count - 1
    groups = []
    for skip in range(count) if required < count else [None]:
        words = [WORD_MATCH.format(i=i) for i in range(count) if i != skip]
        groups.append(" AND ".join(words))
    return " OR ".join(f"({g})" for g in groups)


def resident_candidates(
    *, name: str = "", date_of_birth: date | None = None, limit: int = 10
) -> list[ResidentMatch]:
    """Likely matches among all active residents, best first, on names and aliases: each
    word of the query matched to some word of theirs, in any order, as the same word, a
    nickname ("Bill", William), alike in sound ("Sunnie", Sunny) or with a typo (trigrams),
    accents and hyphens aside. A date of birth narrows to the same date (or year, when the
    recorded one is approximate) or none recorded, and ranks those with the date first.
    One statement, every filter behind an index. Not scoped and not audited: callers are
    `resident_search` and the duplicate check."""
    words = name_words(name)
    if not words:
        if date_of_birth is None:
            return []
        qs = Resident.objects.filter(merged_into__isnull=True).filter(
            Q(date_of_birth=date_of_birth)
            | Q(dob_quality=Resident.DobQuality.APPROXIMATE, date_of_birth__year=date_of_birth.year)
        )
        return [ResidentMatch(r, 1.0) for r in qs.order_by("id")[:limit]]
    params: dict[str, Any] = {
        "q": " ".join(words),
        "words": len(words),
        "limit": limit,
        "candidates_max": max(limit, CANDIDATES_MAX),
    }
    for i, word in enumerate(words):
        params[f"w{i}"] = word
        params[f"nicks{i}"] = sorted(name_variants(word))
    sql_parts = {
        "name_filter": _name_filter(len(words)),
        "word_scores": " + ".join(
            WORD_SCORE.format(i=i, same=SAME_WORD, nickname=NICKNAME, alike=SOUNDS_ALIKE)
            for i in range(len(words))
        ),
        "dob_filter": "TRUE",
        "dob_weight": "1",
        "dob_score": "0",
    }
    if date_of_birth is not None:
        sql_parts.update(dob_filter=DOB_FILTER, dob_weight="0.7", dob_score=DOB_SCORE)
        params.update(
            dob=date_of_birth,
            jan1=date(date_of_birth.year, 1, 1),
            dec31=date(date_of_birth.year, 12, 31),
        )
    sql = RESIDENT_MATCH_SQL.format(**sql_parts)
    with transaction.atomic(), connection.cursor() as cursor:
        # The word similarity `<%` asks of each word (pg_trgm's setting, through the index),
        # for this statement only: the setting outlives it to the end of the transaction.
        cursor.execute(SET_WORD_SIMILARITY, [str(WORD_SIMILARITY)])
        before = cursor.fetchone()[0]
        rows = list(Resident.objects.raw(sql, params))
        cursor.execute(SET_WORD_SIMILARITY, [before])
    return [ResidentMatch(r, float(r.score)) for r in rows]  # type: ignore[attr-defined]


def resident_search(
    user: User,
    *,
    name: str = "",
    date_of_birth: date | None = None,
    limit: int = 20,
    request: HttpRequest | None = None,
) -> list[ResidentMatch]:
    """Search for a resident before creating one. Each resident shown is audited as a search
    result (the query itself is not recorded: it is personal data), which also lets a
    responder open that record for a while."""
    if not has_any_role(user, ACS_ROLES):
        raise NotFound("No such resource.", code="not_found")
    matches = resident_candidates(name=name, date_of_birth=date_of_birth, limit=limit)
    audit_record_many(
        actor=user,
        action=AuditAction.SEARCH,
        targets=[m.resident for m in matches],
        request=request,
    )
    return matches


def calls_for_unit_user(user: User) -> QuerySet[Call]:
    """The calls the user's units are working now."""
    working = UnitAssignment.objects.filter(
        call=OuterRef("pk"), unit__members=user, status__in=ACTIVE_ASSIGNMENTS
    )
    return Call.objects.filter(Exists(working)).order_by("-received_at", "-id")


def call_of_unit(unit: Unit, public_id: uuid.UUID) -> Call | None:
    """A call the unit has been on, whatever its assignment's status now (a call it just
    cleared, to undo the clear). The caller has checked the unit is the user's."""
    return Call.objects.filter(public_id=public_id, assignments__unit=unit).first()


# An encounter may still be logged on a call its unit cleared this long ago: one written (or
# queued in a dead zone) on scene reaches the server after the unit has cleared (a shift).
ENCOUNTER_AFTER_CLEAR_HOURS = 12


def encounter_unit_and_call(
    user: User, *, call_sign: str, call_id: uuid.UUID | None
) -> tuple[Unit, Call | None]:
    """Where a new encounter belongs: one of the user's units, and a call that unit may log it
    on (or none, self-initiated). NotFound for anything else, the same for a unit or call that
    does not exist.

    The call is one the user's units are working now, or one this unit worked and cleared in
    the last ENCOUNTER_AFTER_CLEAR_HOURS (its own assignment, never another unit's): an
    encounter queued offline on scene is not lost because the unit cleared before it synced."""
    from responders.models import Unit

    unit = Unit.objects.filter(call_sign=call_sign.upper(), members=user).first()
    if unit is None:
        raise NotFound(
            "No such unit among yours.",
            code="unit_not_found",
            fields={"unit": ["No such unit among yours."]},
        )
    call = None
    if call_id is not None:
        call = calls_for_unit_user(user).filter(public_id=call_id).first()
        if call is None:
            since = timezone.now() - timedelta(hours=ENCOUNTER_AFTER_CLEAR_HOURS)
            call = Call.objects.filter(
                public_id=call_id,
                assignments__unit=unit,
                assignments__status="cleared",
                assignments__cleared_at__gte=since,
            ).first()
        if call is None:
            raise NotFound(
                "No such call among your unit's.",
                code="call_not_found",
                fields={"call": ["No such call among your unit's."]},
            )
    return unit, call


def encounter_queryset_for_user(user: User) -> QuerySet[Encounter]:
    if has_any_role(user, STAFF_ROLES):
        qs = Encounter.objects.all()
    elif has_any_role(user, (Role.RESPONDER,)):
        qs = Encounter.objects.filter(Q(created_by=user) | Q(unit__members=user)).distinct()
    else:
        qs = Encounter.objects.none()
    return qs.select_related("unit", "call", "created_by")


def encounter_get_for_user(user: User, public_id: uuid.UUID) -> Encounter:
    encounter = encounter_queryset_for_user(user).filter(public_id=public_id).first()
    if encounter is None:
        raise NotFound("No such encounter.", code="encounter_not_found")
    return encounter


def resident_read_audit(
    user: User,
    resident_id: int,
    *,
    request: HttpRequest | None = None,
    via: str,
    **record: Any,
) -> None:
    """Reading a record about a resident (a follow-up, a referral) is reading theirs: a `view`
    event on the resident, naming the record (`follow_up=<public id>`)."""
    resident = Resident.objects.only("public_id").get(pk=resident_id)
    audit_record(
        actor=user,
        action=AuditAction.VIEW,
        target=resident,
        request=request,
        reason=via,
        detail={key: str(value) for key, value in record.items()},
    )


def encounter_read_audit(
    user: User, encounter: Encounter, *, request: HttpRequest | None = None, via: str
) -> None:
    """Reading an encounter is reading the record of each person met: one `view` event per
    resident on it (so the audit view's resident filter finds it), naming the encounter; an
    encounter with nobody identified is itself the target. `via`: where it was read."""
    residents = list(Resident.objects.filter(encounter_links__encounter=encounter))
    detail = {"encounter": str(encounter.public_id)}
    if residents:
        audit_record_many(
            actor=user,
            action=AuditAction.VIEW,
            targets=residents,
            request=request,
            reason=via,
            detail=detail,
        )
    else:
        audit_record(
            actor=user, action=AuditAction.VIEW, target=encounter, request=request, reason=via
        )


def consent_active(
    resident: Resident,
    scope: str,
    *,
    organization: Organization | None = None,
    at: datetime | None = None,
) -> bool:
    """Whether the resident's consent for `scope` holds now (not revoked, not expired);
    for a named partner, the consent must name that partner."""
    qs = Consent.objects.holding(at).filter(resident=resident, scope=scope)
    if organization is not None:
        qs = qs.filter(organization=organization)
    return qs.exists()


def consents_active(
    resident_ids: Iterable[int], scopes: Iterable[str], *, at: datetime | None = None
) -> set[tuple[int, str]]:
    """`consent_active` (no partner named) for many residents and scopes in one query: the
    (resident id, scope) pairs whose consent holds now."""
    return set(
        Consent.objects.holding(at)
        .filter(resident_id__in=list(resident_ids), scope__in=list(scopes))
        .values_list("resident_id", "scope")
    )


def follow_up_queryset_for_user(user: User) -> QuerySet[FollowUp]:
    """Follow-ups the user may work: case managers, supervisors and admins see them all."""
    from cases.models import FollowUp

    if not has_any_role(user, STAFF_ROLES):
        return FollowUp.objects.none()
    return FollowUp.objects.select_related("resident", "assignee")
