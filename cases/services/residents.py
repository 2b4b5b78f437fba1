"""Writes on residents: create (search first), update, merge and undo a merge."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Field
from django.utils import timezone

from acs.audit import audit_record, audit_record_many
from acs.client_ids import create_once, created_before
from acs.errors import Conflict, DomainError, Forbidden
from acs.models import AuditAction
from acs.phones import phone_canonical
from acs.roles import ACS_ROLES, STAFF_ROLES, has_any_role
from cases.models import EncounterResident, Resident, ResidentMerge
from cases.selectors import name_keys, normalize_name, resident_candidates

if TYPE_CHECKING:
    from django.http import HttpRequest

    from acs.roles import Role
    from responders.models import User

RESIDENT_FIELDS = (
    "preferred_name",
    "legal_name",
    "aliases",
    "date_of_birth",
    "dob_quality",
    "gender",
    "race_ethnicity",
    "veteran_status",
    "preferred_language",
    "phone",
    "email",
    "where_to_find_me",
    "housing_status",
    "safety_flags",
)


class PossibleDuplicates(Conflict):
    """Creating would likely make a twin; `candidates` are the residents it may be."""

    code = "possible_duplicates"

    def __init__(self, candidates: list[Resident]):
        super().__init__(
            "This person may already be recorded. Pick one of the candidates, or create "
            "anyway with confirm_new.",
        )
        self.candidates = candidates


def _canonical_phone(values: dict[str, Any]) -> dict[str, Any]:
    """A typed number in the one stored form (acs/phones.py: E.164, `;ext=` for an
    extension), so texts, opt-outs and replies compare like with like; one that cannot exist
    is refused on the `phone` field."""
    if "phone" not in values:
        return values
    try:
        return {**values, "phone": phone_canonical(values["phone"])}
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code="invalid", fields={"phone": exc.messages}) from exc


def _require(actor: User, roles: Iterable[Role], action: str) -> None:
    if not has_any_role(actor, roles):
        raise Forbidden(f"Your role may not {action}.")


def _names(resident: Resident) -> list[str]:
    return [n for n in [resident.preferred_name, resident.legal_name, *resident.aliases] if n]


def refresh_search_names(resident: Resident) -> None:
    """The names as searched (selectors.resident_candidates): normalized, and their words with
    their sounds, computed by the database on save (one SQL function, used by searches too)."""
    resident.search_names = " | ".join(normalize_name(n) for n in _names(resident))
    resident.search_keys = name_keys(resident.search_names)


def resident_possible_duplicates(
    *, actor: User, data: dict[str, Any], request: HttpRequest | None = None
) -> list[Resident]:
    """The residents a new record with `data` would likely duplicate: a similar preferred or
    legal name (pg_trgm's word similarity above the threshold resident_candidates applies
    through the trigram index), and the same date of birth when one is given. Shown to the
    actor, so audited like search results (and reachable after). The one check behind the
    field app's and the admin's "this person may already be recorded"."""
    candidates = []
    for name in [data.get("preferred_name", ""), data.get("legal_name", "")]:
        if name:
            candidates += [
                m.resident
                for m in resident_candidates(
                    name=name, date_of_birth=data.get("date_of_birth"), limit=5
                )
            ]
    unique = list({r.pk: r for r in candidates}.values())
    if unique:
        audit_record_many(actor=actor, action=AuditAction.SEARCH, targets=unique, request=request)
    return unique


def resident_create(
    *,
    actor: User,
    data: dict[str, Any],
    confirm_new: bool = False,
    request: HttpRequest | None = None,
    public_id: uuid.UUID | None = None,
    client_id: uuid.UUID | None = None,
) -> Resident:
    """Search before create: unless `confirm_new`, refuse with the likely duplicates
    (similar name, and the same date of birth when one is given).

    `client_id` is the tablet's UUID for the person: a retry whose first answer was lost, or
    that races its first attempt, returns the record it made (acs.client_ids; `replayed`
    tells which), before the duplicate check, which that record would trip."""
    _require(actor, ACS_ROLES, "create residents")
    existing = created_before(Resident, client_id=client_id, actor=actor)
    if existing is not None:
        return existing
    values = _canonical_phone({k: v for k, v in data.items() if k in RESIDENT_FIELDS})
    if not confirm_new:
        unique = resident_possible_duplicates(actor=actor, data=values, request=request)
        if unique:
            # The first attempt may have committed since the check above: it is not a twin.
            existing = created_before(Resident, client_id=client_id, actor=actor)
            if existing is not None:
                return existing
            raise PossibleDuplicates(unique)

    def create() -> Resident:
        resident = Resident(created_by=actor, client_id=client_id, **values)
        if public_id is not None:  # imports and demo data keep their own stable ids
            resident.public_id = public_id
        refresh_search_names(resident)
        resident.save()
        audit_record(actor=actor, action=AuditAction.CREATE, target=resident, request=request)
        return resident

    return create_once(Resident, client_id=client_id, actor=actor, create=create)


def resident_update(
    *,
    actor: User,
    resident: Resident,
    changes: dict[str, Any],
    request: HttpRequest | None = None,
) -> Resident:
    """Change a resident the actor can see (callers fetch it through the selector)."""
    _require(actor, ACS_ROLES, "change residents")
    changes = _canonical_phone(changes)
    with transaction.atomic():
        resident = Resident.objects.select_for_update().get(pk=resident.pk)
        if resident.merged_into_id:
            raise Conflict("This record was merged into another.", code="resident_merged")
        changed = [
            k for k, v in changes.items() if k in RESIDENT_FIELDS and getattr(resident, k) != v
        ]
        for name in changed:
            setattr(resident, name, changes[name])
        if changed:
            refresh_search_names(resident)
            resident.save()
            audit_record(
                actor=actor,
                action=AuditAction.CHANGE,
                target=resident,
                request=request,
                detail={"fields": sorted(changed)},
            )
    return resident


def _lock_pair(a: Resident, b: Resident) -> tuple[Resident, Resident]:
    """Lock two residents in id order, so two merges of the same pair cannot deadlock."""
    rows = {
        r.pk: r
        for r in Resident.objects.select_for_update().filter(pk__in=[a.pk, b.pk]).order_by("pk")
    }
    return rows[a.pk], rows[b.pk]


def _move_work(duplicate: Resident, survivor: Resident) -> tuple[list[int], list[int]]:
    """Referrals and follow-ups follow the person. A follow-up of an encounter the survivor
    already has one for stays (one per resident and encounter)."""
    from cases.models import FollowUp
    from resources.models import Referral

    now = timezone.now()
    referrals = list(Referral.objects.filter(resident=duplicate).values_list("pk", flat=True))
    Referral.objects.filter(pk__in=referrals, original_resident__isnull=True).update(
        original_resident=duplicate
    )
    Referral.objects.filter(pk__in=referrals).update(resident=survivor, updated_at=now)
    taken = FollowUp.objects.filter(resident=survivor, encounter__isnull=False).values(
        "encounter_id"
    )
    follow_ups = list(
        FollowUp.objects.filter(resident=duplicate)
        .exclude(encounter_id__in=taken)
        .values_list("pk", flat=True)
    )
    FollowUp.objects.filter(pk__in=follow_ups).update(resident=survivor, updated_at=now)
    return referrals, follow_ups


def _move_work_back(merge: ResidentMerge, survivor: Resident, duplicate: Resident) -> None:
    from cases.models import FollowUp
    from resources.models import Referral

    now = timezone.now()
    back = Referral.objects.filter(pk__in=merge.moved_referrals, resident=survivor)
    back.filter(original_resident=duplicate).update(original_resident=None)
    back.update(resident=duplicate, updated_at=now)
    FollowUp.objects.filter(pk__in=merge.moved_follow_ups, resident=survivor).update(
        resident=duplicate, updated_at=now
    )


# The fields a merge may take from either record (the merge screen's radio buttons). Names
# the survivor loses this way are kept as aliases like the duplicate's.
MERGE_VALUE_FIELDS = (
    "preferred_name",
    "legal_name",
    "date_of_birth",
    "dob_quality",
    "gender",
    "veteran_status",
    "preferred_language",
    "phone",
    "email",
    "where_to_find_me",
    "housing_status",
    "safety_flags",
)


def _as_json(resident: Resident, name: str) -> Any:
    value = getattr(resident, name)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _from_json(name: str, value: Any) -> Any:
    # cast: only the merge's fields come here, concrete ones, never a reverse relation.
    field = cast("Field[Any, Any]", Resident._meta.get_field(name))
    return field.to_python(value)


def _apply_values(
    survivor: Resident, duplicate: Resident, values: dict[str, Any]
) -> dict[str, list[Any]]:
    """Set the chosen values on the (locked) survivor; return what they replaced."""
    unknown = sorted(set(values) - set(MERGE_VALUE_FIELDS))
    if unknown:
        raise DomainError(
            "These fields are not chosen in a merge.",
            code="invalid",
            fields={name: ["Not a merge field."] for name in unknown},
        )
    replaced = {}
    for name, value in values.items():
        value = _from_json(name, value)
        if value not in (getattr(survivor, name), getattr(duplicate, name)):
            raise DomainError(
                "A merge keeps one of the two records' values.",
                code="invalid",
                fields={name: ["Neither record's value."]},
            )
        if value != getattr(survivor, name):
            before = _as_json(survivor, name)
            setattr(survivor, name, value)
            replaced[name] = [before, _as_json(survivor, name)]
    return replaced


def resident_merge(
    *,
    actor: User,
    survivor: Resident,
    duplicate: Resident,
    values: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> ResidentMerge:
    """Merge `duplicate` into `survivor` (case managers, supervisors, admins).

    Nothing is deleted: the duplicate points at the survivor and drops out of searches, its
    encounters, referrals and follow-ups move to the survivor remembering where they came
    from, and its names become the survivor's aliases. `values` ({field: value}, each value
    one of the two records') are set on the survivor in the same transaction; the merge
    record keeps what they replaced and what moved, so `resident_unmerge` can undo it.
    """
    _require(actor, STAFF_ROLES, "merge residents")
    if survivor.pk == duplicate.pk:
        raise DomainError("A resident cannot be merged into itself.", code="same_resident")
    with transaction.atomic():
        survivor, duplicate = _lock_pair(survivor, duplicate)
        if survivor.merged_into_id or duplicate.merged_into_id:
            raise Conflict("One of these records was already merged.", code="resident_merged")
        names_before = _names(survivor)
        replaced = _apply_values(survivor, duplicate, values or {})
        shared = EncounterResident.objects.filter(resident=survivor).values("encounter_id")
        links = list(
            EncounterResident.objects.filter(resident=duplicate).exclude(encounter_id__in=shared)
        )
        for link in links:
            link.original_resident = link.original_resident or duplicate
            link.resident = survivor
        EncounterResident.objects.bulk_update(
            links, ["resident", "original_resident", "updated_at"]
        )
        referrals, follow_ups = _move_work(duplicate, survivor)
        known = {normalize_name(n) for n in _names(survivor)}
        # The duplicate's names, and the survivor's own that a chosen value replaced.
        added = [n for n in [*_names(duplicate), *names_before] if normalize_name(n) not in known]
        added = list(dict.fromkeys(added))
        survivor.aliases = [*survivor.aliases, *added]
        refresh_search_names(survivor)
        survivor.save()
        duplicate.merged_into = survivor
        duplicate.merged_at = timezone.now()
        duplicate.save(update_fields=["merged_into", "merged_at", "updated_at"])
        merge = ResidentMerge.objects.create(
            survivor=survivor,
            duplicate=duplicate,
            merged_by=actor,
            moved_links=[link.pk for link in links],
            moved_referrals=referrals,
            moved_follow_ups=follow_ups,
            added_aliases=added,
            replaced_values=replaced,
        )
        for target in (survivor, duplicate):
            audit_record(
                actor=actor,
                action=AuditAction.MERGE,
                target=target,
                request=request,
                # Field names only: the values are personal data.
                detail={"merge": str(merge.public_id), "fields": sorted(replaced)},
            )
    return merge


def resident_unmerge(
    *, actor: User, merge: ResidentMerge, request: HttpRequest | None = None
) -> ResidentMerge:
    """Undo a merge: the duplicate comes back with its encounters; the survivor loses the
    aliases the merge gave it and gets back the values the merge replaced. Changes made to
    the survivor since are kept (a value changed again after the merge stays)."""
    _require(actor, STAFF_ROLES, "undo merges")
    with transaction.atomic():
        merge = ResidentMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise Conflict("This merge was already undone.", code="merge_already_undone")
        survivor, duplicate = _lock_pair(merge.survivor, merge.duplicate)
        if survivor.merged_into_id:
            raise Conflict(
                "The surviving record was merged again since: undo that merge first.",
                code="survivor_merged_since",
            )
        links = list(EncounterResident.objects.filter(pk__in=merge.moved_links, resident=survivor))
        for link in links:
            link.resident = duplicate
            if link.original_resident_id == duplicate.pk:
                link.original_resident = None
        EncounterResident.objects.bulk_update(
            links, ["resident", "original_resident", "updated_at"]
        )
        _move_work_back(merge, survivor, duplicate)
        gained = set(merge.added_aliases)
        survivor.aliases = [a for a in survivor.aliases if a not in gained]
        for name, (before, after) in merge.replaced_values.items():
            if _as_json(survivor, name) == after:
                setattr(survivor, name, _from_json(name, before))
        refresh_search_names(survivor)
        survivor.save()
        duplicate.merged_into = None
        duplicate.merged_at = None
        duplicate.save(update_fields=["merged_into", "merged_at", "updated_at"])
        merge.undone_at = timezone.now()
        merge.undone_by = actor
        merge.save(update_fields=["undone_at", "undone_by", "updated_at"])
        for target in (survivor, duplicate):
            audit_record(
                actor=actor,
                action=AuditAction.UNMERGE,
                target=target,
                request=request,
                detail={"merge": str(merge.public_id)},
            )
    return merge
