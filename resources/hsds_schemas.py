"""The vendored HSDS 3.0 JSON Schemas (resources/hsds_schema/) as a jsonschema registry.

jsonschema (and referencing, which it brings) is a run-time dependency: `manage.py hsds_import`
validates its input here; the tests validate the API's output and the exports with it too.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent / "hsds_schema"
BASE_URI = "https://example.invalid/hsds/"


@cache
def registry():
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = []
    for path in sorted(SCHEMA_DIR.rglob("*.json")):
        name = path.relative_to(SCHEMA_DIR).as_posix()
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((BASE_URI + name, Resource(contents, specification=DRAFT202012)))
    return Registry().with_resources(resources)


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
