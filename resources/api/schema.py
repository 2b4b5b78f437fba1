"""What the partner and staff referral APIs refuse beyond their fields' types, stated in the
OpenAPI schema, and the links between their operations (acs/openapi.py says why).

A drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS); change a rule here with the check
it restates (tests/acs/test_api_fuzz.py finds a rule missing here, or one that no longer holds).
"""

from __future__ import annotations

from acs.openapi import add_links, apply_rules

RULES = {
    # CapacityInput.validate; JSON Schema cannot compare two values, so this is said only.
    "CapacityInput": {"description": "`available` is at most `total`."},
}

REFERRAL = "/api/v1/referrals/{public_id}"
ACTIONS = [f"POST {REFERRAL}/{action}" for action in ("accept", "decline", "start", "complete")]
LINKS = [
    *[
        ("GET /api/v1/referrals", "200", target, {"public_id": "$response.body#/results/0/id"})
        for target in (f"GET {REFERRAL}", *ACTIONS, f"POST {REFERRAL}/notes")
    ],
    (
        "GET /api/v1/referrals",
        "200",
        "PUT /api/v1/capacity/{service_at_location_id}",
        {"service_at_location_id": "$response.body#/results/0/service_at_location_id"},
    ),
    *[
        (f"GET {REFERRAL}", "200", target, {"public_id": "$request.path.public_id"})
        for target in (*ACTIONS, f"POST {REFERRAL}/notes")
    ],
    (
        f"GET {REFERRAL}",
        "200",
        "PUT /api/v1/capacity/{service_at_location_id}",
        {"service_at_location_id": "$response.body#/service_at_location_id"},
    ),
    # Along the life cycle: accepted, then started, then completed; a note at any time.
    *[
        (source, "200", target, {"public_id": "$response.body#/id"})
        for source, target in (
            (f"POST {REFERRAL}/accept", f"POST {REFERRAL}/start"),
            (f"POST {REFERRAL}/accept", f"POST {REFERRAL}/notes"),
            (f"POST {REFERRAL}/start", f"POST {REFERRAL}/complete"),
            (f"POST {REFERRAL}/complete", f"GET {REFERRAL}"),
            (f"POST {REFERRAL}/decline", f"GET {REFERRAL}"),
        )
    ],
    *[
        (
            "POST /api/v1/field/referrals",
            status,
            "GET /api/v1/field/referrals/{public_id}",
            {"public_id": "$response.body#/id"},
        )
        for status in ("201", "200")
    ],
]


def schema_truths(result, generator, request, public):
    """drf-spectacular postprocessing hook: the rules and links above."""
    return add_links(apply_rules(result, RULES), LINKS)
