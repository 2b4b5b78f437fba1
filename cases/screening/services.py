"""Writes on forms: drafts, publishing and retiring versions, FHIR import, and responses on
encounters (idempotent on the tablet's UUID) with their consequences (the encounter's risk
level, the follow-up rules keyed on it)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from acs.audit import audit_record
from acs.client_ids import create_once, created_before, replayed
from acs.errors import Conflict, DomainError, Forbidden
from acs.models import AuditAction
from acs.roles import OVERSIGHT_ROLES, has_any_role
from cases.models import (
    Encounter,
    FormDefinition,
    FormResponse,
    FormVersion,
    Resident,
)
from cases.screening import questionnaire, scoring


def _require_manager(actor) -> None:
    if not has_any_role(actor, OVERSIGHT_ROLES):
        raise Forbidden("Supervisors and administrators manage forms.")


def form_version_save_draft(
    *,
    actor,
    definition: FormDefinition,
    items: Any,
    title: str = "",
    description: str = "",
    version: FormVersion | None = None,
) -> FormVersion:
    """Save a draft's items (checked as Questionnaire items). Without `version`, a new draft
    numbered after the last version. A published or retired version is never edited (409):
    make a new draft."""
    _require_manager(actor)
    items = questionnaire.check_items(items)
    with transaction.atomic():
        FormDefinition.objects.select_for_update().get(pk=definition.pk)
        if version is None:
            last = definition.versions.aggregate(n=Max("number"))["n"] or 0
            version = FormVersion.objects.create(
                definition=definition,
                number=last + 1,
                title=title or definition.title,
                description=description,
                items=items,
            )
            action = AuditAction.CREATE
        else:
            version = FormVersion.objects.select_for_update().get(pk=version.pk)
            if version.status != FormVersion.Status.DRAFT:
                raise Conflict(
                    f"Version {version.number} is {version.status}: it never changes. "
                    "Make a new draft.",
                    code="form_version_frozen",
                )
            version.items = items
            version.title = title or version.title
            version.description = description
            version.save()
            action = AuditAction.CHANGE
        audit_record(actor=actor, action=action, target=version, detail={"form": definition.key})
    return version


def form_version_new_draft(*, actor, definition: FormDefinition) -> FormVersion:
    """A new draft holding the latest version's items, to edit."""
    latest = definition.versions.order_by("-number").first()
    if latest is None:
        raise Conflict("This form has no version to start from.", code="form_no_version")
    if latest.status == FormVersion.Status.DRAFT:
        return latest
    return form_version_save_draft(
        actor=actor,
        definition=definition,
        items=latest.items,
        title=latest.title,
        description=latest.description,
    )


def form_version_publish(*, actor, version: FormVersion) -> FormVersion:
    """Publish a draft: from now on it is the version the field app offers, and it never
    changes. The version published before it is retired (responses started on it are still
    accepted: form_response_submit)."""
    _require_manager(actor)
    now = timezone.now()
    with transaction.atomic():
        FormDefinition.objects.select_for_update().get(pk=version.definition_id)
        version = FormVersion.objects.select_for_update().get(pk=version.pk)
        if version.status == FormVersion.Status.PUBLISHED:
            return version
        if version.status != FormVersion.Status.DRAFT:
            raise Conflict("A retired version is not published again.", code="form_version_retired")
        questionnaire.check_items(version.items)
        FormVersion.objects.filter(
            definition_id=version.definition_id, status=FormVersion.Status.PUBLISHED
        ).update(status=FormVersion.Status.RETIRED, retired_at=now, updated_at=now)
        version.status = FormVersion.Status.PUBLISHED
        version.published_at = now
        version.published_by = actor
        version.save()
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=version,
            detail={"form": version.definition.key, "status": "published"},
        )
    return version


def form_version_retire(*, actor, version: FormVersion) -> FormVersion:
    """Retire the published version: the field app no longer offers the form."""
    _require_manager(actor)
    with transaction.atomic():
        version = FormVersion.objects.select_for_update().get(pk=version.pk)
        if version.status == FormVersion.Status.RETIRED:
            return version
        if version.status != FormVersion.Status.PUBLISHED:
            raise Conflict("Only a published version is retired.", code="form_version_draft")
        version.status = FormVersion.Status.RETIRED
        version.retired_at = timezone.now()
        version.save()
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=version,
            detail={"form": version.definition.key, "status": "retired"},
        )
    return version


def form_import_questionnaire(
    *, actor, resource: dict, purpose: str = FormDefinition.Purpose.OTHER
) -> FormVersion:
    """A FHIR Questionnaire (checked against the R4 structure and our item rules) becomes a
    new draft of the definition its canonical url (or name) names, made if it is new."""
    _require_manager(actor)
    read = questionnaire.questionnaire_read(resource)
    with transaction.atomic():
        definition, made = FormDefinition.objects.get_or_create(
            key=read["key"],
            defaults={"title": read["title"], "purpose": purpose, "licence": read["licence"]},
        )
        if made:
            audit_record(actor=actor, action=AuditAction.CREATE, target=definition)
        return form_version_save_draft(
            actor=actor,
            definition=definition,
            items=read["items"],
            title=read["title"],
            description=read["description"],
        )


# --- responses -------------------------------------------------------------------------------


def _version_open_for(version: FormVersion, started_at: dt.datetime) -> bool:
    """A response answers the version it started on: the published one, or one retired after
    the responder opened it (a tablet offline while a new version was published)."""
    if version.status == FormVersion.Status.PUBLISHED:
        return True
    return (
        version.status == FormVersion.Status.RETIRED
        and version.retired_at is not None
        and started_at <= version.retired_at
    )


def _set_encounter_risk(*, actor, encounter: Encounter, response: FormResponse, request) -> None:
    """The encounter's risk level becomes the highest any scored screen on it found (two
    people screened: the higher), with who and when; audited."""
    from cases.services.followups import followups_apply_risk

    encounter = Encounter.objects.select_for_update().get(pk=encounter.pk)
    levels = FormResponse.objects.filter(encounter=encounter).exclude(risk_level="")
    level = scoring.risk_max(*levels.values_list("risk_level", flat=True))
    if not level or (level == encounter.risk_level and encounter.risk_level_set_at):
        return
    before = encounter.risk_level
    encounter.risk_level = level
    encounter.risk_level_set_at = response.completed_at
    encounter.risk_level_set_by = actor
    encounter.save(update_fields=["risk_level", "risk_level_set_at", "risk_level_set_by"])
    audit_record(
        actor=actor,
        action=AuditAction.CHANGE,
        target=encounter,
        request=request,
        detail={
            "fields": ["risk_level"],
            "risk_level": level,
            "was": before,
            "form_response": str(response.public_id),
        },
    )
    if encounter.status == Encounter.Status.SUBMITTED:
        followups_apply_risk(encounter=encounter)


def form_response_submit(
    *,
    actor,
    client_id: uuid.UUID,
    encounter: Encounter,
    version: FormVersion,
    resident: Resident | None,
    answers: dict[str, Any],
    started_at: dt.datetime,
    completed_at: dt.datetime | None = None,
    language: str = "en",
    request=None,
) -> tuple[FormResponse, bool]:
    """Record a completed form on an encounter, as the unit that logged it.

    The answers are checked against the version the responder started on (conditions and
    required items; answers of hidden items are dropped) and scored by the definition's rule;
    a scored screen sets the encounter's risk level. `client_id` is the tablet's UUID: a retry
    returns the first response and `created=False`.
    """
    from cases.services.encounters import _editable, _require_unit_responder

    existing = created_before(FormResponse, client_id=client_id, actor=actor)
    if existing is not None:
        return existing, False
    _require_unit_responder(actor, encounter)
    if not _editable(encounter):
        raise Conflict(
            "This encounter is locked: add an addendum instead.", code="encounter_locked"
        )
    if not _version_open_for(version, started_at):
        raise Conflict(
            "This version of the form is not in use: open the form again.",
            code="form_version_not_open",
            fields={"version": ["Not published."]},
        )
    if resident is not None and not encounter.people.filter(resident=resident).exists():
        raise DomainError(
            "Record forms about the people of this encounter.",
            code="invalid",
            fields={"resident": ["Not a person of this encounter."]},
        )
    cleaned = questionnaire.clean_answers(version.items, answers)
    risk, detail = scoring.score(version.definition.scoring, cleaned)
    completed_at = completed_at or timezone.now()

    def create() -> FormResponse:
        response = FormResponse.objects.create(
            client_id=client_id,
            version=version,
            encounter=encounter,
            resident=resident,
            created_by=actor,
            answers=cleaned,
            started_at=started_at,
            completed_at=completed_at,
            risk_level=risk,
            score_detail=detail,
            language=language if language in ("en", "es") else "en",
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            target=resident or encounter,
            request=request,
            detail={
                "form_response": str(response.public_id),
                "encounter": str(encounter.public_id),
                "form": version.definition.key,
                "version": version.number,
            },
        )
        if risk:
            _set_encounter_risk(
                actor=actor, encounter=encounter, response=response, request=request
            )
        return response

    with transaction.atomic():
        response = create_once(FormResponse, client_id=client_id, actor=actor, create=create)
    return response, not replayed(response)


# --- the resident's copy of a safety plan ------------------------------------------------------


def safety_plan_send_text(*, actor, response: FormResponse, request=None):
    """Text a safety plan to the person it belongs to, when they asked for it: their number on
    file and their consent to texts (checked again when it is sent, with STOP). The text is
    their own plan and the 988 line (cases.messages.safety_plan); asking again the same day
    sends nothing more. The unit that recorded it, or desk staff who may read it."""
    from cases.models import Consent
    from cases.selectors import consent_active
    from cases.services.notifications import notification_schedule

    if response.version.definition.purpose != FormDefinition.Purpose.SAFETY_PLAN:
        raise DomainError("Only a safety plan is sent to the person.", code="not_a_safety_plan")
    resident = response.resident
    if resident is None:
        raise Conflict(
            "This plan is not about an identified person: print it for them instead.",
            code="safety_plan_no_resident",
        )
    if not resident.phone:
        raise Conflict("No phone number on file: print the plan instead.", code="no_phone")
    if not consent_active(resident, Consent.Scope.SMS):
        raise Conflict(
            "Record their consent to texts first, or print the plan.", code="sms_consent_required"
        )
    if response.deidentified_at is not None:
        raise Conflict("This plan was removed after the retention period.", code="removed")
    from cases.models import Notification

    key = f"formresponse:{response.pk}:text:{timezone.localdate():%Y%m%d}"
    with transaction.atomic():
        already = Notification.objects.filter(dedupe_key=key).first()
        if already is not None:
            return already
        notification = notification_schedule(
            template="safety_plan",
            channel="sms",
            resident=resident,
            context={"form_response_pk": response.pk},
            dedupe_key=key,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=resident,
            request=request,
            detail={"safety_plan_sent": str(response.public_id), "channel": "sms"},
        )
    return notification
