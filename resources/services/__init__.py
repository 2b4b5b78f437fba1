"""Writes of the resources app (shared/STYLE.md: every write goes through a service)."""

from resources.services.capacity import capacity_update, service_verify
from resources.services.idempotency import idempotency_keys_purge
from resources.services.referrals import (
    referral_accept,
    referral_cancel,
    referral_complete,
    referral_create,
    referral_decline,
    referral_note_add,
    referral_send,
    referral_start,
    referrals_expire_overdue,
)
from resources.services.search import directory_words_rebuild, search_refresh_deferred

__all__ = [
    "capacity_update",
    "directory_words_rebuild",
    "idempotency_keys_purge",
    "referral_accept",
    "referral_cancel",
    "referral_complete",
    "referral_create",
    "referral_decline",
    "referral_note_add",
    "referral_send",
    "referral_start",
    "referrals_expire_overdue",
    "search_refresh_deferred",
    "service_verify",
]
