"""Reads of the cases app, scoped to the acting user (shared/DOMAIN.md, "Who may see what").

The only ways to fetch residents, encounters and a unit's calls go through here, so that the
scope cannot be forgotten. `*_get_for_user` raises NotFound for anything out of scope, the
same answer as for something that does not exist.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from acs.audit import audit_record, audit_record_many
from acs.errors import NotFound
from acs.models import AuditAction, AuditEvent
from acs.roles import Role
from cases.models import Call, Encounter, EncounterResident, Resident, UnitAssignment

# Roles that see and work every resident.
ALL_RESIDENTS_ROLES = (Role.CASE_MANAGER, Role.SUPERVISOR, Role.ADMIN)
SEARCH_ROLES = (Role.RESPONDER, *ALL_RESIDENTS_ROLES)
ACTIVE_ASSIGNMENTS = ("dispatched", "en_route", "on_scene", "transporting")


def _has_any(user, roles) -> bool:
    return bool(user and user.is_authenticated and any(user.has_role(r) for r in roles))


def sees_all_residents(user) -> bool:
    """Case managers, supervisors and admins: every resident (and so their names on desk
    screens, cases/display.py)."""
    return _has_any(user, ALL_RESIDENTS_ROLES)


def normalize_name(value: str) -> str:
    """Lower case, single spaces, no accents: "Tío  Beto" and "tio beto" search alike."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


def resident_queryset_for_user(user) -> QuerySet[Resident]:
    """Active (not merged away) residents the user may see.

    Case managers, supervisors and admins: all. Responders: the residents they or their units
    have met, and those their own searches showed them recently. Anyone else: none.
    """
    active = Resident.objects.filter(merged_into__isnull=True)
    if _has_any(user, ALL_RESIDENTS_ROLES):
        return active
    if not _has_any(user, (Role.RESPONDER,)):
        return active.none()
    met = EncounterResident.objects.filter(resident=OuterRef("pk")).filter(
        Q(encounter__created_by=user) | Q(encounter__unit__members=user)
    )
    window = timezone.now() - settings.RESIDENT_SEARCH_ACCESS_WINDOW
    searched = AuditEvent.objects.filter(
        actor=user,
        action__in=[AuditAction.SEARCH, AuditAction.CREATE],
        target_type="cases.resident",
        target_id=OuterRef("public_id"),
        created_at__gte=window,
    )
    return active.filter(Q(Exists(met)) | Q(Exists(searched)))


def resident_get_for_user(user, public_id: uuid.UUID, *, request=None) -> Resident:
    """One resident record, audited as a view; NotFound when out of the user's scope."""
    resident = resident_queryset_for_user(user).filter(public_id=public_id).first()
    if resident is None:
        raise NotFound("No such resident.", code="resident_not_found")
    audit_record(actor=user, action=AuditAction.VIEW, target=resident, request=request)
    return resident


@dataclass(frozen=True)
class ResidentMatch:
    resident: Resident
    score: float


def resident_candidates(
    *, name: str = "", date_of_birth: date | None = None, limit: int = 10
) -> list[ResidentMatch]:
    """Likely matches among all active residents: fuzzy on names and aliases (trigram),
    narrowed by date of birth (exact, or the same year when the recorded date is approximate).
    Not scoped and not audited: callers are `resident_search` and the duplicate check."""
    name = normalize_name(name)
    qs = Resident.objects.filter(merged_into__isnull=True)
    if date_of_birth is not None:
        qs = qs.filter(
            Q(date_of_birth=date_of_birth)
            | Q(dob_quality=Resident.DobQuality.APPROXIMATE, date_of_birth__year=date_of_birth.year)
        )
    if name:
        qs = (
            qs.filter(search_names__trigram_word_similar=name)
            .annotate(score=TrigramWordSimilarity(name, "search_names"))
            .order_by("-score", "id")
        )
    elif date_of_birth is None:
        return []
    else:
        qs = qs.order_by("id")
    return [ResidentMatch(r, float(getattr(r, "score", 1.0))) for r in qs[:limit]]


def resident_search(
    user, *, name: str = "", date_of_birth: date | None = None, limit: int = 20, request=None
) -> list[ResidentMatch]:
    """Search for a resident before creating one. Each resident shown is audited as a search
    result (the query itself is not recorded: it is personal data), which also lets a
    responder open that record for a while."""
    if not _has_any(user, SEARCH_ROLES):
        raise NotFound("No such resource.", code="not_found")
    matches = resident_candidates(name=name, date_of_birth=date_of_birth, limit=limit)
    audit_record_many(
        actor=user,
        action=AuditAction.SEARCH,
        targets=[m.resident for m in matches],
        request=request,
    )
    return matches


def calls_for_unit_user(user) -> QuerySet[Call]:
    """The calls the user's units are working now."""
    working = UnitAssignment.objects.filter(
        call=OuterRef("pk"), unit__members=user, status__in=ACTIVE_ASSIGNMENTS
    )
    return Call.objects.filter(Exists(working)).order_by("-received_at", "-id")


def call_of_unit(unit, public_id: uuid.UUID) -> Call | None:
    """A call the unit has been on, whatever its assignment's status now (a call it just
    cleared, to undo the clear). The caller has checked the unit is the user's."""
    return Call.objects.filter(public_id=public_id, assignments__unit=unit).first()


def encounter_unit_and_call(user, *, call_sign: str, call_id: uuid.UUID | None):
    """Where a new encounter belongs: one of the user's units, and a call that unit works (or
    none, self-initiated). NotFound for anything else, the same for a unit or call that does
    not exist."""
    from responders.models import Unit

    unit = Unit.objects.filter(call_sign=call_sign.upper(), members=user).first()
    if unit is None:
        raise NotFound(
            "No such unit among yours.",
            code="unit_not_found",
            fields={"unit": ["No such unit among yours."]},
        )
    call = None
    if call_id is not None:
        call = calls_for_unit_user(user).filter(public_id=call_id).first()
        if call is None:
            raise NotFound(
                "No such call among your unit's.",
                code="call_not_found",
                fields={"call": ["No such call among your unit's."]},
            )
    return unit, call


def encounter_queryset_for_user(user) -> QuerySet[Encounter]:
    if _has_any(user, ALL_RESIDENTS_ROLES):
        qs = Encounter.objects.all()
    elif _has_any(user, (Role.RESPONDER,)):
        qs = Encounter.objects.filter(Q(created_by=user) | Q(unit__members=user)).distinct()
    else:
        qs = Encounter.objects.none()
    return qs.select_related("unit", "call", "created_by")


def encounter_get_for_user(user, public_id: uuid.UUID) -> Encounter:
    encounter = encounter_queryset_for_user(user).filter(public_id=public_id).first()
    if encounter is None:
        raise NotFound("No such encounter.", code="encounter_not_found")
    return encounter


def resident_read_audit(user, resident_id: int, *, request=None, via: str, **record) -> None:
    """Reading a record about a resident (a follow-up, a referral) is reading theirs: a `view`
    event on the resident, naming the record (`follow_up=<public id>`)."""
    resident = Resident.objects.only("public_id").get(pk=resident_id)
    audit_record(
        actor=user,
        action=AuditAction.VIEW,
        target=resident,
        request=request,
        reason=via,
        detail={key: str(value) for key, value in record.items()},
    )


def encounter_read_audit(user, encounter: Encounter, *, request=None, via: str) -> None:
    """Reading an encounter is reading the record of each person met: one `view` event per
    resident on it (so the audit view's resident filter finds it), naming the encounter; an
    encounter with nobody identified is itself the target. `via`: where it was read."""
    residents = list(Resident.objects.filter(encounter_links__encounter=encounter))
    detail = {"encounter": str(encounter.public_id)}
    if residents:
        audit_record_many(
            actor=user,
            action=AuditAction.VIEW,
            targets=residents,
            request=request,
            reason=via,
            detail=detail,
        )
    else:
        audit_record(
            actor=user, action=AuditAction.VIEW, target=encounter, request=request, reason=via
        )


@dataclass(frozen=True)
class TimelineEntry:
    at: object
    kind: str
    text: str
    # The record the row names, as (model label, pk), e.g. ("resources.referral", 12): the
    # admin links the row to it.
    record: tuple[str, int] | None = None


def resident_timeline(resident: Resident) -> list[TimelineEntry]:
    """Everything that happened to a resident, newest first: encounters (including those of
    records merged into it), consents, referrals with their live status, messages sent to
    them, merges. A bounded number of queries, whatever the history's length."""
    from cases.models import Consent, ResidentMerge

    entries = [TimelineEntry(resident.created_at, "created", "Record created")]
    links = (
        EncounterResident.objects.filter(resident=resident)
        .select_related("encounter__unit", "encounter__call")
        .order_by("-encounter__occurred_at")
    )
    for link in links:
        e = link.encounter
        call = f" on call {e.call.incident_number}" if e.call_id else " (self-initiated)"
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
    entries = []
    for message in sent:
        what = "Text" if message.channel == Notification.Channel.SMS else "E-mail"
        label = MESSAGE_LABELS.get(message.template, message.template.replace("_", " "))
        state = f" ({message.provider_status})" if message.provider_status else ""
        entries.append(
            TimelineEntry(
                message.sent_at,
                "message",
                f"{what} sent: {label}{state}",
                ("cases.notification", message.pk),
            )
        )
    return entries


def consent_active(resident: Resident, scope: str, *, organization=None, at=None) -> bool:
    """Whether the resident's consent for `scope` holds now (not revoked, not expired);
    for a named partner, the consent must name that partner."""
    from cases.models import Consent

    at = at or timezone.now()
    qs = Consent.objects.filter(resident=resident, scope=scope, revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=at)
    )
    if organization is not None:
        qs = qs.filter(organization=organization)
    return qs.exists()


# --- the case managers' work queues (the admin dashboard) -------------------------------------


def follow_up_queryset_for_user(user) -> QuerySet:
    """Follow-ups the user may work: case managers, supervisors and admins see them all."""
    from cases.models import FollowUp

    if not _has_any(user, ALL_RESIDENTS_ROLES):
        return FollowUp.objects.none()
    return FollowUp.objects.select_related("resident", "assignee")


def end_of_today():
    """The end of the local day (the department's time zone)."""
    return timezone.localtime().replace(hour=23, minute=59, second=59, microsecond=999999)


def follow_ups_due_for_user(user, *, whose: str) -> QuerySet:
    """Open follow-ups due today or overdue, the most overdue first (the partial index on
    open work by due time serves it). `whose`: "mine" (assigned to the user), or "team"
    (assigned to someone else of the user's team, or to nobody)."""
    from cases.models import FollowUp

    qs = (
        follow_up_queryset_for_user(user)
        .filter(due_at__lte=end_of_today())
        .exclude(status=FollowUp.Status.CLOSED)
    )
    if whose == "mine":
        qs = qs.filter(assignee=user)
    else:
        team = Q(assignee__isnull=True)
        if user.team_id:
            team |= Q(assignee__team_id=user.team_id)
        qs = qs.filter(team).exclude(assignee=user)
    return qs.order_by("due_at", "id")


def residents_followed_by(user) -> QuerySet:
    """The residents the user follows: those with an open follow-up assigned to them."""
    from cases.models import FollowUp

    return (
        follow_up_queryset_for_user(user)
        .filter(assignee=user)
        .exclude(status=FollowUp.Status.CLOSED)
        .values("resident_id")
    )


def recent_encounters_of_followed(user, *, days: int = 14) -> QuerySet[Encounter]:
    """Encounters of the last `days` days with a resident the user follows, newest first."""
    since = timezone.now() - timedelta(days=days)
    met = EncounterResident.objects.filter(
        encounter=OuterRef("pk"), resident_id__in=residents_followed_by(user)
    )
    return (
        encounter_queryset_for_user(user)
        .filter(Exists(met), occurred_at__gte=since)
        .order_by("-occurred_at", "-id")
    )


def addenda_awaiting_approval(user) -> QuerySet:
    """Addenda a supervisor may approve: on encounters of units of their team, written by
    someone else, not approved yet; the oldest first (the partial index on pending addenda).
    Nobody else has any."""
    from cases.models import Addendum

    if not user.has_role(Role.SUPERVISOR) or user.team_id is None:
        return Addendum.objects.none()
    return (
        Addendum.objects.filter(approved_at__isnull=True, encounter__unit__team_id=user.team_id)
        .exclude(author=user)
        .select_related("encounter__unit", "author")
        .order_by("created_at", "id")
    )
