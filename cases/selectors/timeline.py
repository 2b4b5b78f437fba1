"""A resident's timeline for the desk (the resident page, cases/admin/resident_page.py): everything
that happened to them, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from django.db.models import Q

from cases.models import Consent, EncounterResident, Resident


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    text: str
    # The record the row names, as (model label, pk), e.g. ("resources.referral", 12): the
    # admin links the row to it.
    record: tuple[str, int] | None = None


def resident_timeline(resident: Resident) -> list[TimelineEntry]:
    """Everything that happened to a resident, newest first: encounters (including those of
    records merged into it), consents, referrals with their live status, messages sent to
    them, merges. A bounded number of queries, whatever the history's length."""
    from cases.models import ResidentMerge

    entries = [TimelineEntry(resident.created_at, "created", "Record created")]
    links = (
        EncounterResident.objects.filter(resident=resident)
        .select_related("encounter__unit", "encounter__call")
        .order_by("-encounter__occurred_at")
    )
    for link in links:
        e = link.encounter
        call = f" on call {e.call.incident_number}" if e.call is not None else " (self-initiated)"
        moved = " (merged from another record)" if link.original_resident_id else ""
        entries.append(
            TimelineEntry(
                e.occurred_at,
                "encounter",
                f"Encounter by {e.unit.call_sign}{call}: {e.get_disposition_display() or 'draft'}"
                f"{moved}",
                ("cases.encounter", e.pk),
            )
        )
    for consent in Consent.objects.filter(resident=resident):
        state = "revoked" if consent.revoked_at else "given"
        entries.append(
            TimelineEntry(
                consent.created_at,
                "consent",
                f"Consent {state}: {consent.get_scope_display()} ({consent.get_method_display()})",
                ("cases.consent", consent.pk),
            )
        )
    from resources.models import Referral

    for referral in Referral.objects.filter(resident=resident).select_related(
        "service", "organization"
    ):
        outcome = f", {referral.get_outcome_display()}" if referral.outcome else ""
        entries.append(
            TimelineEntry(
                referral.created_at,
                "referral",
                f"Referral to {referral.service.name} ({referral.organization.name}): "
                f"{referral.get_status_display()}{outcome}",
                ("resources.referral", referral.pk),
            )
        )
    entries.extend(_form_responses(resident))
    entries.extend(_messages_sent(resident))
    merges = ResidentMerge.objects.filter(Q(survivor=resident) | Q(duplicate=resident))
    for merge in merges.select_related("survivor", "duplicate"):
        other = merge.duplicate if merge.survivor_id == resident.pk else merge.survivor
        verb = "absorbed" if merge.survivor_id == resident.pk else "merged into"
        record = ("cases.residentmerge", merge.pk)
        entries.append(TimelineEntry(merge.created_at, "merge", f"{verb} {other}", record))
        if merge.undone_at:
            entries.append(
                TimelineEntry(merge.undone_at, "unmerge", f"Merge with {other} undone", record)
            )
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


def _form_responses(resident: Resident) -> list[TimelineEntry]:
    """Screens, assessments and safety plans about the resident (one query)."""
    from cases.models import FormResponse

    rows = FormResponse.objects.filter(resident=resident).select_related(
        "version__definition", "encounter__unit"
    )
    entries: list[TimelineEntry] = []
    for response in rows:
        risk = f": {response.get_risk_level_display().lower()} risk" if response.risk_level else ""
        entries.append(
            TimelineEntry(
                response.completed_at,
                response.version.definition.purpose,
                f"{response.version.definition.title} (version {response.version.number}) by "
                f"{response.encounter.unit.call_sign}{risk}",
                ("cases.formresponse", response.pk),
            )
        )
    return entries


# How the timeline names what was sent (the template ids are for code).
MESSAGE_LABELS = {"checkin": "check-in", "referral_accepted": "referral accepted"}


def _messages_sent(resident: Resident) -> list[TimelineEntry]:
    """Messages that went out to the resident (or to a record merged into theirs), with the
    provider's last word on delivery. The text itself stays on the notification."""
    from cases.models import Notification

    sent = (
        Notification.objects.filter(
            Q(resident=resident) | Q(resident__merged_into=resident),
            status=Notification.Status.SENT,
        )
        .only("id", "sent_at", "channel", "template", "provider_status")
        .order_by("-sent_at", "-id")
    )
    entries: list[TimelineEntry] = []
    for message in sent:
        what = "Text" if message.channel == Notification.Channel.SMS else "E-mail"
        label = MESSAGE_LABELS.get(message.template, message.template.replace("_", " "))
        state = f" ({message.provider_status})" if message.provider_status else ""
        entries.append(
            TimelineEntry(
                cast(datetime, message.sent_at),  # set on every sent message
                "message",
                f"{what} sent: {label}{state}",
                ("cases.notification", message.pk),
            )
        )
    return entries
