"""Records named as desk staff speak of them: "Sunny (Maria Lopez), b. 1984-03-02", "Medicaid
enrollment at Bernalillo Health — Maria Lopez", "Call 26-004512, unit CT-3, 5 Dec 08:47".

For screens only. The models' `__str__` stays opaque ("Resident a21ff057"), because it is what
gets stored: the admin's LogEntry.object_repr, log lines, error reports. A screen that names a
record calls these helpers explicitly, after fetching it through a scoped selector (the admin
lists, the dashboard); `staff_label(obj, user)` also checks that the user may see residents at
all, and falls back to the opaque name otherwise.

Times are local (America/Denver). Every helper reads only the row and the relations a caller
selects with it (`LABEL_RELATIONS`): no queries of its own.
"""

from __future__ import annotations

import contextlib
import re

from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

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


# What a label may hold that must not break across lines: a date of birth ("1984-03-02") and
# a moment ("5 Dec 08:47", "5 Dec 2025 08:47").
_UNBROKEN = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2} [A-Z][a-z]{2}(?: \d{4})? \d{2}:\d{2}")


def unbroken(text: str) -> SafeString:
    """`text` escaped, its dates and moments kept whole on one line (a date of birth wrapped
    at its hyphen reads as two numbers)."""
    escaped = str(conditional_escape(text))
    return mark_safe(  # noqa: S308 - escaped above; the spans wrap digits and month names only
        _UNBROKEN.sub(lambda m: f'<span class="nowrap">{m.group(0)}</span>', escaped)
    )


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


def message_label(obj) -> str:
    """A row named in a flash message (kept in a cookie until shown): what it is and when,
    never whose. Residents keep the opaque name there."""
    kind = obj._meta.label_lower
    if kind == "cases.followup":
        return f"{obj.get_kind_display()} due {when(obj.due_at)}"
    if kind == "resources.referral":
        return f"{obj.service.name} at {obj.organization.name}"
    if kind == "cases.encounter":
        return encounter_label(obj)
    if kind == "cases.addendum":
        return addendum_label(obj)
    return str(obj)


LABELS = {
    "cases.resident": resident_label,
    "cases.encounter": encounter_label,
    "cases.addendum": addendum_label,
    "cases.followup": follow_up_label,
    "resources.referral": referral_label,
}


def may_name_residents(user) -> bool:
    """Whether `user` may see residents' names on desk screens: the roles that see every
    resident (acs.roles.STAFF_ROLES). Everyone else gets the opaque names."""
    from cases.selectors import sees_all_residents

    # Asked for every row of a list: the answer is kept on the user object (one per request).
    cached = getattr(user, "_may_name_residents", None)
    if cached is None:
        cached = sees_all_residents(user)
        # None and the like take no attributes: asked again next time.
        with contextlib.suppress(AttributeError):
            user._may_name_residents = cached
    return cached


def staff_label(obj, user) -> str:
    """`obj` named for `user`: the label above when they may see residents, else str(obj)."""
    label = LABELS.get(obj._meta.label_lower)
    if label is None or not may_name_residents(user):
        return str(obj)
    return label(obj)
