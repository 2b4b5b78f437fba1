"""Scoring rules, named by a form definition (`FormDefinition.scoring`).

A rule reads the cleaned answers ({linkId: value}) and returns the risk level and a detail
that says which rule of the table decided it (no personal data: linkIds and rule names).
"""

from __future__ import annotations

from typing import Any

from cases.models.encounters import RiskLevel

# The C-SSRS screener's triage points (Columbia Lighthouse Project, screen version with
# triage, "recent"): each item, when answered yes, and the risk it indicates. docs/screening.md
# keeps the same table with its source.
#   1 wish to be dead (past month)                         low
#   2 non-specific active suicidal thoughts (past month)   low
#   3 active ideation with a method, no intent             moderate
#   4 active ideation with some intent to act, no plan     high
#   5 active ideation with a specific plan and intent      high
#   6 suicidal behaviour, lifetime, more than 3 months ago moderate
#   6 and 6a: suicidal behaviour within the past 3 months  high
# No item answered yes: no risk identified by the screen, recorded as low (the encounter's
# scale has no "none": "not screened" would say the screen was not done).
CSSRS_ITEMS = {
    "cssrs-1": RiskLevel.LOW,
    "cssrs-2": RiskLevel.LOW,
    "cssrs-3": RiskLevel.MODERATE,
    "cssrs-4": RiskLevel.HIGH,
    "cssrs-5": RiskLevel.HIGH,
    "cssrs-6": RiskLevel.MODERATE,
    "cssrs-6a": RiskLevel.HIGH,
}
ORDER = [RiskLevel.NOT_SCREENED, RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH]


def risk_max(*levels: str) -> str:
    """The highest of these risk levels."""
    return max(levels, key=lambda level: ORDER.index(RiskLevel(level)) if level else -1)


def cssrs_screener(answers: dict[str, Any]) -> tuple[str, dict]:
    endorsed = [link for link in CSSRS_ITEMS if answers.get(link) is True]
    if not endorsed:
        return RiskLevel.LOW.value, {"rule": "cssrs_none_endorsed", "endorsed": []}
    level = risk_max(*(CSSRS_ITEMS[link].value for link in endorsed))
    deciding = [link for link in endorsed if CSSRS_ITEMS[link].value == level]
    return level, {"rule": "cssrs_triage", "endorsed": endorsed, "deciding": deciding}


RULES = {"cssrs_screener": cssrs_screener}


def score(rule: str, answers: dict[str, Any]) -> tuple[str, dict]:
    """("", {}) for a form without a scoring rule."""
    if not rule:
        return "", {}
    return RULES[rule](answers)
