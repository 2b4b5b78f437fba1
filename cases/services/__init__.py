"""Writes of the cases app (shared/STYLE.md: every write goes through a service)."""

from cases.services.calls import (
    CallInput,
    call_event_record,
    call_event_undo,
    call_upsert,
    unit_service_status_set,
)
from cases.services.consents import consent_record, consent_revoke
from cases.services.encounters import (
    addendum_add,
    addendum_approve,
    addendum_reject,
    encounter_create,
    encounter_submit,
    encounter_update,
)
from cases.services.followups import (
    contact_attempt_log,
    follow_up_close,
    follow_up_request,
    followups_create_for_encounter,
    followups_escalate_overdue,
)
from cases.services.residents import (
    PossibleDuplicates,
    resident_create,
    resident_merge,
    resident_possible_duplicates,
    resident_unmerge,
    resident_update,
)

__all__ = [
    "CallInput",
    "PossibleDuplicates",
    "addendum_add",
    "addendum_approve",
    "addendum_reject",
    "call_event_record",
    "call_event_undo",
    "call_upsert",
    "consent_record",
    "consent_revoke",
    "contact_attempt_log",
    "encounter_create",
    "encounter_submit",
    "encounter_update",
    "follow_up_close",
    "follow_up_request",
    "followups_create_for_encounter",
    "followups_escalate_overdue",
    "resident_create",
    "resident_merge",
    "resident_possible_duplicates",
    "resident_unmerge",
    "resident_update",
    "unit_service_status_set",
]
