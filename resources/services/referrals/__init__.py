"""Referral writes: one function per transition of the life cycle (shared/DOMAIN.md).

Every transition locks the row, checks the move against TRANSITIONS (an illegal move is a
409 naming the current state), appends a ReferralEvent with who and the note, bumps
`updated_at` (the partners' polling clock) and queues the partner's webhooks in the same
transaction (the outbox: resources/webhooks/outbox.py).

ACS staff create, send and cancel; the partner organization the referral was sent to accepts,
declines, starts and completes it; both write notes on the thread.

By concern: `transitions` (the moves and who may make them), `sending` (create and send),
`answers` (the partner's answers, cancel, notes) and `expiry`.
"""

from resources.services.referrals.answers import (
    referral_accept,
    referral_cancel,
    referral_complete,
    referral_decline,
    referral_note_add,
    referral_start,
)
from resources.services.referrals.expiry import EXPIRY_BATCH, referrals_expire_overdue
from resources.services.referrals.sending import referral_create, referral_send
from resources.services.referrals.transitions import PARTNER_ACTIONS, TRANSITIONS

__all__ = [
    "EXPIRY_BATCH",
    "PARTNER_ACTIONS",
    "TRANSITIONS",
    "referral_accept",
    "referral_cancel",
    "referral_complete",
    "referral_create",
    "referral_decline",
    "referral_note_add",
    "referral_send",
    "referral_start",
    "referrals_expire_overdue",
]
