"""The claim: one statement takes a batch of rows for one attempt each and returns what
sending them needs, the send-time checks' reads included; and the address each row goes to.

The statement takes the rows (the lease, the attempt counted: its number is the lease's
token, only its holder may write the result; the queue mark cleared; the in-flight mark set,
committed before any request leaves, an earlier one kept since it dates a text that may have
gone out) and, in the same round trip, reads for each the recipient's address, whether the
consent for the channel holds now and whether the number texted STOP. The rows come back as
plain values (`ClaimedRow`), not model instances: no recipient's name or other personal data
is loaded into the sender."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from acs.phones import phone_has_extension, phone_textable
from cases.models import Consent, Notification, SmsOptOut
from cases.services.notifications.schedule import lease

N = Notification

# What phone_canonical stores for a number without an extension (E.164), having checked that
# the number can exist: the sender takes such a number as it is. Anything else (an old number
# the phones migration could not read, one with an extension) is read by phone_textable.
CANONICAL_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")

CLAIM = """
WITH claimed AS (
    SELECT id, in_flight_since FROM cases_notification
    WHERE id = ANY(%(ids)s) AND next_attempt_at <= %(now)s
      AND (status = 'pending' OR (status = 'sending' AND lease_until < %(now)s))
    ORDER BY id
    FOR UPDATE SKIP LOCKED
), taken AS (
    UPDATE cases_notification AS n
    SET status = 'sending', lease_until = %(lease)s, attempts = n.attempts + 1,
        queued_until = NULL, updated_at = %(now)s,
        in_flight_since = COALESCE(n.in_flight_since, %(now)s)
    FROM claimed
    WHERE n.id = claimed.id
    RETURNING n.id, n.attempts, n.channel, n.recipient_kind, n.template, n.language,
        n.context, n.expires_at, n.resident_id, n.user_id, n.organization_id,
        claimed.in_flight_since AS left_in_flight
)
SELECT t.id, t.attempts, t.channel, t.recipient_kind, t.template, t.language,
    t.context::text, t.expires_at, t.left_in_flight,
    r.phone, r.email,
    EXISTS (
        SELECT 1 FROM ({holding}) AS c
        WHERE c.resident_id = r.id
          AND c.scope = CASE WHEN t.channel = %(sms)s THEN %(sms_scope)s ELSE %(email_scope)s END
    ),
    EXISTS (
        SELECT 1 FROM cases_smsoptout AS o WHERE o.phone = r.phone AND o.opted_in_at IS NULL
    ),
    u.is_active, u.email, org.email
FROM taken AS t
LEFT JOIN cases_resident AS named ON named.id = t.resident_id
LEFT JOIN cases_resident AS r ON r.id = COALESCE(named.merged_into_id, named.id)
LEFT JOIN {users} AS u ON u.id = t.user_id
LEFT JOIN {organizations} AS org ON org.id = t.organization_id
ORDER BY t.id
"""


@dataclass(slots=True)
class ClaimedRow:
    """A claimed row, as the claim returned it: the notification's own fields the send needs
    (`attempts` is this attempt's number) and what the checks read of its recipient (the
    resident's, or whom they were merged into)."""

    pk: int
    attempts: int
    channel: str
    recipient_kind: str
    template: str
    language: str
    context: str  # JSON, rendered when the text is made
    expires_at: datetime
    phone: str | None
    email: str | None
    consent: bool  # the resident's consent for the channel holds now
    opted_out: bool  # the number texted STOP (and not START since)
    user_active: bool | None
    user_email: str | None
    organization_email: str | None
    textable: str = ""  # the number a text goes to ("" when none)
    status: str = N.Status.SENDING


@dataclass(slots=True)
class _Attempt:
    row: ClaimedRow
    left_in_flight: datetime | None
    address: str = ""
    subject: str = ""
    body: str = ""
    result: dict[str, Any] | None = None


@cache
def _statement() -> str:
    """CLAIM with the consent rule (`Consent.objects.holding`, the one place that says it in
    SQL) and the table names filled in; its parameters are named `holding_N`."""
    sql, params = _holding(timezone.now())
    parts = sql.split("%s")
    if len(parts) != len(params) + 1:
        raise RuntimeError("The consent rule's SQL has an unexpected shape.")
    holding = parts[0] + "".join(f"%(holding_{i})s{part}" for i, part in enumerate(parts[1:]))
    return CLAIM.format(
        holding=holding,
        users=connection.ops.quote_name(N._meta.get_field("user").related_model._meta.db_table),
        organizations=connection.ops.quote_name(
            N._meta.get_field("organization").related_model._meta.db_table
        ),
    )


def _holding(now: datetime) -> tuple[str, tuple[Any, ...]]:
    query = Consent.objects.holding(now).values("resident_id", "scope").query
    sql, params = query.sql_with_params()
    return sql, tuple(params)


def _claim_many(pks: list[int], now: datetime) -> list[_Attempt]:
    """Take what is ours of `pks` for one attempt each, in one statement (with the send-time
    checks' reads); the attempts, in id order."""
    if not pks:
        return []
    params: dict[str, Any] = {
        "ids": list(pks),
        "now": now,
        "lease": now + lease(),
        "sms": N.Channel.SMS,
        "sms_scope": Consent.Scope.SMS,
        "email_scope": Consent.Scope.EMAIL,
    }
    params.update({f"holding_{i}": value for i, value in enumerate(_holding(now)[1])})
    with connection.cursor() as cursor:
        cursor.execute(_statement(), params)
        fetched = cursor.fetchall()
    attempts = [_Attempt(ClaimedRow(*values[:8], *values[9:]), values[8]) for values in fetched]
    _read_numbers([a.row for a in attempts])
    return attempts


def _read_numbers(rows: list[ClaimedRow]) -> None:
    """Each resident text's number: a canonical one as stored (the claim matched its opt-out
    already), any other read by phone_textable, and its opt-out looked up here (one query,
    only for a batch that has such numbers)."""
    unread: list[ClaimedRow] = []
    for row in rows:
        if row.recipient_kind != N.Recipient.RESIDENT or row.channel != N.Channel.SMS:
            continue
        stored = row.phone or ""
        if CANONICAL_PHONE.fullmatch(stored):
            row.textable = stored
        else:
            row.textable = phone_textable(stored)
            if row.textable:
                unread.append(row)
    if unread:
        opted_out = set(
            SmsOptOut.objects.filter(
                phone__in={row.textable for row in unread}, opted_in_at__isnull=True
            ).values_list("phone", flat=True)
        )
        for row in unread:
            row.opted_out = row.textable in opted_out


def _claim(pk: int, now: datetime) -> tuple[ClaimedRow, datetime | None] | None:
    """Take one row for one attempt; returns it and the in-flight mark a dead worker left."""
    attempts = _claim_many([pk], now)
    return (attempts[0].row, attempts[0].left_in_flight) if attempts else None


def _address(row: ClaimedRow) -> tuple[str, str]:
    """(address, reason it cannot be used) for the row's recipient and channel, as the claim
    read them."""
    if row.recipient_kind == N.Recipient.RESIDENT:
        if not row.consent:
            return "", f"No {row.channel} consent."
        if row.channel == N.Channel.SMS:
            if not row.textable and phone_has_extension(row.phone or ""):
                return "", "The number has an extension (a switchboard): it cannot take texts."
            if not row.textable:
                return "", "No usable phone number."
            if row.opted_out:
                return "", "The number texted STOP."
            return row.textable, ""
        return (row.email, "") if row.email else ("", "No e-mail address.")
    if row.recipient_kind == N.Recipient.STAFF:
        if not row.user_active:
            return "", "The account is inactive."
        return (row.user_email, "") if row.user_email else ("", "No e-mail address.")
    email = row.organization_email
    return (email, "") if email else ("", "The organization has no e-mail address.")


def quiet_hours_end(at: datetime) -> datetime | None:
    """If `at` falls in the quiet hours (department time), when they end; else None."""
    local = timezone.localtime(at)
    start, end = settings.QUIET_HOURS_START, settings.QUIET_HOURS_END
    hour = local.hour
    quiet = (hour >= start or hour < end) if start > end else (start <= hour < end)
    if not quiet:
        return None
    day = local.date() if hour < end else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(end)), local.tzinfo)
