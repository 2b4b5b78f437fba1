"""Form items as FHIR Questionnaire items: checking a definition, evaluating `enableWhen`,
checking answers against `required`, and the exchange as FHIR R4 Questionnaire and
QuestionnaireResponse (validated with fhir.resources' R4B models, the R4 structure of these two
resources).

Answers are kept as {linkId: value}: a boolean, an integer, a decimal, a string (text, date
"YYYY-MM-DD"), a choice's code, or a list of codes for a multiple choice (`repeats`).
The field app (static/field/app/forms.js) applies the same rules to show and hide items and to
block a submission; this module is the authority.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from acs.errors import DomainError

QUESTION_TYPES = {"boolean", "integer", "decimal", "date", "string", "text", "choice"}
ITEM_TYPES = QUESTION_TYPES | {"group", "display"}
OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}
ANSWER_KEYS = (
    "answerBoolean",
    "answerInteger",
    "answerDecimal",
    "answerDate",
    "answerString",
    "answerCoding",
)
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
CANONICAL_BASE = "urn:acs:form:"


class FormInvalid(DomainError):
    code = "form_invalid"


def walk(items: list[dict]) -> Iterator[tuple[dict, dict | None]]:
    """Every item, depth first, with its parent group (None at the top)."""
    stack: list[tuple[dict, dict | None]] = [(item, None) for item in reversed(items)]
    while stack:
        item, parent = stack.pop()
        yield item, parent
        stack.extend((child, item) for child in reversed(item.get("item") or []))


def questions(items: list[dict]) -> dict[str, dict]:
    """The items that take an answer, by linkId."""
    return {i["linkId"]: i for i, _ in walk(items) if i.get("type") in QUESTION_TYPES}


def item_text(item: dict, language: str = "en") -> str:
    """The item's text in `language` when a FHIR translation extension gives it."""
    if language != "en":
        for ext in (item.get("_text") or {}).get("extension") or []:
            if ext.get("url") != TRANSLATION:
                continue
            parts = {e.get("url"): e for e in ext.get("extension") or []}
            if parts.get("lang", {}).get("valueCode") == language:
                return parts.get("content", {}).get("valueString") or item.get("text", "")
    return item.get("text", "")


def option_codes(item: dict) -> list[str]:
    return [o["valueCoding"]["code"] for o in item.get("answerOption") or [] if "valueCoding" in o]


def check_items(items: Any) -> list[dict]:
    """A definition's items, or FormInvalid naming what is wrong: unique linkIds, known
    types, choices with options, conditions that name an earlier question with a known
    operator and an answer of the right kind."""
    if not isinstance(items, list) or not items:
        raise FormInvalid("A form needs at least one item.", fields={"items": ["Empty."]})
    errors: dict[str, list[str]] = {}
    seen: dict[str, dict] = {}
    for item, _parent in walk(items):
        link = item.get("linkId")
        if not isinstance(link, str) or not link:
            raise FormInvalid("Every item needs a linkId.", fields={"items": ["linkId missing."]})
        if link in seen:
            errors.setdefault(link, []).append("linkId used twice.")
        seen[link] = item
        kind = item.get("type")
        if kind not in ITEM_TYPES:
            errors.setdefault(link, []).append(f"Unknown type {kind!r}.")
        if kind == "choice" and not option_codes(item):
            errors.setdefault(link, []).append("A choice needs answer options.")
        if kind == "group" and not item.get("item"):
            errors.setdefault(link, []).append("A group needs items.")
        for cond in item.get("enableWhen") or []:
            target = seen.get(cond.get("question"))
            if target is None or target.get("type") not in QUESTION_TYPES:
                errors.setdefault(link, []).append(
                    f"enableWhen names {cond.get('question')!r}, not an earlier question."
                )
            if cond.get("operator") not in OPERATORS:
                errors.setdefault(link, []).append(f"Unknown operator {cond.get('operator')!r}.")
            if sum(1 for key in ANSWER_KEYS if key in cond) != 1:
                errors.setdefault(link, []).append("enableWhen needs exactly one answer[x].")
        if item.get("enableBehavior") not in (None, "all", "any"):
            errors.setdefault(link, []).append("enableBehavior is all or any.")
    if errors:
        raise FormInvalid("The form's items are not valid.", fields=errors)
    return items


def _condition_value(cond: dict) -> Any:
    for key in ANSWER_KEYS:
        if key in cond:
            value = cond[key]
            return value.get("code") if key == "answerCoding" else value
    return None


def _holds(cond: dict, answers: dict[str, Any]) -> bool:
    answer = answers.get(cond["question"])
    present = answer not in (None, "", [])
    operator = cond["operator"]
    expected = _condition_value(cond)
    if operator == "exists":
        return present == bool(expected)
    if not present:
        # FHIR: a comparison with no answer does not hold (for != neither).
        return False
    values = answer if isinstance(answer, list) else [answer]
    if operator == "=":
        return expected in values
    if operator == "!=":
        return expected not in values
    try:
        value = values[0]
        return {
            ">": value > expected,
            "<": value < expected,
            ">=": value >= expected,
            "<=": value <= expected,
        }[operator]
    except TypeError:
        return False


def enabled_links(items: list[dict], answers: dict[str, Any]) -> set[str]:
    """The linkIds enabled by these answers: an item whose conditions hold (all, or any with
    enableBehavior any) inside a group that is itself enabled."""
    enabled: set[str] = set()
    for item, parent in walk(items):
        if parent is not None and parent["linkId"] not in enabled:
            continue
        conds = item.get("enableWhen") or []
        if conds:
            # Only answers of enabled questions count: a hidden answer enables nothing.
            visible = {k: v for k, v in answers.items() if k in enabled}
            results = [_holds(c, visible) for c in conds]
            if not (any(results) if item.get("enableBehavior") == "any" else all(results)):
                continue
        enabled.add(item["linkId"])
    return enabled


def _coerce(item: dict, value: Any) -> Any:
    kind = item["type"]
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("Answer yes or no.")
        return value
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("A whole number.")
        return value
    if kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("A number.")
        return value
    if kind == "date":
        dt.date.fromisoformat(str(value))
        return str(value)
    if kind in ("string", "text"):
        if not isinstance(value, str):
            raise ValueError("Text.")
        limit = 255 if kind == "string" else 4000
        if len(value) > limit:
            raise ValueError(f"At most {limit} characters.")
        return value.strip()
    codes = option_codes(item)
    chosen = value if isinstance(value, list) else [value]
    if not item.get("repeats") and len(chosen) > 1:
        raise ValueError("Choose one.")
    if any(c not in codes for c in chosen):
        raise ValueError("Not one of the options.")
    return list(dict.fromkeys(chosen)) if item.get("repeats") else chosen[0]


def clean_answers(items: list[dict], answers: Any) -> dict[str, Any]:
    """The answers as stored: each of the right kind for its item, those of hidden items
    dropped, every enabled required item answered; FormInvalid naming each item otherwise."""
    if not isinstance(answers, dict):
        raise FormInvalid(
            "Answers are an object by linkId.", fields={"answers": ["Not an object."]}
        )
    known = questions(items)
    errors: dict[str, list[str]] = {}
    typed: dict[str, Any] = {}
    for link, value in answers.items():
        if link not in known:
            errors.setdefault(link, []).append("No such item on this version.")
            continue
        if value in (None, "", []):
            continue
        try:
            typed[link] = _coerce(known[link], value)
        except ValueError as exc:
            errors.setdefault(link, []).append(str(exc) or "Not valid.")
    if errors:
        raise FormInvalid("Some answers are not valid.", fields=errors)
    enabled = enabled_links(items, typed)
    kept = {k: v for k, v in typed.items() if k in enabled and v not in ("", [])}
    missing = {
        link: ["Required."]
        for link, item in known.items()
        if item.get("required") and link in enabled and link not in kept
    }
    if missing:
        raise FormInvalid("Answer the required items.", code="answers_required", fields=missing)
    return kept


# --- FHIR exchange ---------------------------------------------------------------------------


def _fhir_error(exc: ValidationError) -> FormInvalid:
    fields: dict[str, list[str]] = {}
    for err in exc.errors()[:20]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "resource"
        fields.setdefault(where, []).append(err.get("msg", "invalid"))
    return FormInvalid("Not a valid FHIR R4 resource.", fields=fields)


def fhir_validate(resource: dict) -> dict:
    """The resource checked against the FHIR R4 structure (fhir.resources' R4B models: R4B
    changed neither Questionnaire nor QuestionnaireResponse), as JSON again."""
    from fhir.resources.R4B.questionnaire import Questionnaire
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    kinds = {"Questionnaire": Questionnaire, "QuestionnaireResponse": QuestionnaireResponse}
    model = kinds.get(resource.get("resourceType") if isinstance(resource, dict) else None)
    if model is None:
        raise FormInvalid(
            "Expected a FHIR Questionnaire or QuestionnaireResponse.",
            fields={"resourceType": ["Questionnaire or QuestionnaireResponse."]},
        )
    try:
        return model.model_validate(resource).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        raise _fhir_error(exc) from None


FHIR_STATUS = {"draft": "draft", "published": "active", "retired": "retired"}


def canonical_url(key: str) -> str:
    return f"{CANONICAL_BASE}{key}"


def questionnaire_from_version(version) -> dict:
    """A version as a FHIR Questionnaire (validated)."""
    definition = version.definition
    resource = {
        "resourceType": "Questionnaire",
        "id": str(version.public_id),
        "url": canonical_url(definition.key),
        "version": str(version.number),
        "name": definition.key.replace("-", "_"),
        "title": version.title,
        "status": FHIR_STATUS[version.status],
        "subjectType": ["Patient"],
        "item": version.items,
    }
    if version.description:
        resource["description"] = version.description
    if definition.licence:
        resource["copyright"] = definition.licence
    if version.published_at:
        resource["date"] = version.published_at.isoformat()
    return fhir_validate(resource)


def questionnaire_read(resource: dict) -> dict:
    """What a definition takes from a FHIR Questionnaire: key (from the canonical url, else
    the name), title, description, licence and items (checked)."""
    resource = fhir_validate(resource)
    if resource.get("resourceType") != "Questionnaire":
        raise FormInvalid(
            "Expected a FHIR Questionnaire.",
            fields={"resourceType": ["Questionnaire."]},
        )
    url = resource.get("url") or ""
    key = url.removeprefix(CANONICAL_BASE) if url.startswith(CANONICAL_BASE) else ""
    key = key or (resource.get("name") or "").replace("_", "-").lower()
    if not key:
        raise FormInvalid("The Questionnaire needs a url or a name.", fields={"name": ["Missing."]})
    return {
        "key": key[:64],
        "title": resource.get("title") or key,
        "description": resource.get("description", ""),
        "licence": resource.get("copyright", ""),
        "items": check_items(resource.get("item")),
    }


def _answer_values(item: dict, value: Any) -> list[dict]:
    kind = item["type"]
    values = value if isinstance(value, list) else [value]
    if kind == "choice":
        displays = {
            o["valueCoding"]["code"]: o["valueCoding"].get("display", "")
            for o in item.get("answerOption") or []
            if "valueCoding" in o
        }
        return [
            {"valueCoding": {"code": code, "display": displays.get(code, "")}} for code in values
        ]
    key = {
        "boolean": "valueBoolean",
        "integer": "valueInteger",
        "decimal": "valueDecimal",
        "date": "valueDate",
        "string": "valueString",
        "text": "valueString",
    }[kind]
    return [{key: v} for v in values]


def _response_items(items: list[dict], answers: dict[str, Any]) -> list[dict]:
    out = []
    for item in items:
        link = item["linkId"]
        if item["type"] == "group":
            children = _response_items(item.get("item") or [], answers)
            if children:
                out.append({"linkId": link, "text": item.get("text", ""), "item": children})
        elif item["type"] in QUESTION_TYPES and link in answers:
            out.append(
                {
                    "linkId": link,
                    "text": item.get("text", ""),
                    "answer": _answer_values(item, answers[link]),
                }
            )
    return out


def questionnaire_response_from(response) -> dict:
    """A form response as a FHIR QuestionnaireResponse (validated): the version it answered
    as `questionnaire` (canonical|version), the resident and the author by public id."""
    version = response.version
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": str(response.public_id),
        "questionnaire": f"{canonical_url(version.definition.key)}|{version.number}",
        "status": "completed",
        "authored": response.completed_at.isoformat(),
        "author": {"reference": f"Practitioner/{response.created_by.public_id}"},
        "encounter": {"reference": f"Encounter/{response.encounter.public_id}"},
        "item": _response_items(version.items, response.answers),
    }
    if response.resident_id:
        resource["subject"] = {"reference": f"Patient/{response.resident.public_id}"}
    return fhir_validate(resource)


def answers_from_questionnaire_response(items: list[dict], resource: dict) -> dict[str, Any]:
    """The {linkId: value} answers a FHIR QuestionnaireResponse carries for these items
    (checked with clean_answers)."""
    resource = fhir_validate(resource)
    known = questions(items)
    answers: dict[str, Any] = {}
    for item, _parent in walk(resource.get("item") or []):
        link = item["linkId"]
        if link not in known or not item.get("answer"):
            continue
        values = []
        for answer in item["answer"]:
            for key, value in answer.items():
                if key.startswith("value"):
                    values.append(value["code"] if key == "valueCoding" else value)
        if known[link].get("repeats"):
            answers[link] = values
        elif values:
            answers[link] = values[0]
    return clean_answers(items, answers)
