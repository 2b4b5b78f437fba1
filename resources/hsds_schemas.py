"""The vendored HSDS 3.0 JSON Schemas (resources/hsds_schema/) as a jsonschema registry.

jsonschema (and referencing, which it brings) is a run-time dependency: `manage.py hsds_import`
validates its input here; the tests validate the API's output and the exports with it too.
jsonschema-rs (the same Draft 2020-12 rules, compiled) answers "is this valid?" about a hundred
times faster: the importer asks it first and asks jsonschema for the error messages only when
it says no (`is_valid`), since its answer decided the import's time.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent / "hsds_schema"
BASE_URI = "https://example.invalid/hsds/"


def _documents() -> list[tuple[str, dict]]:
    return [
        (BASE_URI + path.relative_to(SCHEMA_DIR).as_posix(), json.loads(path.read_text("utf-8")))
        for path in sorted(SCHEMA_DIR.rglob("*.json"))
    ]


@cache
def registry():
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    return Registry().with_resources(
        (uri, Resource(contents, specification=DRAFT202012)) for uri, contents in _documents()
    )


def validator(schema_name: str):
    """A Draft 2020-12 validator with format checks for e.g. "service.json" or
    "compiled/service_list.json"."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(
        {"$ref": BASE_URI + schema_name},
        registry=registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def errors(instance, schema_name: str) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator(schema_name).iter_errors(instance)
    ]


@cache
def fast_validator(schema_name: str):
    import jsonschema_rs

    return jsonschema_rs.Draft202012Validator(
        {"$ref": BASE_URI + schema_name},
        registry=jsonschema_rs.Registry(_documents()),
        validate_formats=True,
    )


def is_valid(instance, schema_name: str) -> bool:
    """jsonschema-rs's answer. Its format checks are at least as strict as jsonschema's, so a
    "no" is only a reason to ask `validator(...)` for the errors, which decide."""
    return fast_validator(schema_name).is_valid(instance)
