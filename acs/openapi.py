"""The OpenAPI schema says what the API accepts, no more and no less (docs/security.md,
"Hostile input and the API's contract"; the schema fuzz in tests/acs/test_api_fuzz.py holds
the two to each other).

drf-spectacular describes each field's type. What our serializers and services enforce beyond
it is added here, so that a client (or the fuzz) that keeps to the schema is not refused:

- `ApiSchema`: every text input refuses the NUL character (PostgreSQL cannot store it), and a
  text field that may not be blank needs a character that is not whitespace (DRF trims first).
- `apply_rules`: each app states, per request component, the rules its serializers and
  services apply across fields (`anyOf`/`oneOf`) or beyond a field's type (a `pattern`).
- `require_bodies`: operations whose body may look optional (no field of it is required on its
  own) but that refuse a request without one.
- `add_links`: OpenAPI links from an operation's response to the operations that take the ids
  it returns, which the stateful fuzz follows (and client generators can use).
"""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

# The characters Python's str.strip() removes (and so DRF's trim_whitespace), spelled out:
# ECMA's `\s`, the schema's regex dialect, is not the same set.
WHITESPACE = r"\t-\r\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = rf"^[^\u0000]*[^\u0000{WHITESPACE}][^\u0000]*$"


class ApiSchema(AutoSchema):
    """drf-spectacular's AutoSchema, with the text rules every input serializer applies."""

    def _map_basic_serializer(
        self, serializer: serializers.Serializer[Any], direction: str
    ) -> dict[str, Any]:
        # drf-spectacular leaves this method unannotated (untyped_calls_exclude misses super()).
        schema: dict[str, Any] = super()._map_basic_serializer(  # type: ignore[no-untyped-call]
            serializer, direction
        )
        if direction != "request":
            return schema
        fields = getattr(serializer, "fields", {})
        for name, field_schema in schema.get("properties", {}).items():
            field = fields.get(name)
            if isinstance(field, serializers.ListField):
                _text_rules(field.child, field_schema.get("items"))
            elif isinstance(field, serializers.DictField):
                _text_rules(field.child, field_schema.get("additionalProperties"))
            else:
                _text_rules(field, field_schema)
        return schema


def _text_rules(field: object, schema: object) -> None:
    """A plain text field: no NUL, and not blank unless the field allows it. Fields with a
    format, a choice or a pattern of their own are left as they are."""
    if not isinstance(field, serializers.CharField) or not isinstance(schema, dict):
        return
    if schema.get("type") != "string" or {"format", "enum", "pattern", "oneOf"} & set(schema):
        return
    if field.allow_blank:
        schema["pattern"] = NO_NUL
        return
    schema["minLength"] = max(schema.get("minLength", 0), 1)
    schema["pattern"] = NOT_BLANK if field.trim_whitespace else NO_NUL


def apply_rules(result: dict[str, Any], rules: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge each rule into the request component of that name: `properties` field by field,
    any other key (`anyOf`, `oneOf`, `description`) as given. A rule for a component the
    schema lacks is an error: the rule would silently stop being stated."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, rule in rules.items():
        if name not in schemas:
            raise KeyError(f"No component {name!r} in the schema to state its rule on")
        component = schemas[name]
        for key, value in copy.deepcopy(rule).items():
            if key == "properties":
                for field, extra in value.items():
                    component["properties"][field].update(extra)
            else:
                component[key] = value
    return result


def _operation(result: dict[str, Any], label: str) -> dict[str, Any]:
    method, path = label.split(" ", 1)
    operation: dict[str, Any] = result["paths"][path][method.lower()]
    return operation


def require_bodies(result: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    for label in labels:
        _operation(result, label)["requestBody"]["required"] = True
    return result


def add_links(result: dict[str, Any], links: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Each link is (source "METHOD /path", status, target "METHOD /path", parameters[, body]):
    the target's parameters (and fields of its body) taken from the source's request or
    response with OpenAPI runtime expressions ("$response.body#/id",
    "$request.path.public_id")."""
    for source, status, target, parameters, *body in links:
        target_id = _operation(result, target)["operationId"]
        link: dict[str, Any] = {"operationId": target_id}
        if parameters:
            link["parameters"] = dict(parameters)
        if body:
            link["requestBody"] = dict(body[0])
        responses = _operation(result, source)["responses"]
        responses[status].setdefault("links", {})[target_id] = link
    return result
