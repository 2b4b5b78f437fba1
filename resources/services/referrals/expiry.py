"""Sent referrals whose response window ran out expire, in bounded SKIP LOCKED batches."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from resources import webhooks
from resources.models import Referral
from resources.services.referrals.answers import notify_after_answer
from resources.services.referrals.transitions import S, move

EXPIRY_BATCH = 200


def referrals_expire_overdue(
    *, now: datetime | None = None, batch: int = EXPIRY_BATCH
) -> list[Referral]:
    """Expire sent referrals whose response window ran out; returns the expired ones.

    Claims rows with SKIP LOCKED in bounded batches, so two sweeps never fight over a row and
    a partner answering at the same moment wins or loses cleanly."""
    now = now or timezone.now()
    expired = []
    with transaction.atomic():
        rows = list(
            Referral.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("service", "organization", "resident")
            .filter(status=S.SENT, respond_by__lte=now)
            .order_by("respond_by", "id")[:batch]
        )
        for referral in rows:
            move(
                referral=referral,
                action="expire",
                actor=None,
                note="No answer within the response window.",
                now=now,
            )
            referral.closed_at = now
            referral.save()
            webhooks.event_queue(referral=referral, event_type="referral.status_changed")
            notify_after_answer(referral)
            expired.append(referral)
    return expired
