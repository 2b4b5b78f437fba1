"""Follow-ups: created from submitted encounters by the rules, worked by contact attempts,
escalated when the window runs out, closed with an outcome."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from acs.audit import audit_record
from acs.errors import Conflict, DomainError, Forbidden
from acs.models import AuditAction
from acs.roles import ASSIGNEE_ROLES, STAFF_ROLES, Role, has_any_role
from cases.models import ContactAttempt, Encounter, FollowUp, FollowUpRule

if TYPE_CHECKING:
    from django.http import HttpRequest

    from cases.models import Resident
    from resources.models import Referral
    from responders.models import User

# Outcomes that end the follow-up on their own, and those that count as no contact.
CLOSING_OUTCOMES: dict[str, str] = {
    ContactAttempt.Outcome.DECLINED: FollowUp.Outcome.DECLINED,
    ContactAttempt.Outcome.OPTED_OUT: FollowUp.Outcome.OPTED_OUT,
}
CONTACT_MADE = {ContactAttempt.Outcome.REACHED, ContactAttempt.Outcome.FOUND_IN_PERSON}
MIN_SPACING = timedelta(hours=12)
ESCALATION_BATCH = 200


def rule_for(disposition: str, risk_level: str = "") -> FollowUpRule | None:
    """The active encounter rule for this risk level and disposition: one naming the risk
    level a screen set wins (one naming the disposition too before one naming it alone), then
    one naming the disposition, then the default (blank) rule."""
    risks = [risk_level, ""] if risk_level else [""]
    return (
        FollowUpRule.objects.filter(
            active=True,
            referral_event="",
            disposition__in=[disposition, ""],
            risk_level__in=risks,
        )
        .annotate(
            specific=Case(
                When(disposition="", then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
            by_risk=Case(
                When(risk_level="", then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .order_by("-by_risk", "-specific")
        .first()
    )


def case_manager_for(encounter: Encounter) -> User | None:
    """The active case manager with the fewest open follow-ups, of the unit's team if it has
    any, else of all; one query. None when there is no case manager."""
    from django.db.models import Count, Q

    from responders.models import User

    managers = User.objects.filter(is_active=True, groups__name=Role.CASE_MANAGER.value)
    team_id = encounter.unit.team_id
    return (
        managers.annotate(
            on_team=Case(
                When(team_id=team_id, then=Value(1)), default=Value(0), output_field=IntegerField()
            ),
            open_work=Count("follow_ups", filter=~Q(follow_ups__status="closed")),
        )
        .order_by("-on_team", "open_work", "id")
        .first()
    )


def _risk_level(encounter: Encounter) -> str:
    # Only a level a screen set keys the rules: a level ticked by hand is not a screen.
    return encounter.risk_level if encounter.risk_level_set_at else ""


def followups_create_for_encounter(*, encounter: Encounter) -> list[FollowUp]:
    """One follow-up per identified resident of a submitted encounter, as its rule says.
    Running it again creates nothing new."""
    rule = rule_for(encounter.disposition, _risk_level(encounter))
    if rule is None or not rule.creates_follow_up:
        return []
    start = encounter.submitted_at or timezone.now()
    assignee = case_manager_for(encounter) if rule.assign_case_manager else None
    created = []
    for resident in encounter.residents.all():
        follow_up, made = FollowUp.objects.get_or_create(
            encounter=encounter,
            resident=resident,
            defaults={
                "rule": rule,
                "kind": rule.kind,
                "due_at": start + timedelta(hours=rule.first_due_hours),
                "window_ends_at": start + timedelta(days=rule.window_days),
                "max_attempts": rule.attempts,
                "assignee": assignee,
            },
        )
        if made:
            created.append(follow_up)
            _schedule_checkin(follow_up)
    return created


def followups_apply_risk(*, encounter: Encounter) -> int:
    """A screen recorded after the encounter was submitted (within its grace period) raised
    its risk level: a rule keyed on that level applies to the follow-ups already made (due no
    later than the rule says, a case manager assigned when it asks and none is), and makes
    those missing. Returns how many changed or were made."""
    rule = rule_for(encounter.disposition, _risk_level(encounter))
    if rule is None or not rule.risk_level:
        return 0
    start = encounter.submitted_at or timezone.now()
    due = start + timedelta(hours=rule.first_due_hours)
    changed = 0
    assignee = case_manager_for(encounter) if rule.assign_case_manager else None
    for follow_up in (
        FollowUp.objects.select_for_update()
        .filter(encounter=encounter)
        .exclude(status=FollowUp.Status.CLOSED)
    ):
        fields = []
        if follow_up.due_at > due:
            follow_up.due_at, follow_up.kind, follow_up.rule = due, rule.kind, rule
            fields += ["due_at", "kind", "rule"]
        if assignee is not None and follow_up.assignee_id is None:
            follow_up.assignee = assignee
            fields.append("assignee")
        if fields:
            follow_up.save(update_fields=[*fields, "updated_at"])
            changed += 1
    return changed + len(followups_create_for_encounter(encounter=encounter))


def followup_create_for_referral(*, referral: Referral, event: str) -> FollowUp | None:
    """A referral that left the resident without the service (declined, expired, not
    completed) becomes work for a case manager, as the active rule for that event says:
    assigned to the referrer when they work follow-ups. Running it again creates nothing."""
    rule = FollowUpRule.objects.filter(active=True, referral_event=event).first()
    if rule is None or not rule.creates_follow_up:
        return None
    start = timezone.now()
    referrer = referral.created_by
    desk = has_any_role(referrer, ASSIGNEE_ROLES)
    follow_up, made = FollowUp.objects.get_or_create(
        referral=referral,
        rule=rule,
        defaults={
            "resident": referral.resident,
            "encounter": None,
            "kind": rule.kind,
            "due_at": start + timedelta(hours=rule.first_due_hours),
            "window_ends_at": start + timedelta(days=rule.window_days),
            "max_attempts": rule.attempts,
            "assignee": referrer if desk else None,
        },
    )
    return follow_up if made else None


def _schedule_checkin(follow_up: FollowUp) -> None:
    """A check-in text at the follow-up's due time, for residents who agreed to texts (the
    consent is checked again when it is sent)."""
    from cases.models import Consent
    from cases.selectors import consent_active
    from cases.services.notifications import notification_schedule

    resident = follow_up.resident
    if not resident.phone or not consent_active(resident, Consent.Scope.SMS):
        return
    notification_schedule(
        template="checkin",
        channel="sms",
        resident=resident,
        follow_up=follow_up,
        due_at=follow_up.due_at,
        dedupe_key=f"followup:{follow_up.pk}:checkin",
    )


def _cancel_reminders(follow_up: FollowUp) -> None:
    """However a follow-up closes (an attempt that closes it, or closing it), what is still to
    be sent about it is cancelled."""
    from cases.services.notifications import notifications_cancel

    notifications_cancel(follow_up=follow_up, reason="The follow-up is closed.")


def _notify_supervisors(follow_up: FollowUp) -> None:
    """Supervisors hear of an escalation at once: those of the assignee's team, or all."""
    from cases.services.notifications import notification_schedule
    from responders.models import User

    supervisors = User.objects.filter(is_active=True, groups__name=Role.SUPERVISOR.value)
    team_id = getattr(follow_up.assignee, "team_id", None)
    if team_id and supervisors.filter(team_id=team_id).exists():
        supervisors = supervisors.filter(team_id=team_id)
    for supervisor in supervisors.distinct():
        notification_schedule(
            template="follow_up_escalated",
            channel="email",
            user=supervisor,
            follow_up=follow_up,
            context={"follow_up_pk": follow_up.pk, "kind": follow_up.kind},
            dedupe_key=f"followup:{follow_up.pk}:escalated:{follow_up.escalated_at:%s}:"
            f"{supervisor.pk}",
        )


def _spacing(follow_up: FollowUp) -> timedelta:
    remaining = max(follow_up.max_attempts - follow_up.attempts_made, 1)
    left = follow_up.window_ends_at - timezone.now()
    return max(left / remaining, MIN_SPACING)


def _escalate(follow_up: FollowUp, at: datetime) -> None:
    rule = follow_up.rule
    follow_up.status = FollowUp.Status.ESCALATED
    follow_up.kind = rule.escalate_to if rule else FollowUp.Kind.IN_PERSON
    follow_up.escalated_at = at
    follow_up.due_at = at


def contact_attempt_log(
    *,
    actor: User,
    follow_up: FollowUp,
    channel: str,
    outcome: str,
    at: datetime | None = None,
    next_step: str = "",
    request: HttpRequest | None = None,
) -> ContactAttempt:
    """Log one attempt. Declined or opted out closes the follow-up; contact made schedules
    the next check; no contact schedules the next attempt, and after the last one escalates
    (to in-person outreach or the supervisor, as the rule says)."""
    at = at or timezone.now()
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("rule")
            .get(pk=follow_up.pk)
        )
        if follow_up.status == FollowUp.Status.CLOSED:
            raise Conflict("This follow-up is closed.", code="follow_up_closed")
        attempt = ContactAttempt.objects.create(
            follow_up=follow_up,
            at=at,
            channel=channel,
            outcome=outcome,
            next_step=next_step,
            by=actor,
        )
        follow_up.attempts_made += 1
        if outcome in CLOSING_OUTCOMES:
            follow_up.status = FollowUp.Status.CLOSED
            follow_up.outcome = CLOSING_OUTCOMES[outcome]
            follow_up.closed_at = at
            follow_up.closed_by = actor
        elif outcome in CONTACT_MADE or follow_up.status == FollowUp.Status.ESCALATED:
            follow_up.due_at = at + _spacing(follow_up)
        elif follow_up.attempts_made >= follow_up.max_attempts:
            _escalate(follow_up, at)
        else:
            follow_up.due_at = at + _spacing(follow_up)
        follow_up.save()
        if follow_up.status == FollowUp.Status.ESCALATED and follow_up.escalated_at == at:
            _notify_supervisors(follow_up)
        if follow_up.status == FollowUp.Status.CLOSED:
            _cancel_reminders(follow_up)
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=follow_up.resident,
            request=request,
            detail={"follow_up": str(follow_up.public_id), "attempt": outcome},
        )
    return attempt


def follow_up_close(
    *, actor: User, follow_up: FollowUp, outcome: str, request: HttpRequest | None = None
) -> FollowUp:
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.status == FollowUp.Status.CLOSED:
            raise Conflict("This follow-up is already closed.", code="follow_up_closed")
        follow_up.status = FollowUp.Status.CLOSED
        follow_up.outcome = outcome
        follow_up.closed_at = timezone.now()
        follow_up.closed_by = actor
        follow_up.save()
        _cancel_reminders(follow_up)
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=follow_up.resident,
            request=request,
            detail={"follow_up": str(follow_up.public_id), "closed": outcome},
        )
    return follow_up


def follow_up_create(
    *,
    actor: User,
    resident: Resident,
    kind: str,
    due_at: datetime,
    assignee: User | None = None,
    window_days: int = 7,
    max_attempts: int = 3,
    request: HttpRequest | None = None,
) -> FollowUp:
    """A follow-up a case manager opens by hand from the resident's page (not from an
    encounter or a referral): due when they say, worked and escalated like any other."""
    if not has_any_role(actor, STAFF_ROLES):
        raise Forbidden("Your role may not open follow-ups.")
    if resident.merged_into_id:
        raise Conflict("This record was merged into another.", code="resident_merged")
    if kind not in FollowUp.Kind.values:
        raise DomainError("Unknown kind.", code="invalid", fields={"kind": ["Unknown."]})
    if assignee is not None:
        _check_assignee(assignee)
    with transaction.atomic():
        follow_up = FollowUp.objects.create(
            resident=resident,
            kind=kind,
            due_at=due_at,
            window_ends_at=max(due_at, timezone.now()) + timedelta(days=window_days),
            max_attempts=max_attempts,
            assignee=assignee,
        )
        _schedule_checkin(follow_up)
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=resident,
            request=request,
            detail={"follow_up": str(follow_up.public_id), "opened": kind},
        )
    return follow_up


def _check_assignee(assignee: User) -> None:
    if not assignee.is_active or not has_any_role(assignee, ASSIGNEE_ROLES):
        raise DomainError(
            "Follow-ups go to case managers and supervisors.",
            code="invalid",
            fields={"assignee": ["Not a case manager or supervisor."]},
        )


def follow_up_reassign(
    *,
    actor: User,
    follow_up: FollowUp,
    assignee: User | None,
    request: HttpRequest | None = None,
) -> FollowUp:
    """Hand an open follow-up to another case manager or supervisor (or to nobody, back to
    the shared queue). Only the assignee changes: the row is locked so that a contact attempt
    logged meanwhile is not undone."""
    if not has_any_role(actor, STAFF_ROLES):
        raise Forbidden("Your role may not reassign follow-ups.")
    if assignee is not None:
        _check_assignee(assignee)
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.status == FollowUp.Status.CLOSED:
            raise Conflict("This follow-up is closed.", code="follow_up_closed")
        if follow_up.assignee_id == (assignee.pk if assignee else None):
            return follow_up
        follow_up.assignee = assignee
        follow_up.save(update_fields=["assignee", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=follow_up.resident,
            request=request,
            detail={
                "follow_up": str(follow_up.public_id),
                "assignee": str(assignee.public_id) if assignee else None,
            },
        )
    return follow_up


def followups_escalate_overdue(
    *, now: datetime | None = None, batch: int = ESCALATION_BATCH
) -> int:
    """Escalate open follow-ups whose window ran out, one bounded batch at a time. Rows are
    claimed with SKIP LOCKED, so two overlapping runs never take the same row."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            FollowUp.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("rule")
            .filter(status=FollowUp.Status.OPEN, window_ends_at__lte=now)
            .order_by("window_ends_at", "id")[:batch]
        )
        for follow_up in due:
            _escalate(follow_up, now)
        FollowUp.objects.bulk_update(
            due, ["status", "kind", "escalated_at", "due_at", "updated_at"]
        )
        for follow_up in due:
            _notify_supervisors(follow_up)
    return len(due)


def follow_up_request(
    *,
    actor: User,
    encounter: Encounter,
    resident: Resident,
    kind: str,
    due_at: datetime,
    request: HttpRequest | None = None,
) -> tuple[FollowUp, bool]:
    """A responder asks, from the encounter, for a follow-up with a person they met: the kind
    and when. One per person per encounter (the database's constraint): asking again returns
    the first and `created=False`, and the encounter's rule at submission adds no second one.
    The person must be one of the encounter's; the case managers' queue does the rest."""
    if kind not in FollowUp.Kind.values:
        raise DomainError("Unknown kind.", code="invalid", fields={"kind": ["Unknown."]})
    if not encounter.people.filter(resident=resident).exists():
        raise DomainError(
            "Ask for follow-ups with the people of this encounter.",
            code="invalid",
            fields={"resident": ["Not a person of this encounter."]},
        )
    rule = rule_for(encounter.disposition) if encounter.disposition else None
    window_days = rule.window_days if rule else 7
    with transaction.atomic():
        follow_up, created = FollowUp.objects.get_or_create(
            encounter=encounter,
            resident=resident,
            defaults={
                "kind": kind,
                "due_at": due_at,
                "window_ends_at": max(due_at, timezone.now()) + timedelta(days=window_days),
                "max_attempts": rule.attempts if rule else 3,
            },
        )
        if created:
            _schedule_checkin(follow_up)
            audit_record(
                actor=actor,
                action=AuditAction.CREATE,
                target=resident,
                request=request,
                detail={
                    "follow_up": str(follow_up.public_id),
                    "encounter": str(encounter.public_id),
                },
            )
    return follow_up, created
