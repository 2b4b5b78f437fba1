"""How the public transparency page lays out the metrics (cases/transparency/definitions.py): its
sections, and the figures the district map offers."""

from __future__ import annotations

from dataclasses import dataclass

from cases.models import Metric


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    metrics: tuple[str, ...]
    # Shown by district (one row per district) when the page covers all districts.
    by_district: tuple[str, ...] = ()


SECTIONS = (
    Section(
        "coverage",
        "Coverage, police and holds",
        (Metric.COVERAGE, Metric.POLICE_INVOLVEMENT, Metric.INVOLUNTARY_HOLDS),
        by_district=(Metric.COVERAGE, Metric.POLICE_INVOLVEMENT),
    ),
    Section(
        "calls",
        "Calls",
        (
            Metric.CALLS_RECEIVED,
            Metric.CALLS_BY_SOURCE,
            Metric.CALLS_BY_TYPE,
            Metric.CALLS_BY_HOUR,
            Metric.CALL_OUTCOMES,
        ),
        by_district=(Metric.CALLS_RECEIVED,),
    ),
    Section(
        "response",
        "How fast responders arrive",
        (Metric.RESPONSE_TIME, Metric.QUEUE_TIME, Metric.TRAVEL_TIME, Metric.TIME_ON_SCENE),
        by_district=(Metric.RESPONSE_TIME,),
    ),
    Section(
        "police",
        "Handled without police",
        (Metric.HANDLED_WITHOUT_POLICE, Metric.ESCALATED),
        by_district=(Metric.HANDLED_WITHOUT_POLICE,),
    ),
    Section(
        "scene",
        "What happened on scene",
        (Metric.ENCOUNTERS, Metric.DISPOSITIONS, Metric.TRANSPORTS_BY_DESTINATION),
    ),
    Section(
        "people",
        "People served, referred and connected",
        (
            Metric.PEOPLE_SERVED,
            Metric.REPEAT_CONTACTS,
            Metric.PEOPLE_REFERRED,
            Metric.PEOPLE_CONNECTED,
            Metric.REFERRALS_ACCEPTED_30D,
            Metric.REFERRALS_COMPLETED_30D,
            Metric.FREQUENT_CONTACTS,
            Metric.FREQUENT_CONTACT_ENCOUNTERS,
            Metric.TIME_TO_REFERRAL,
        ),
    ),
    Section("follow-up", "Follow-up", (Metric.FOLLOW_UP_WITHIN_48H,)),
    Section(
        "equity",
        "Equity: who is served, referred and connected",
        (Metric.EQUITY_RACE, Metric.EQUITY_AGE, Metric.EQUITY_LANGUAGE),
    ),
)


# The figures the district map offers (one value per district and month), the first the
# default: what the field asks first.
MAPPABLE = (
    Metric.COVERAGE,
    Metric.POLICE_INVOLVEMENT,
    Metric.HANDLED_WITHOUT_POLICE,
    Metric.INVOLUNTARY_HOLDS,
    Metric.CALLS_RECEIVED,
    Metric.PEOPLE_SERVED,
)
