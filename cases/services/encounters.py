"""Writes on encounters: create (idempotent on the tablet's UUID), edit, submit, addenda."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from acs.audit import audit_record
from acs.client_ids import create_once, created_before, replayed
from acs.errors import Conflict, DomainError, Forbidden, NotFound
from acs.models import AuditAction
from acs.roles import Role
from cases.models import ADDENDUM_PENDING, Addendum, Call, Encounter, EncounterResident, Resident
from cases.selectors import resident_queryset_for_user
from cases.services.followups import followups_create_for_encounter
from responders.models import Unit

if TYPE_CHECKING:
    from django.http import HttpRequest

    from responders.models import User

ENCOUNTER_FIELDS = (
    "occurred_at",
    "anonymous_people",
    "needs",
    "services_on_scene",
    "narrative",
    "narrative_part2",
    "risk_level",
    "disposition",
    "transport_destination",
    "police_requested",
    "ems_requested",
    "involuntary_hold",
)


def _require_responder_of(actor: User, unit: Unit) -> None:
    if not actor.has_role(Role.RESPONDER) or not unit.members.filter(pk=actor.pk).exists():
        raise NotFound("No such unit.", code="unit_not_found")


def _require_unit_responder(actor: User, encounter: Encounter) -> None:
    """An encounter is the unit's account of what it saw: its author and the unit's
    responders edit and submit it; anyone else adds an addendum."""
    if actor.has_role(Role.RESPONDER) and (
        encounter.created_by_id == actor.pk or encounter.unit.members.filter(pk=actor.pk).exists()
    ):
        return
    raise Forbidden(
        "Only the unit that logged this encounter edits or submits it: add an addendum.",
        code="encounter_not_yours",
    )


def _residents_for(actor: User, public_ids: list[uuid.UUID]) -> list[Resident]:
    """The residents of these ids; NotFound, as for any record out of reach, if one is not
    among those the actor may see (a well-formed request naming an unknown record is a 404,
    never a 400: docs/api.md)."""
    found = list(resident_queryset_for_user(actor).filter(public_id__in=public_ids))
    if len(found) != len(set(public_ids)):
        raise NotFound(
            "Some residents are unknown or out of reach: search for them first.",
            code="resident_not_found",
            fields={"residents": ["Unknown resident."]},
        )
    return found


def _id_text(key: object) -> str:
    try:
        return str(uuid.UUID(str(key)))
    except ValueError:
        return str(key)


def _set_living_situations(encounter: Encounter, situations: dict[str, str] | None) -> bool:
    """Each person's living situation on this contact, by the resident's public id. A key that
    names no one on the encounter (whatever it is) is NotFound. Whether anything changed."""
    if not situations:
        return False
    links = {
        str(link.resident.public_id): link
        for link in encounter.people.select_related("resident").order_by("id")
    }
    chosen = {_id_text(key): value for key, value in situations.items()}
    if set(chosen) - set(links):
        raise NotFound(
            "A living situation names someone who is not on this encounter.",
            code="resident_not_on_encounter",
            fields={"living_situations": ["Names someone who is not on this encounter."]},
        )
    changed = False
    for key, value in chosen.items():
        link = links[key]
        if link.living_situation != value:
            link.living_situation = value
            link.save(update_fields=["living_situation", "updated_at"])
            changed = True
    return changed


def _set_residents(encounter: Encounter, residents: list[Resident]) -> None:
    keep = {r.pk for r in residents}
    encounter.people.exclude(resident_id__in=keep).delete()
    have = set(encounter.people.values_list("resident_id", flat=True))
    EncounterResident.objects.bulk_create(
        EncounterResident(encounter=encounter, resident=r) for r in residents if r.pk not in have
    )


def encounter_create(
    *,
    actor: User,
    client_id: uuid.UUID,
    unit: Unit,
    call: Call | None,
    data: dict[str, Any],
    resident_ids: list[uuid.UUID],
    request: HttpRequest | None = None,
) -> tuple[Encounter, bool]:
    """A responder of `unit` logs an encounter, on a call the unit works or self-initiated.

    `client_id` is the tablet's UUID: a retry, even one racing its first attempt, returns the
    first encounter and `created=False` (acs.client_ids).
    """
    existing = created_before(Encounter, client_id=client_id, actor=actor)
    if existing is not None:
        return existing, False
    _require_responder_of(actor, unit)
    if call is not None and not call.assignments.filter(unit=unit).exists():
        raise DomainError(
            "This unit is not on that call.", code="invalid", fields={"call": ["Not your unit's."]}
        )
    residents = _residents_for(actor, resident_ids)
    values = {k: v for k, v in data.items() if k in ENCOUNTER_FIELDS}
    values.setdefault("occurred_at", timezone.now())

    def create() -> Encounter:
        encounter = Encounter.objects.create(
            client_id=client_id, unit=unit, call=call, created_by=actor, **values
        )
        _set_residents(encounter, residents)
        _set_living_situations(encounter, data.get("living_situations"))
        audit_record(actor=actor, action=AuditAction.CREATE, target=encounter, request=request)
        return encounter

    encounter = create_once(Encounter, client_id=client_id, actor=actor, create=create)
    return encounter, not replayed(encounter)


def _keep_screened_risk(encounter: Encounter, changes: dict[str, Any]) -> dict[str, Any]:
    """A risk level a screen set (cases/screening) is not lowered by the form's own risk
    choice sent again with an edit (the tablet resends the whole form); raising it is kept."""
    from cases.screening.scoring import ORDER

    wanted = changes.get("risk_level")
    if encounter.risk_level_set_at is None or wanted is None:
        return changes
    if ORDER.index(Encounter.RiskLevel(wanted)) < ORDER.index(
        Encounter.RiskLevel(encounter.risk_level)
    ):
        return {k: v for k, v in changes.items() if k != "risk_level"}
    return changes


def _editable(encounter: Encounter) -> bool:
    return encounter.status == Encounter.Status.DRAFT or (
        encounter.locks_at is not None and timezone.now() < encounter.locks_at
    )


def encounter_update(
    *,
    actor: User,
    encounter: Encounter,
    changes: dict[str, Any],
    resident_ids: list[uuid.UUID] | None = None,
    request: HttpRequest | None = None,
) -> Encounter:
    """Edit a draft, or a submitted encounter within its grace period; then it is locked.
    The unit's responders only."""
    _require_unit_responder(actor, encounter)
    with transaction.atomic():
        encounter = Encounter.objects.select_for_update().get(pk=encounter.pk)
        if not _editable(encounter):
            raise Conflict(
                "This encounter is locked: add an addendum instead.", code="encounter_locked"
            )
        changes = _keep_screened_risk(encounter, changes)
        changed = [
            k for k, v in changes.items() if k in ENCOUNTER_FIELDS and getattr(encounter, k) != v
        ]
        for name in changed:
            setattr(encounter, name, changes[name])
        if encounter.status == Encounter.Status.SUBMITTED and not encounter.disposition:
            raise DomainError(
                "A submitted encounter keeps its disposition.",
                code="invalid",
                fields={"disposition": ["Required."]},
            )
        encounter.save()
        if resident_ids is not None:
            _set_residents(encounter, _residents_for(actor, resident_ids))
            changed.append("residents")
        if _set_living_situations(encounter, changes.get("living_situations")):
            changed.append("living_situations")
        if changed:
            audit_record(
                actor=actor,
                action=AuditAction.CHANGE,
                target=encounter,
                request=request,
                detail={"fields": sorted(changed)},
            )
    return encounter


def encounter_submit(
    *, actor: User, encounter: Encounter, request: HttpRequest | None = None
) -> Encounter:
    """Submit a draft: it needs a disposition. It locks after ENCOUNTER_EDIT_GRACE.
    Submitting again changes nothing. The unit's responders only."""
    _require_unit_responder(actor, encounter)
    with transaction.atomic():
        encounter = Encounter.objects.select_for_update().get(pk=encounter.pk)
        if encounter.status == Encounter.Status.SUBMITTED:
            return encounter
        if not encounter.disposition:
            # The draft as it stands cannot be submitted: a conflict with its state (409),
            # like any transition the record does not allow yet.
            raise Conflict(
                "Choose a disposition before submitting.",
                code="disposition_required",
                fields={"disposition": ["Required to submit."]},
            )
        now = timezone.now()
        encounter.status = Encounter.Status.SUBMITTED
        encounter.submitted_at = now
        encounter.locks_at = now + settings.ENCOUNTER_EDIT_GRACE
        encounter.save()
        followups_create_for_encounter(encounter=encounter)
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=encounter,
            request=request,
            detail={"fields": ["status"]},
        )
    return encounter


def addendum_add(
    *, actor: User, encounter: Encounter, text: str, request: HttpRequest | None = None
) -> Addendum:
    """Add a note to a submitted encounter (a draft is simply edited)."""
    if encounter.status != Encounter.Status.SUBMITTED:
        raise Conflict("Edit the draft instead of adding an addendum.", code="encounter_is_draft")
    text = text.strip()
    if not text:
        raise DomainError("An addendum needs text.", code="invalid", fields={"text": ["Empty."]})
    with transaction.atomic():
        addendum = Addendum.objects.create(encounter=encounter, author=actor, text=text)
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=encounter,
            request=request,
            detail={"addendum": str(addendum.public_id)},
        )
    return addendum


def _addendum_decider_check(actor: User, addendum: Addendum) -> None:
    """Who decides on an addendum: a supervisor of the team of the unit that logged the
    encounter, never its author."""
    if not actor.has_role(Role.SUPERVISOR):
        raise Forbidden("Only a supervisor approves or rejects addenda.")
    if addendum.author_id == actor.pk:
        raise Forbidden(
            "Another supervisor decides on your own addendum.", code="addendum_own_approval"
        )
    team_id = addendum.encounter.unit.team_id
    if actor.team_id is None or team_id != actor.team_id:
        raise Forbidden(
            "You decide on the addenda of your own team's encounters.",
            code="addendum_other_team",
        )


def _addendum_already_decided(addendum: Addendum) -> Conflict:
    done = "approved" if addendum.approved_at else "rejected"
    return Conflict(f"This addendum was already {done}.", code="addendum_decided")


def addendum_approve(
    *, actor: User, addendum: Addendum, request: HttpRequest | None = None
) -> Addendum:
    """A supervisor approves the addenda on their team's encounters (the team of the unit that
    logged it), never their own; approving twice changes nothing; a rejected one stays
    rejected (409)."""
    _addendum_decider_check(actor, addendum)
    with transaction.atomic():
        updated = Addendum.objects.filter(ADDENDUM_PENDING, pk=addendum.pk).update(
            approved_by=actor, approved_at=timezone.now(), updated_at=timezone.now()
        )
        addendum.refresh_from_db()
        if not updated and addendum.rejected_at is not None:
            raise _addendum_already_decided(addendum)
        if updated:
            audit_record(
                actor=actor,
                action=AuditAction.CHANGE,
                target=addendum.encounter,
                request=request,
                detail={"addendum_approved": str(addendum.public_id)},
            )
    return addendum


def addendum_reject(
    *, actor: User, addendum: Addendum, reason: str, request: HttpRequest | None = None
) -> Addendum:
    """A supervisor of the encounter's team (never its author) rejects an addendum, with the
    reason its author reads: the addendum stays on the record, marked not approved. Only an
    addendum not decided yet can be rejected (409 otherwise)."""
    _addendum_decider_check(actor, addendum)
    reason = reason.strip()
    if not reason:
        raise DomainError(
            "Say why the addendum is rejected: its author reads it.",
            code="invalid",
            fields={"reason": ["Give a reason."]},
        )
    with transaction.atomic():
        updated = Addendum.objects.filter(ADDENDUM_PENDING, pk=addendum.pk).update(
            rejected_by=actor,
            rejected_at=timezone.now(),
            rejection_reason=reason,
            updated_at=timezone.now(),
        )
        addendum.refresh_from_db()
        if not updated:
            raise _addendum_already_decided(addendum)
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=addendum.encounter,
            request=request,
            detail={"addendum_rejected": str(addendum.public_id)},
        )
    return addendum
