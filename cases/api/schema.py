"""What the CAD and field APIs refuse beyond their fields' types, stated in the OpenAPI schema,
and the links between their operations (acs/openapi.py says why).

A drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS). Each rule restates one check of a
serializer (cases/cad/serializers.py, cases/api/serializers.py, the field API's) or of a
service: change them together (tests/acs/test_api_fuzz.py finds a rule that is missing here, or
one that no longer holds).
"""

from __future__ import annotations

import re

from acs.openapi import NOT_BLANK, WHITESPACE, add_links, apply_rules, require_bodies
from cases import lifecycle
from cases.api.serializers import UNIT_CALL_STATUSES, UNIT_SERVICE_STATUSES
from cases.call_types import known_call_types
from cases.models import ConsentMethod, ConsentScope

NULL = {"nullable": True, "enum": [None]}


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


def _scopes_but(scope: str) -> dict:
    return {"enum": [s for s in ConsentScope.values if s != scope]}


def _trimmed(pattern: str) -> str:
    """The whole value matches `pattern` once DRF has trimmed its whitespace."""
    return f"^[{WHITESPACE}]*(?:{pattern})[{WHITESPACE}]*$"


def rules() -> dict[str, dict]:
    non_unit_events = sorted(set(lifecycle.EVENT_TYPES) - lifecycle.UNIT_EVENTS)
    return {
        "CadCallInput": {
            "properties": {
                "call_type": {
                    # CadCallInput.validate_call_type: a known code, in any case.
                    "pattern": _trimmed("|".join(_any_case(t) for t in sorted(known_call_types()))),
                    "description": "an APCO code or a local type (CAD_LOCAL_CALL_TYPES), "
                    "in any case: " + ", ".join(sorted(known_call_types())),
                },
            },
        },
        "LocationInput": {
            "description": "Both latitude and longitude, or neither.",
            "anyOf": [
                {
                    "required": ["latitude", "longitude"],
                    "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"}},
                },
                {"properties": {"latitude": NULL, "longitude": NULL}},
            ],
        },
        "CallEventInput": {
            "description": "A " + ", ".join(sorted(lifecycle.UNIT_EVENTS)) + " event names "
            "its unit. A position gives both latitude and longitude, or neither, and names "
            "its unit.",
            "properties": {
                # CallEventInput.validate_unit: a call sign (CALL_SIGN), or empty.
                "unit": {"pattern": _trimmed("[A-Za-z0-9][A-Za-z0-9-]{0,31}|")},
            },
            "allOf": [
                {
                    "anyOf": [
                        {"properties": {"type": {"enum": non_unit_events}}},
                        {"required": ["unit"], "properties": {"unit": {"pattern": NOT_BLANK}}},
                    ]
                },
                {
                    "anyOf": [
                        {
                            "required": ["latitude", "longitude"],
                            "properties": {
                                "latitude": {"type": "number"},
                                "longitude": {"type": "number"},
                            },
                        },
                        {"properties": {"latitude": NULL, "longitude": NULL}},
                    ]
                },
                {
                    "anyOf": [
                        {"properties": {"latitude": NULL}},
                        {"required": ["unit"], "properties": {"unit": {"pattern": NOT_BLANK}}},
                    ]
                },
            ],
        },
        "ResidentSearchInput": {
            "description": "Search by name, date of birth, or both.",
            "anyOf": [
                {"required": ["name"], "properties": {"name": {"pattern": NOT_BLANK}}},
                {
                    "required": ["date_of_birth"],
                    "properties": {"date_of_birth": {"type": "string", "format": "date"}},
                },
            ],
        },
        "UnitStatusInput": {
            "description": "A move on a call (" + ", ".join(UNIT_CALL_STATUSES) + ") names "
            "the call; a move between calls (" + ", ".join(UNIT_SERVICE_STATUSES) + ") does not "
            "and cannot be undone; `undoes` takes back the unit's last move on the call.",
            "oneOf": [
                {
                    "required": ["call"],
                    "properties": {
                        "status": {"enum": list(UNIT_CALL_STATUSES)},
                        "call": {"type": "string", "format": "uuid"},
                    },
                },
                {
                    # Only a move on a call can be undone.
                    "properties": {
                        "status": {"enum": list(UNIT_SERVICE_STATUSES)},
                        "call": NULL,
                        "undoes": NULL,
                    }
                },
                {
                    # Undoing the first move after dispatch returns the unit to it.
                    "required": ["call", "undoes"],
                    "properties": {
                        "status": {"enum": ["dispatched"]},
                        "call": {"type": "string", "format": "uuid"},
                        "undoes": {"type": "string", "format": "uuid"},
                    },
                },
            ],
        },
        "ConsentInput": {
            # cases.services.consent_record
            "description": "A share_named_partner consent names its partner (`organization`) "
            "and no other scope does; substance_use (42 CFR Part 2) is recorded only in "
            "writing; `expires_at`, when given, is in the future.",
            "allOf": [
                {
                    "oneOf": [
                        {
                            "required": ["organization"],
                            "properties": {
                                "scope": {"enum": [ConsentScope.SHARE_NAMED_PARTNER]},
                                "organization": {"type": "string", "format": "uuid"},
                            },
                        },
                        {
                            "properties": {
                                "scope": _scopes_but(ConsentScope.SHARE_NAMED_PARTNER),
                                "organization": NULL,
                            }
                        },
                    ]
                },
                {
                    "anyOf": [
                        {"properties": {"method": {"enum": [ConsentMethod.WRITTEN]}}},
                        {"properties": {"scope": _scopes_but(ConsentScope.SUBSTANCE_USE)}},
                    ]
                },
            ],
        },
    }


# (source, status, target, the target's parameters[, fields of its body]): where an
# operation's ids lead.
RESIDENT = ENCOUNTER = {"public_id": "$response.body#/id"}
CAD_CALL = "PUT /api/v1/cad/calls/{incident_number}"
CAD_EVENTS = "POST /api/v1/cad/calls/{incident_number}/events"
LINKS = [
    *[
        ("POST /api/v1/field/residents", status, target, RESIDENT)
        for status in ("201", "200")
        for target in (
            "GET /api/v1/field/residents/{public_id}",
            "PATCH /api/v1/field/residents/{public_id}",
            "GET /api/v1/field/residents/{public_id}/consents",
            "POST /api/v1/field/residents/{public_id}/consents",
        )
    ],
    (
        "POST /api/v1/field/residents/{public_id}/consents",
        "201",
        "POST /api/v1/field/residents/{public_id}/consents/{consent_id}/revoke",
        {"public_id": "$request.path.public_id", "consent_id": "$response.body#/id"},
    ),
    (
        "GET /api/v1/field/residents/{public_id}/consents",
        "200",
        "POST /api/v1/field/residents/{public_id}/consents/{consent_id}/revoke",
        {"public_id": "$request.path.public_id", "consent_id": "$response.body#/results/0/id"},
    ),
    *[
        (
            "POST /api/v1/field/residents/search",
            "200",
            target,
            {"public_id": "$response.body#/results/0/id"},
        )
        for target in (
            "GET /api/v1/field/residents/{public_id}",
            "PATCH /api/v1/field/residents/{public_id}",
            "POST /api/v1/field/residents/{public_id}/consents",
        )
    ],
    *[
        ("GET /api/v1/field/residents/{public_id}", "200", target, RESIDENT)
        for target in (
            "GET /api/v1/field/residents/{public_id}/consents",
            "POST /api/v1/field/residents/{public_id}/consents",
        )
    ],
    *[
        ("POST /api/v1/field/encounters", status, target, ENCOUNTER)
        for status in ("201", "200")
        for target in (
            "GET /api/v1/field/encounters/{public_id}",
            "PATCH /api/v1/field/encounters/{public_id}",
            "POST /api/v1/field/encounters/{public_id}/submit",
            "POST /api/v1/field/encounters/{public_id}/addenda",
        )
    ],
    *[
        ("POST /api/v1/field/encounters/{public_id}/submit", "200", target, ENCOUNTER)
        for target in (
            "GET /api/v1/field/encounters/{public_id}",
            "POST /api/v1/field/encounters/{public_id}/addenda",
        )
    ],
    (
        "GET /api/v1/field/encounters/{public_id}",
        "200",
        "GET /api/v1/field/residents/{public_id}",
        {"public_id": "$response.body#/residents/0"},
    ),
    (
        "GET /api/v1/field/encounters/{public_id}",
        "200",
        "GET /api/v1/field/referrals/{public_id}",
        {"public_id": "$response.body#/referrals/0/id"},
    ),
    *[
        (source, status, "POST /api/v1/field/encounters/{public_id}/follow-ups", ENCOUNTER, body)
        for source, status in (
            ("POST /api/v1/field/encounters", "201"),
            ("POST /api/v1/field/encounters", "200"),
            ("GET /api/v1/field/encounters/{public_id}", "200"),
        )
        for body in [{"resident": "$response.body#/residents/0"}]
    ],
    (
        "GET /api/v1/field/calls",
        "200",
        "POST /api/v1/field/units/{call_sign}/status",
        {"call_sign": "$response.body#/results/0/units/0/unit"},
        {"call": "$response.body#/results/0/id"},
    ),
    # An encounter logged on one of my calls, by my unit on it.
    (
        "GET /api/v1/field/calls",
        "200",
        "POST /api/v1/field/encounters",
        {},
        {"unit": "$response.body#/results/0/units/0/unit", "call": "$response.body#/results/0/id"},
    ),
    # A call, and its events: by the incident number the last request named.
    *[
        (source, status, target, {"incident_number": "$request.path.incident_number"})
        for source in (CAD_CALL, CAD_EVENTS)
        for status in ("201", "200")
        for target in (CAD_CALL, CAD_EVENTS)
    ],
]


# No field of a search is required alone, but a search names something (ResidentSearchInput).
BODY_REQUIRED = ["POST /api/v1/field/residents/search"]


def schema_truths(result, generator, request, public):
    """drf-spectacular postprocessing hook: the rules and links above."""
    return add_links(require_bodies(apply_rules(result, rules()), BODY_REQUIRED), LINKS)
