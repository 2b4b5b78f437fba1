"""What each published figure means, in words a resident would understand.

The public page links every chart to its definition here (rendered at
/transparency/definitions/); docs/metrics.md states the same definitions with the SQL's
details, and a test keeps the two lists of metrics in step. The computation is in
`cases.services.transparency`, the small-cell rule in `cases.transparency.suppression`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext

from cases.call_types import APCO_CALL_TYPES, known_call_types
from cases.models import CallSource, Disposition, Metric

# Below this many people (or records), a figure is shown as "fewer than 10".
SMALL_CELL = 10
SUPPRESSED_TEXT = "fewer than 10"


class Kind(StrEnum):
    COUNT = "count"  # a number of calls, encounters or people
    BREAKDOWN = "breakdown"  # a count split into parts that add up to a total
    SHARE = "share"  # count / denominator, shown as a percentage
    DURATION = "duration"  # median and 90th percentile, in seconds


@dataclass(frozen=True)
class MetricDef:
    key: str
    kind: Kind
    title: str
    question: str  # the one line under the chart's title
    unit: str  # what the count counts: calls, encounters, people, referrals, follow-ups
    counts: str  # numerator (or what is measured)
    timestamps: str
    excluded: str
    denominator: str = ""
    # A breakdown's parts add up to this figure: (metric, dimension).
    total: tuple[str, str] | None = None
    # The parts' labels, known in advance (parts missing from the data are zero).
    dimensions: tuple[tuple[str, str], ...] = field(default=())
    # Parts named in free text (transport destinations): a part is named in public only
    # where some month shows it with 10 or more; the rest are "Other destinations".
    free_text: bool = False
    # An equity breakdown (cases/transparency/equity.py): parts are "figure:group".
    equity: bool = False

    @property
    def anchor(self) -> str:
        return self.key.replace("_", "-")


HOURS = tuple((f"{h:02d}", f"{(h % 12) or 12} {'am' if h < 12 else 'pm'}") for h in range(24))
CALL_OUTCOMES = (
    ("attended", "A responder arrived"),
    ("cancelled", "Cancelled before a responder arrived"),
    ("returned_to_police", "Returned to police: no responder was free"),
    ("open", "Still waiting or on the way"),
)
OTHER_DESTINATIONS = ("other", "Other destinations")
NOT_RECORDED = "Not recorded"


def call_type_dimensions() -> tuple[tuple[str, str], ...]:
    return tuple(
        (code, APCO_CALL_TYPES.get(code, code.title())) for code in sorted(known_call_types())
    )


_CALL_MONTH = "The month (Albuquerque time) in which the call was received (`received_at`)."
_ENCOUNTER_MONTH = (
    "The month in which the encounter took place (`occurred_at`); the district is that of the "
    'encounter\'s call (encounters without a call are under "Not recorded").'
)
_RESPONSE_EXCLUDED = (
    "Self-initiated calls (the responder was already there), and calls where one of the two "
    "times is missing or the later one is earlier. Cancelled calls count only up to the step "
    "they reached."
)


def _defs() -> tuple[MetricDef, ...]:
    M = Metric
    return (
        MetricDef(
            key=M.CALLS_RECEIVED,
            kind=Kind.COUNT,
            title="Calls received",
            question="How many calls the department received.",
            unit="calls",
            counts="Every call received from CAD, whatever became of it (cancelled calls too).",
            timestamps=_CALL_MONTH,
            excluded="Nothing.",
        ),
        MetricDef(
            key=M.CALLS_BY_SOURCE,
            kind=Kind.BREAKDOWN,
            title="Calls by source",
            question="Where calls came from: 911, 311, police officers, responders themselves...",
            unit="calls",
            counts="Calls received, by the source CAD gave.",
            timestamps=_CALL_MONTH,
            excluded="Nothing: the parts add up to the calls received.",
            total=(M.CALLS_RECEIVED, ""),
            dimensions=tuple((s.value, s.label) for s in CallSource),
        ),
        MetricDef(
            key=M.CALLS_BY_TYPE,
            kind=Kind.BREAKDOWN,
            title="Calls by type",
            question="What the calls were about.",
            unit="calls",
            counts="Calls received, by CAD call type (APCO common codes and local types).",
            timestamps=_CALL_MONTH,
            excluded="Nothing: the parts add up to the calls received.",
            total=(M.CALLS_RECEIVED, ""),
        ),
        MetricDef(
            key=M.CALLS_BY_HOUR,
            kind=Kind.BREAKDOWN,
            title="Calls by hour of day",
            question="When in the day calls come in.",
            unit="calls",
            counts="Calls received, by the hour (Albuquerque time) of `received_at`.",
            timestamps=_CALL_MONTH,
            excluded="Nothing: the parts add up to the calls received.",
            total=(M.CALLS_RECEIVED, ""),
            dimensions=HOURS,
        ),
        MetricDef(
            key=M.CALL_OUTCOMES,
            kind=Kind.BREAKDOWN,
            title="Pending, returned and cancelled calls",
            question="Whether a responder got there, or the call was cancelled or went back "
            "to police because no responder was free.",
            unit="calls",
            counts="Calls received, each in one part: a responder arrived (`on_scene_at`); "
            "else cancelled (`cancelled_at`); else returned to police (`returned_to_police_at`); "
            "else still open (pending or on the way when the figures were refreshed).",
            timestamps=_CALL_MONTH,
            excluded="Nothing: the parts add up to the calls received.",
            total=(M.CALLS_RECEIVED, ""),
            dimensions=CALL_OUTCOMES,
        ),
        MetricDef(
            key=M.HANDLED_WITHOUT_POLICE,
            kind=Kind.SHARE,
            title="Handled without police",
            question="Of the calls the department took on, the share it handled without police.",
            unit="calls",
            counts="Calls a responder reached (`on_scene_at`) where no submitted encounter "
            "of the call asked for police (`police_requested`).",
            denominator="Calls a responder reached, plus calls returned to police.",
            timestamps=_CALL_MONTH,
            excluded="Cancelled calls and calls still open.",
        ),
        MetricDef(
            key=M.ESCALATED,
            kind=Kind.SHARE,
            title="Escalations",
            question="Of the calls a responder reached, the share where police, EMS or fire "
            "had to be called in.",
            unit="calls",
            counts="Calls a responder reached that were escalated (`escalated_at`).",
            denominator="Calls a responder reached (`on_scene_at`).",
            timestamps=_CALL_MONTH,
            excluded="Calls no responder reached.",
        ),
        MetricDef(
            key=M.RESPONSE_TIME,
            kind=Kind.DURATION,
            title="Response time",
            question="From the call coming in to the first responder arriving: half of calls "
            "were faster than the median, nine in ten faster than the 90th percentile.",
            unit="calls",
            counts="Per call, `on_scene_at` minus `received_at`; the first unit to arrive counts "
            "when several were sent. Median and 90th percentile (`percentile_cont`).",
            timestamps=_CALL_MONTH,
            excluded=_RESPONSE_EXCLUDED,
        ),
        MetricDef(
            key=M.QUEUE_TIME,
            kind=Kind.DURATION,
            title="Queue time",
            question="How long calls waited for a responder to be sent.",
            unit="calls",
            counts="Per call, `dispatched_at` minus `received_at` (the first dispatch). Median and "
            "90th percentile.",
            timestamps=_CALL_MONTH,
            excluded=_RESPONSE_EXCLUDED,
        ),
        MetricDef(
            key=M.TRAVEL_TIME,
            kind=Kind.DURATION,
            title="Travel time",
            question="How long responders took to get there once sent.",
            unit="calls",
            counts="Per call, `on_scene_at` minus `dispatched_at`: from the first dispatch to the "
            "first arrival, whichever units they were. Median and 90th percentile.",
            timestamps=_CALL_MONTH,
            excluded=_RESPONSE_EXCLUDED,
        ),
        MetricDef(
            key=M.TIME_ON_SCENE,
            kind=Kind.DURATION,
            title="Time on scene",
            question="How long responders spent with people.",
            unit="calls",
            counts="Per call, from `on_scene_at` to the start of a transport "
            "(`transporting_at`) or, without one, to `cleared_at`. Median and 90th percentile.",
            timestamps=_CALL_MONTH,
            excluded="Calls not yet cleared, and calls reopened after clearing (their clear "
            "time is the last one).",
        ),
        MetricDef(
            key=M.ENCOUNTERS,
            kind=Kind.COUNT,
            title="Encounters",
            question="How many times responders met people and wrote it up.",
            unit="encounters",
            counts="Submitted encounters.",
            timestamps=_ENCOUNTER_MONTH,
            excluded="Drafts.",
        ),
        MetricDef(
            key=M.DISPOSITIONS,
            kind=Kind.BREAKDOWN,
            title="What happened on scene",
            question="How encounters ended (APCO disposition codes).",
            unit="encounters",
            counts="Submitted encounters, by disposition.",
            timestamps=_ENCOUNTER_MONTH,
            excluded="Drafts. The parts add up to the encounters.",
            total=(M.ENCOUNTERS, ""),
            dimensions=tuple((d.value, d.label) for d in Disposition),
        ),
        MetricDef(
            key=M.TRANSPORTS_BY_DESTINATION,
            kind=Kind.BREAKDOWN,
            title="Transports by destination",
            question="Where responders took people.",
            unit="encounters",
            counts='Submitted encounters with the disposition "transported", by '
            "`transport_destination` (spaces tidied, capitalised).",
            timestamps=_ENCOUNTER_MONTH,
            excluded="Drafts. A destination under 10 transports in every month shown is "
            'grouped under "Other destinations" on the public page.',
            total=(M.DISPOSITIONS, Disposition.TRANSPORTED.value),
            free_text=True,
        ),
        MetricDef(
            key=M.PEOPLE_SERVED,
            kind=Kind.COUNT,
            title="People served",
            question="How many different people responders met.",
            unit="people",
            counts="Distinct residents in submitted encounters, plus every person met who gave "
            "no name (`anonymous_people`, counted once per encounter).",
            timestamps=_ENCOUNTER_MONTH,
            excluded="Drafts. A person met in two districts counts in each, and once in all.",
        ),
        MetricDef(
            key=M.REPEAT_CONTACTS,
            kind=Kind.SHARE,
            title="People met before",
            question="Of the named people met this month, the share responders had met before.",
            unit="people",
            counts="Named residents met whose first submitted encounter was before the month.",
            denominator="Named residents met in the month.",
            timestamps=_ENCOUNTER_MONTH,
            excluded="People who gave no name (they cannot be recognised again).",
        ),
        MetricDef(
            key=M.PEOPLE_REFERRED,
            kind=Kind.SHARE,
            title="People referred",
            question="Of the named people met, the share referred to a partner service.",
            unit="people",
            counts="Named residents met with a referral sent (`sent_at`) from that encounter "
            "or from its follow-up.",
            denominator="Named residents met in the month.",
            timestamps=_ENCOUNTER_MONTH + " Later referrals still count for that month.",
            excluded="People who gave no name (a referral needs one); drafts.",
        ),
        MetricDef(
            key=M.PEOPLE_CONNECTED,
            kind=Kind.SHARE,
            title="People connected to a service",
            question="Of the named people met, the share who got the service: the partner "
            "reported them enrolled or served, or follow-up found them connected.",
            unit="people",
            counts="Named residents met with a completed referral (status `completed`) from "
            "that encounter or its follow-up, or a follow-up closed as `connected`.",
            denominator="Named residents met in the month.",
            timestamps=_ENCOUNTER_MONTH + " Recent months rise as connections complete.",
            excluded="People who gave no name.",
        ),
        MetricDef(
            key=M.REFERRALS_ACCEPTED_30D,
            kind=Kind.SHARE,
            title="Referrals accepted within 30 days",
            question="Of the referrals sent, the share a partner accepted within 30 days.",
            unit="referrals",
            counts="Referrals whose `accepted` event came at most 30 days after `sent_at`.",
            denominator="Referrals sent in the month.",
            timestamps="The month in which the referral was sent (`sent_at`); the district is "
            "that of its encounter's call. The last month's figures are provisional.",
            excluded="Drafts and referrals cancelled before sending.",
        ),
        MetricDef(
            key=M.REFERRALS_COMPLETED_30D,
            kind=Kind.SHARE,
            title="Referrals completed within 30 days",
            question="Of the referrals sent, the share where the person got the service "
            "within 30 days.",
            unit="referrals",
            counts="Referrals with status `completed` (outcome enrolled or service received) "
            "whose `closed_at` is at most 30 days after `sent_at`.",
            denominator="Referrals sent in the month.",
            timestamps="As for referrals accepted.",
            excluded="Drafts and referrals cancelled before sending.",
        ),
        MetricDef(
            key=M.FOLLOW_UP_WITHIN_48H,
            kind=Kind.SHARE,
            title="Follow-up within 48 hours",
            question="Of the people due a follow-up after an encounter, the share a case "
            "manager tried to reach within 48 hours.",
            unit="follow-ups",
            counts="Follow-ups of an encounter with a contact attempt (`at`) at most 48 hours "
            "after the encounter's `occurred_at`.",
            denominator="Follow-ups created for a submitted encounter.",
            timestamps=_ENCOUNTER_MONTH,
            excluded="Follow-ups created by a referral event rather than an encounter, and "
            "encounters less than 48 hours old when the figures were refreshed.",
        ),
        # --- issue 21: coverage, police, holds, frequent contact, time to a service ---------
        MetricDef(
            key=M.COVERAGE,
            kind=Kind.SHARE,
            title="Coverage of eligible calls",
            question="Of the calls eligible for an ACS response, the share ACS responded to.",
            unit="calls",
            counts="Eligible calls that CAD sent to ACS (no `routed_to`) and a responder "
            "reached (`on_scene_at`).",
            denominator="Eligible calls: those CAD flagged `acs_eligible`, or, without a flag, "
            "whose call type (and source and priority, where the rule names them) matches an "
            "active eligibility rule; calls CAD routed to police, fire or no one included.",
            timestamps=_CALL_MONTH,
            excluded="Calls CAD flagged not eligible (`acs_eligible` false) and calls no rule "
            "matches. The rules in force at the refresh apply to every month.",
        ),
        MetricDef(
            key=M.POLICE_INVOLVEMENT,
            kind=Kind.SHARE,
            title="Police involvement",
            question="Of the calls a responder reached, the share where police were "
            "requested or present.",
            unit="calls",
            counts="Calls a responder reached where a submitted encounter asked for police "
            "(`police_requested`), or that police asked ACS to take (source "
            "`police_request`: officers were there).",
            denominator="Calls a responder reached (`on_scene_at`).",
            timestamps=_CALL_MONTH,
            excluded="Calls no responder reached; calls CAD routed elsewhere.",
        ),
        MetricDef(
            key=M.INVOLUNTARY_HOLDS,
            kind=Kind.SHARE,
            title="Involuntary holds and emergency evaluations",
            question="Of the encounters, the share where responders initiated an involuntary "
            "hold or emergency mental-health evaluation.",
            unit="encounters",
            counts="Submitted encounters whose field form records an involuntary hold or "
            "emergency evaluation (`involuntary_hold`).",
            denominator="Submitted encounters.",
            timestamps=_ENCOUNTER_MONTH,
            excluded="Drafts. Encounters written before the flag existed count as without one.",
        ),
        MetricDef(
            key=M.FREQUENT_CONTACTS,
            kind=Kind.SHARE,
            title="People met 3 or more times in 90 days",
            question="Of the named people met, the share met at least three times within 90 "
            "days: people the system keeps meeting.",
            unit="people",
            counts="Named residents with an encounter in the month that was their third "
            "(or later) submitted encounter within 90 days (that one and the 90 days before).",
            denominator="Named residents met in the month.",
            timestamps=_ENCOUNTER_MONTH,
            excluded="People who gave no name; drafts.",
        ),
        MetricDef(
            key=M.FREQUENT_CONTACT_ENCOUNTERS,
            kind=Kind.SHARE,
            title="Encounters with people met 3 or more times in 90 days",
            question="Of the encounters with a named person, the share that involved someone "
            "met 3 or more times in 90 days.",
            unit="encounters",
            counts="Encounters in the month with a named resident counted in "
            "`frequent_contacts` for that month.",
            denominator="Encounters in the month with at least one named resident.",
            timestamps=_ENCOUNTER_MONTH,
            excluded="Encounters with only people who gave no name; drafts.",
        ),
        MetricDef(
            key=M.TIME_TO_REFERRAL,
            kind=Kind.DURATION,
            title="Time to first completed referral",
            question="From meeting someone to the first referral that got them the service: "
            "half were faster than the median.",
            unit="people met",
            counts="Per named resident and encounter with a completed referral (status "
            "`completed`) from that encounter or its follow-up: the earliest `closed_at` "
            "minus the encounter's `occurred_at`. Median and 90th percentile.",
            timestamps=_ENCOUNTER_MONTH + " Recent months rise as referrals complete.",
            excluded="People with no completed referral from the encounter; people who gave "
            "no name.",
        ),
        *(
            MetricDef(
                key=key,
                kind=Kind.SHARE,
                title=f"People-based figures by {axis}",
                question=f"Who is served, referred, connected, followed up within 48 hours, "
                f"transported and met with police involvement, by {axis}.",
                unit="people",
                counts="Named residents met in the month (submitted encounters), in each group: "
                "served (a share of all named people served), referred, connected, "
                "transported (an encounter with the disposition transported), police "
                "involvement (an encounter that asked for police, or a police request), each "
                "a share of the group's people served; follow-up within 48 hours, a share of "
                "the group's people with a follow-up due (an attempt within 48 hours).",
                denominator="As each figure says: named people served (all, or the group's), "
                "or the group's people with a follow-up due.",
                timestamps=_ENCOUNTER_MONTH,
                excluded="People who gave no name (nothing is known of them). "
                + {
                    "equity_race": "Race and ethnicity as the person gave them, read into "
                    "HUD's categories (as the HMIS export does); a person who named several "
                    "counts in each, so groups add up to more than the total; nothing "
                    'recognised is "Not recorded".',
                    "equity_age": "Age in whole years at the start of the month, from the "
                    'date of birth; none recorded is "Age unknown".',
                    "equity_language": "The preferred language recorded for the person.",
                }[key],
                equity=True,
            )
            for key, axis in (
                (M.EQUITY_RACE, "race and ethnicity"),
                (M.EQUITY_AGE, "age band"),
                (M.EQUITY_LANGUAGE, "preferred language"),
            )
        ),
    )


METRICS: dict[str, MetricDef] = {m.key: m for m in _defs()}


def dimensions_of(metric: MetricDef) -> tuple[tuple[str, str], ...]:
    if metric.key == Metric.CALLS_BY_TYPE:
        return call_type_dimensions()
    return metric.dimensions


def district_label(district: str) -> str:
    if district == "*":
        return gettext("All districts")
    if not district:
        return gettext(NOT_RECORDED)
    return gettext("District %(number)s") % {"number": district} if district.isdigit() else district
