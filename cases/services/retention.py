"""Retention: records past their retention period are de-identified, not deleted.

A resident untouched for RETENTION_YEARS (default seven) — no encounter, referral, follow-up
or change since — keeps the record (its id, its place in counts and in the transparency
figures, its demographics as categories) but loses what identifies the person: names and
aliases, date of birth (quality becomes "unknown"), phone, e-mail, where to find them and
safety notes, and the merges that involve them lose the names and values they kept for an
undo. Free text older than the cutoff goes too wherever it may name someone: encounter
narratives and addenda, contact attempts' next steps, referral reasons and thread notes, the
texts and addresses of old notifications, and the answers of old form responses (screens,
assessments, safety plans: the form, its version and the risk level found stay). Each
resident de-identified is an audit event; the command reports what it did, and `dry_run`
counts without changing anything.

Copies kept only for a short purpose have their own, shorter expiry (docs/security.md,
"Stored copies of personal data"); beat sweeps them, and `retention_expired_copies` sweeps
them too, so that one run of the command leaves nothing past its expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from acs.audit import audit_record_many
from acs.batches import in_batches
from acs.models import AuditAction
from cases.models import (
    Addendum,
    ContactAttempt,
    Encounter,
    FormResponse,
    Notification,
    Resident,
    ResidentMerge,
)

if TYPE_CHECKING:
    from django.contrib.sessions.models import Session

BATCH = 1000


@dataclass
class RetentionReport:
    cutoff: datetime
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)


def _stale_residents(cutoff: datetime) -> QuerySet[Resident]:
    last = Greatest(
        "updated_at",
        Coalesce(Max("encounter_links__encounter__occurred_at"), "updated_at"),
        Coalesce(Max("referrals__updated_at"), "updated_at"),
        Coalesce(Max("follow_ups__updated_at"), "updated_at"),
    )
    return (
        Resident.objects.filter(deidentified_at__isnull=True, updated_at__lt=cutoff)
        .annotate(last_activity=last)
        .filter(last_activity__lt=cutoff)
    )


def _merges_holding_values(involving: Q) -> QuerySet[ResidentMerge]:
    return ResidentMerge.objects.filter(involving).exclude(replaced_values={}, added_aliases=[])


def retention_deidentify(
    *, now: datetime | None = None, years: int | None = None, dry_run: bool = False
) -> RetentionReport:
    from resources.models import Referral, ReferralEvent

    now = now or timezone.now()
    years = years if years is not None else settings.RETENTION_YEARS
    cutoff = now - timedelta(days=round(365.25 * years))
    report = RetentionReport(cutoff=cutoff, dry_run=dry_run)
    texts = {
        "encounter narratives": Encounter.objects.filter(occurred_at__lt=cutoff).exclude(
            narrative=""
        ),
        "addenda": Addendum.objects.filter(encounter__occurred_at__lt=cutoff).exclude(text=""),
        "contact attempt notes": ContactAttempt.objects.filter(at__lt=cutoff).exclude(next_step=""),
        "referral reasons": Referral.objects.filter(created_at__lt=cutoff).exclude(reason=""),
        "referral notes": ReferralEvent.objects.filter(created_at__lt=cutoff).exclude(note=""),
        "notification texts": Notification.objects.filter(created_at__lt=cutoff).filter(
            ~Q(body="") | ~Q(to_address="")
        ),
        # Screens, assessments and safety plans: the answers go (free text, and the person's
        # own words); the form, its version and the risk level found stay, for counts.
        "form responses": FormResponse.objects.filter(
            completed_at__lt=cutoff, deidentified_at__isnull=True
        ),
    }
    blank: dict[str, dict[str, Any]] = {
        "encounter narratives": {"narrative": ""},
        "addenda": {"text": "[removed after the retention period]"},
        "contact attempt notes": {"next_step": ""},
        "referral reasons": {"reason": ""},
        "referral notes": {"note": "[removed after the retention period]"},
        "notification texts": {"body": "", "to_address": ""},
        "form responses": {"answers": {}, "deidentified_at": now},
    }
    stale = _stale_residents(cutoff)
    if dry_run:
        report.counts["residents"] = stale.count()
        report.counts["merge records"] = _merges_holding_values(
            Q(survivor__in=stale) | Q(duplicate__in=stale)
        ).count()
        for name, rows in texts.items():
            report.counts[name] = rows.count()
        return report
    total = merges = 0
    while True:
        with transaction.atomic():
            ids = list(stale.order_by("pk").values_list("pk", flat=True)[:BATCH])
            batch = list(
                Resident.objects.select_for_update()
                .filter(pk__in=ids, deidentified_at__isnull=True)
                .order_by("pk")
            )
            if not batch:
                break
            for resident in batch:
                resident.preferred_name = ""
                resident.legal_name = ""
                resident.aliases = []
                resident.search_names = ""
                resident.search_keys = []
                resident.date_of_birth = None
                resident.dob_quality = "unknown"
                resident.phone = ""
                resident.email = ""
                resident.where_to_find_me = ""
                resident.safety_flags = ""
                resident.deidentified_at = now
            Resident.objects.bulk_update(
                batch,
                [
                    "preferred_name",
                    "legal_name",
                    "aliases",
                    "search_names",
                    "search_keys",
                    "date_of_birth",
                    "dob_quality",
                    "phone",
                    "email",
                    "where_to_find_me",
                    "safety_flags",
                    "deidentified_at",
                ],
            )
            audit_record_many(actor=None, action=AuditAction.CHANGE, targets=batch)
            # What a merge kept for its undo: the replaced values and the added aliases.
            merges += _merges_holding_values(Q(survivor__in=batch) | Q(duplicate__in=batch)).update(
                replaced_values={}, added_aliases=[], updated_at=now
            )
            total += len(batch)
    report.counts["residents"] = total
    report.counts["merge records"] = merges
    with transaction.atomic():
        for name, rows in texts.items():
            report.counts[name] = rows.update(**blank[name])
    return report


def _sessions_expired(*, now: datetime | None = None) -> QuerySet[Session]:
    """Signed-in sessions past their expiry: Django never deletes them by itself, and one may
    hold a searched name (cases/admin/residents.py keeps it there, out of the URL)."""
    from django.contrib.sessions.models import Session

    if not settings.SESSION_ENGINE.endswith((".db", ".cached_db")):
        return Session.objects.none()  # a cache keeps sessions only until they expire
    return Session.objects.filter(expire_date__lte=now or timezone.now())


def _sessions_purge(*, now: datetime | None = None, batch: int = BATCH) -> int:
    return in_batches(
        _sessions_expired(now=now),
        order_by=("expire_date",),
        batch=batch,
        apply=lambda rows: rows.delete(),
    )


def retention_expired_copies(
    *, now: datetime | None = None, dry_run: bool = False
) -> dict[str, int]:
    """Remove the copies of personal data kept for a short purpose once it is past; returns
    how many of each (with `dry_run`, how many there are, changing nothing). Beat runs it
    hourly (cases.tasks.sweep_expired_copies) and `manage.py retention` with everything else.

    - idempotency records of the partner API past IDEMPOTENCY_TTL: deleted;
    - the first answers kept on CAD and field call events past IDEMPOTENCY_TTL (copies of
      the call, its address and notes): blanked, the events stay;
    - the address and text of sent notifications past NOTIFICATION_TEXT_TTL: blanked;
    - expired signed-in sessions (which may hold a searched name): deleted;
    - delivery receipts that matched no text within a day (cases/services/inbound.py): deleted;
    - units' positions past UNIT_POSITION_RETENTION_HOURS (responders/positions.py): deleted.
    """
    from cases.services.calls import call_event_results_expired, call_event_results_forget
    from cases.services.inbound import early_receipts_expired, early_receipts_purge
    from cases.services.notifications import notification_texts_expired, notification_texts_forget
    from resources.services.idempotency import idempotency_keys_expired, idempotency_keys_purge
    from responders.positions import unit_positions_expired, unit_positions_prune

    now = now or timezone.now()
    sweeps = {
        "idempotency records": (idempotency_keys_expired, idempotency_keys_purge),
        "call event results": (call_event_results_expired, call_event_results_forget),
        "sent notification texts": (notification_texts_expired, notification_texts_forget),
        "expired sessions": (_sessions_expired, _sessions_purge),
        "unmatched delivery receipts": (early_receipts_expired, early_receipts_purge),
        "unit positions": (unit_positions_expired, unit_positions_prune),
    }
    if dry_run:
        return {name: expired(now=now).count() for name, (expired, _) in sweeps.items()}
    return {name: remove(now=now) for name, (_, remove) in sweeps.items()}
