"""Records named as desk staff speak of them: "Sunny (Maria Lopez), b. 1984-03-02", "Medicaid
enrollment at Bernalillo Health — Maria Lopez", "Call 26-004512, unit CT-3, 5 Dec 08:47".

For screens only. The models' `__str__` stays opaque ("Resident a21ff057"), because it is what
gets stored: the admin's LogEntry.object_repr, log lines, error reports. A screen that names a
record calls these helpers explicitly, after fetching it through a scoped selector (the admin
lists, the dashboard), through `acs.record_labels.staff_label(obj, user)` (these labels are
registered there by `register_labels`), which also checks that the user may see residents at
all, and falls back to the opaque name otherwise.

Times are local (America/Denver). Every helper reads only the row and the relations a caller
selects with it (`LABEL_RELATIONS`): no queries of its own.
"""

from __future__ import annotations

from django.utils import timezone

from acs import record_labels
from acs.local_times import day, local_time, when

__all__ = ["day", "local_time", "when"]  # the desk's time format, named here too

# What each label reads, for select_related on the querysets that list them.
LABEL_RELATIONS = {
    "cases.resident": (),
    "cases.encounter": ("unit", "call"),
    "cases.addendum": ("encounter__unit", "encounter__call", "author"),
    "cases.followup": ("resident",),
    "resources.referral": ("service", "organization", "resident"),
}


def resident_name(resident) -> str:
    """The name to speak of them by: the preferred name, else the legal one, else unnamed."""
    return resident.preferred_name or resident.legal_name or "unnamed resident"


def resident_label(resident) -> str:
    """Preferred name, legal name, date of birth where known:
    "Sunny (Maria Lopez), b. 1984-03-02"; "Maria Lopez, b. 1984-03-02";
    nothing known: "Unnamed resident, added 2026-11-02"."""
    preferred, legal = resident.preferred_name.strip(), resident.legal_name.strip()
    if preferred and legal and preferred.casefold() != legal.casefold():
        name = f"{preferred} ({legal})"
    else:
        name = preferred or legal
    born = resident.date_of_birth
    if born is not None:
        approximate = resident.dob_quality == "approximate"
        born_text = f"b. about {born.year}" if approximate else f"b. {born:%Y-%m-%d}"
        return f"{name}, {born_text}" if name else f"Unnamed resident, {born_text}"
    if name:
        return name
    if resident.deidentified_at:
        return f"De-identified resident, added {timezone.localtime(resident.created_at):%Y-%m-%d}"
    return f"Unnamed resident, added {timezone.localtime(resident.created_at):%Y-%m-%d}"


def encounter_label(encounter) -> str:
    """ "Call 26-004512, unit CT-3, 5 Dec 08:47" (self-initiated: "Self-initiated, unit ...")."""
    call = f"Call {encounter.call.incident_number}" if encounter.call_id else "Self-initiated"
    return f"{call}, unit {encounter.unit.call_sign}, {when(encounter.occurred_at)}"


def addendum_label(addendum) -> str:
    """ "Addendum by jdoe to call 26-004512, unit CT-3, 5 Dec 08:47"."""
    encounter = encounter_label(addendum.encounter)
    return f"Addendum by {addendum.author.get_username()} to {encounter[0].lower()}{encounter[1:]}"


def follow_up_label(follow_up) -> str:
    """ "Phone call due 6 Dec 09:00 — Maria Lopez"."""
    return (
        f"{follow_up.get_kind_display()} due {when(follow_up.due_at)} — "
        f"{resident_name(follow_up.resident)}"
    )


def referral_label(referral) -> str:
    """ "Medicaid enrollment at Bernalillo Health — Maria Lopez"."""
    return (
        f"{referral.service.name} at {referral.organization.name} — "
        f"{resident_name(referral.resident)}"
    )


def _follow_up_message(follow_up) -> str:
    return f"{follow_up.get_kind_display()} due {when(follow_up.due_at)}"


def _referral_message(referral) -> str:
    return f"{referral.service.name} at {referral.organization.name}"


def register_labels() -> None:
    """How the desk names these records (acs/record_labels.py); from CasesConfig.ready."""
    record_labels.register("cases.resident", staff=resident_label)
    record_labels.register("cases.encounter", staff=encounter_label, message=encounter_label)
    record_labels.register("cases.addendum", staff=addendum_label, message=addendum_label)
    record_labels.register("cases.followup", staff=follow_up_label, message=_follow_up_message)
    record_labels.register("resources.referral", staff=referral_label, message=_referral_message)
