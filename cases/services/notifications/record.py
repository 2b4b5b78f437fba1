"""An attempt's result, and writing a batch's results in one statement: each only where the
row is still held by this attempt (status sending, the attempt number it claimed), so that a
slow worker whose lease was taken over does not overwrite the newer attempt's outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from acs.retry import backoff
from cases.models import Notification
from cases.services.notifications.claim import ClaimedRow

N = Notification
Result = dict[str, Any]

RECORD = """
UPDATE cases_notification AS n
SET status = v.status,
    lease_until = NULL,
    updated_at = %s,
    attempts = v.attempts,
    next_attempt_at = COALESCE(v.next_attempt_at, n.next_attempt_at),
    last_error = COALESCE(v.last_error, n.last_error),
    in_flight_since = CASE WHEN v.clear_mark THEN NULL ELSE n.in_flight_since END,
    sent_at = COALESCE(v.sent_at, n.sent_at),
    to_address = COALESCE(v.to_address, n.to_address),
    body = COALESCE(v.body, n.body),
    provider_message_id = COALESCE(v.provider_message_id, n.provider_message_id)
FROM unnest(
    %s::bigint[], %s::int[], %s::varchar[], %s::int[], %s::timestamptz[], %s::varchar[],
    %s::boolean[], %s::timestamptz[], %s::varchar[], %s::text[], %s::varchar[]
) AS v(
    id, claimed, status, attempts, next_attempt_at, last_error, clear_mark, sent_at,
    to_address, body, provider_message_id
)
WHERE n.id = v.id AND n.status = 'sending' AND n.attempts = v.claimed
RETURNING n.id
"""
RECORDED_FIELDS = {
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "in_flight_since",
    "sent_at",
    "to_address",
    "body",
    "provider_message_id",
    "lease_until",
}
AMBIGUOUS = {"ReadTimeout", "ConnectionError", "ChunkedEncodingError"}


def _record(results: list[tuple[ClaimedRow, Result]]) -> set[int]:
    """Write each row's result where this attempt still holds it; the ids written."""
    if not results:
        return set()
    # One array per column (unnest), not a VALUES row per result: the statement's text is
    # the same whatever the batch's size, and the driver quotes 11 arrays, not 11 values
    # per row (docs/benchmarks.md, "Issue 24, fourth step").
    columns: list[list[Any]] = [[] for _ in range(11)]
    for row, fields in results:
        unknown = set(fields) - RECORDED_FIELDS
        if unknown or fields.get("in_flight_since", None) is not None:
            raise ValueError(f"not a result field: {sorted(unknown) or 'in_flight_since'}")
        values = (
            row.pk,
            row.attempts,
            fields.get("status", row.status),
            fields.get("attempts", row.attempts),
            fields.get("next_attempt_at"),
            fields.get("last_error"),
            "in_flight_since" in fields,
            fields.get("sent_at"),
            fields.get("to_address"),
            fields.get("body"),
            fields.get("provider_message_id"),
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    with connection.cursor() as cursor:
        cursor.execute(RECORD, [timezone.now(), *columns])
        return {pk for (pk,) in cursor.fetchall()}


def _finish(row: ClaimedRow, **fields: Any) -> str | None:
    """Record one attempt's result; its status, or None when the row was no longer ours."""
    if not _record([(row, fields)]):
        return None
    return str(fields.get("status", row.status))


def _retry_or_fail(row: ClaimedRow, now: datetime, error: str, keep_mark: bool) -> Result:
    keep: Result = {} if keep_mark else {"in_flight_since": None}
    if row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        return {"status": N.Status.FAILED, "last_error": f"Gave up: {error}"[:500], **keep}
    return {
        "status": N.Status.PENDING,
        "next_attempt_at": now + backoff(row.attempts, base_seconds=60),
        "last_error": error[:500],
        **keep,
    }


def _sent(address: str, body: str, message_id: str, now: datetime) -> Result:
    return {
        "status": N.Status.SENT,
        "sent_at": now,
        "to_address": address,
        "body": body,
        "provider_message_id": message_id or "",
        "last_error": "",
    }


def _not_started(row: ClaimedRow) -> Result:
    """Given back untouched: no attempt counted, never sent (the mark goes)."""
    return {"status": N.Status.PENDING, "attempts": row.attempts - 1, "in_flight_since": None}
