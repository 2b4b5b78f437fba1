"""Reads of forms and responses. Responses are resident data: reached only through the
encounters the user may see (cases.selectors.encounter_queryset_for_user), and each read of
one is audited as a read of the resident's record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from acs.audit import audit_record
from acs.errors import NotFound
from acs.models import AuditAction
from cases.models import Encounter, FormBinding, FormResponse, FormVersion
from cases.screening import questionnaire


def form_response_queryset_for_user(user) -> QuerySet[FormResponse]:
    from cases.selectors import encounter_queryset_for_user

    visible = encounter_queryset_for_user(user).order_by().values("pk")
    return FormResponse.objects.filter(encounter__in=visible).select_related(
        "version__definition", "encounter", "resident", "created_by"
    )


def form_response_get_for_user(user, public_id: uuid.UUID, *, request=None) -> FormResponse:
    response = form_response_queryset_for_user(user).filter(public_id=public_id).first()
    if response is None:
        raise NotFound("No such form response.", code="form_response_not_found")
    form_response_read_audit(user, response, request=request, via="field_api")
    return response


def form_response_read_audit(user, response: FormResponse, *, request=None, via: str) -> None:
    """Reading a response is reading the resident's record (or, nobody identified, the
    encounter's): a `view` event naming the response."""
    audit_record(
        actor=user,
        action=AuditAction.VIEW,
        target=response.resident or response.encounter,
        request=request,
        reason=via,
        detail={"form_response": str(response.public_id)},
    )


def answer_rows(response: FormResponse, language: str = "en") -> list[tuple[str, str]]:
    """(question, answer) in the form's order, as people read them: yes/no, the option's
    display, lists joined."""
    yes_no = {"en": ("Yes", "No"), "es": ("Sí", "No")}.get(language, ("Yes", "No"))
    rows = []
    for item, _parent in questionnaire.walk(response.version.items):
        link = item["linkId"]
        if link not in response.answers:
            continue
        value = response.answers[link]
        if isinstance(value, bool):
            shown = yes_no[0] if value else yes_no[1]
        elif item["type"] == "choice":
            names = {
                o["valueCoding"]["code"]: o["valueCoding"].get("display", "")
                for o in item.get("answerOption") or []
            }
            codes = value if isinstance(value, list) else [value]
            shown = ", ".join(names.get(c, c) for c in codes)
        else:
            shown = str(value)
        rows.append((questionnaire.item_text(item, language), shown))
    return rows


@dataclass(frozen=True)
class BoundForm:
    version: FormVersion
    required: bool


def published_forms() -> list[FormVersion]:
    """Every version in use, with its definition and bindings (two queries): the field app
    keeps them on the tablet, so that a form opens offline."""
    return list(
        FormVersion.objects.filter(status=FormVersion.Status.PUBLISHED)
        .select_related("definition")
        .prefetch_related(
            Prefetch(
                "definition__bindings",
                queryset=FormBinding.objects.select_related("team").order_by("id"),
            )
        )
        .order_by("definition__title", "definition_id")
    )


def binding_matches(binding: FormBinding, *, call_type: str, team_id, disposition: str) -> bool:
    return (
        (not binding.call_type or binding.call_type == call_type)
        and (binding.team_id is None or binding.team_id == team_id)
        and (not binding.disposition or binding.disposition == disposition)
    )


def forms_for_encounter(encounter: Encounter) -> list[BoundForm]:
    """The published forms bound to this encounter (its call's type, its unit's team, its
    disposition), required first."""
    call_type = encounter.call.call_type if encounter.call_id else ""
    found = []
    bindings = FormBinding.objects.filter(
        Q(call_type="") | Q(call_type=call_type),
        Q(team__isnull=True) | Q(team_id=encounter.unit.team_id),
        Q(disposition="") | Q(disposition=encounter.disposition),
        definition__versions__status=FormVersion.Status.PUBLISHED,
    ).values_list("definition_id", "required")
    required: dict[int, bool] = {}
    for definition_id, is_required in bindings:
        required[definition_id] = required.get(definition_id, False) or is_required
    for version in FormVersion.objects.filter(
        status=FormVersion.Status.PUBLISHED, definition_id__in=required
    ).select_related("definition"):
        found.append(BoundForm(version, required[version.definition_id]))
    return sorted(found, key=lambda f: (not f.required, f.version.definition.title))


def plan_rows(response: FormResponse, language: str) -> list[tuple[str, str, bool]]:
    """A safety plan as its owner reads it: (step, their words, is_note) in the form's order,
    the steps they left blank out, the fixed lines (988) kept."""
    rows = []
    for item, _parent in questionnaire.walk(response.version.items):
        text = questionnaire.item_text(item, language)
        if item["type"] == "display":
            rows.append((text, "", True))
        elif item["linkId"] in response.answers:
            rows.append((text, str(response.answers[item["linkId"]]), False))
    return rows


def encounter_form_responses(encounter: Encounter) -> list[FormResponse]:
    """The responses recorded on an encounter (one query): the field app's encounter page."""
    return list(
        FormResponse.objects.filter(encounter=encounter)
        .select_related("version__definition", "resident")
        .order_by("completed_at", "id")
    )


def required_forms_missing(encounters: QuerySet[Encounter]) -> QuerySet[Encounter]:
    """The encounters annotated with `required_forms_missing`: the titles of the forms bound as
    required to each (its call's type, its unit's team, its disposition: the rule of
    binding_matches) with no response recorded on it, [] when none. One statement: a subquery
    per row in the database, no query per row here. The server does not refuse such an
    encounter (an old tablet's or a queued one must never be lost): the desk sees the gap."""
    from django.contrib.postgres.expressions import ArraySubquery
    from django.db.models import Exists, OuterRef

    encounter = OuterRef(OuterRef("pk"))
    missing = (
        FormBinding.objects.filter(required=True)
        .filter(Q(call_type="") | Q(call_type=OuterRef("call__call_type")))
        .filter(Q(team__isnull=True) | Q(team_id=OuterRef("unit__team_id")))
        .filter(Q(disposition="") | Q(disposition=OuterRef("disposition")))
        .filter(definition__versions__status=FormVersion.Status.PUBLISHED)
        .filter(
            ~Exists(
                FormResponse.objects.filter(
                    encounter_id=encounter, version__definition_id=OuterRef("definition_id")
                )
            )
        )
        .order_by("definition__title")
        .values("definition__title")
        .distinct()
    )
    return encounters.annotate(required_forms_missing=ArraySubquery(missing))
