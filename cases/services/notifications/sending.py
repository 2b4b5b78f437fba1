"""The sender: a batch claimed (with its checks), sent concurrently over keep-alive
connections at the provider's rate, and recorded in one statement."""

from __future__ import annotations

import json
import logging
import time as _time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from acs.batches import InFlight, failure_kind, in_flight, process_pool
from cases import channels, messages
from cases.models import Notification
from cases.services.notifications.claim import (
    ClaimedRow,
    _address,
    _Attempt,
    _claim_many,
    quiet_hours_end,
)
from cases.services.notifications.pace import send_pace
from cases.services.notifications.record import (
    AMBIGUOUS,
    Result,
    _not_started,
    _record,
    _retry_or_fail,
    _sent,
)
from cases.services.notifications.schedule import IN_FLIGHT_SLACK, notifications_queue

logger = logging.getLogger("cases.services.notifications")

N = Notification
# Texts made in a batch, by (template, language, context as JSON).
Renders = dict[tuple[str, str, str], messages.Rendered]


def _status_callback_url() -> str:
    return f"{settings.ACS_BASE_URL}/hooks/sms/status"


class _Provider:
    """The SMS provider, read from the settings once per batch and only when needed."""

    def __init__(self, given: channels.SmsProvider | None) -> None:
        self.given = given

    def __call__(self) -> channels.SmsProvider:
        if self.given is None:
            self.given = channels.SmsProvider.from_settings()
        return self.given


def _render(row: ClaimedRow, renders: Renders) -> messages.Rendered:
    """The row's text, made once per batch for rows with the same template, language and
    context (a batch of check-ins is mostly one text)."""
    key = (row.template, row.language, row.context)
    rendered = renders.get(key)
    if rendered is None:
        rendered = renders[key] = messages.render(
            row.template, row.language, json.loads(row.context)
        )
    return rendered


def _prepare(
    attempt: _Attempt,
    now: datetime,
    provider: _Provider,
    renders: Renders,
) -> Result | None:
    """The checks made at send time, on what the claim read; a result when the row ends
    here, else None (to send)."""
    row = attempt.row
    address, refused = _address(row)
    subject, body = _render(row, renders)
    if attempt.left_in_flight is not None and row.channel == N.Channel.SMS and address:
        # A worker died (or a request timed out) after the text may have left: ask the
        # provider before anything else, so that a sent text is never sent again nor called
        # expired or cancelled.
        try:
            already = provider().find_sent(
                to=address, body=body, since=attempt.left_in_flight - IN_FLIGHT_SLACK
            )
        except channels.ChannelError as exc:
            return _retry_or_fail(row, now, f"Could not confirm an earlier attempt: {exc}", True)
        if already:
            return _sent(address, body, already, now)
    if now >= row.expires_at:
        return {"status": N.Status.EXPIRED, "last_error": "Past its useful life."}
    if refused:
        return {"status": N.Status.CANCELLED, "last_error": refused}
    if row.recipient_kind == N.Recipient.RESIDENT and row.template not in messages.ON_REQUEST:
        morning = quiet_hours_end(now)
        if morning is not None:
            if morning >= row.expires_at:
                return {"status": N.Status.EXPIRED, "last_error": "Quiet hours until expiry."}
            # Not an attempt: it waits for the morning.
            return {
                "status": N.Status.PENDING,
                "next_attempt_at": morning,
                "attempts": row.attempts - 1,
            }
    if row.channel == N.Channel.SMS:
        try:
            provider()
        except channels.PermanentError as exc:
            return {"status": N.Status.FAILED, "last_error": str(exc), "in_flight_since": None}
    attempt.address, attempt.subject, attempt.body = address, subject, body
    return None


def _send(
    attempt: _Attempt, now: datetime, provider: _Provider, rate: channels.SendRate | None
) -> Result:
    """One text or e-mail, its slot under the provider's rate already taken (in a thread of
    the sender's pool: no database here)."""
    row = attempt.row
    try:
        if row.channel == N.Channel.SMS:
            message_id = provider().send(
                to=attempt.address, body=attempt.body, status_callback=_status_callback_url()
            )
        else:
            message_id = channels.send_email(
                to=attempt.address, subject=attempt.subject, body=attempt.body
            )
    except channels.Throttled as exc:
        # The provider asked everyone to slow down: nothing went out and no attempt is
        # counted; every sender holds off, and the text goes again after the pause.
        if rate is not None:
            rate.pause(exc.retry_after)
        return {
            **_not_started(row),
            "next_attempt_at": now + timedelta(seconds=exc.retry_after),
            "last_error": f"{exc} (the provider asked to slow down)",
        }
    except channels.PermanentError as exc:
        return {"status": N.Status.FAILED, "last_error": str(exc), "in_flight_since": None}
    except channels.TransientError as exc:
        # An answer that never came may hide a text that went out: keep the mark, so the
        # next attempt asks the provider first.
        return _retry_or_fail(row, now, str(exc), str(exc) in AMBIGUOUS)
    return _sent(attempt.address, attempt.body, message_id, now)


# Slots under the provider's rate a sending thread takes in one round trip to Redis.
RATE_SLOTS_AT_ONCE = 10


def _send_share(
    share: list[_Attempt],
    now: datetime,
    provider: _Provider,
    rate: channels.SendRate | None,
    deadline: float,
) -> list[float]:
    """One sending thread's share of a batch, one after another over its keep-alive
    connection, each result on its attempt. Texts take their slots under the provider's rate
    a few at a time; none starts after `deadline`, nor while a 429 seen here holds everyone
    off (the slots taken before it are given up and taken again after the pause). Returns
    how long each send took (seconds, the wait for a slot left out)."""
    answers: list[float] = []
    slots = 0
    for i, attempt in enumerate(share):
        row = attempt.row
        try:
            if row.channel == N.Channel.SMS and rate is not None:
                if slots and rate.paused_here():
                    slots = 0
                if not slots:
                    slots = rate.acquire(deadline, min(RATE_SLOTS_AT_ONCE, len(share) - i))
                if not slots or _time.time() >= deadline:
                    slots = 0
                    attempt.result = _not_started(row)
                    continue
                slots -= 1
            elif _time.time() >= deadline:
                attempt.result = _not_started(row)
                continue
            started = _time.perf_counter()
            attempt.result = _send(attempt, now, provider, rate)
            answers.append(_time.perf_counter() - started)
        except Exception as exc:
            # Not a channel's answer: the text may have gone out; keep the mark, so the next
            # attempt asks the provider first.
            logger.error("notification %s: the send failed: %s", row.pk, failure_kind(exc))
            attempt.result = _retry_or_fail(row, now, f"Error: {type(exc).__name__}", True)
    return answers


def _pool() -> ThreadPoolExecutor:
    """This process's sender threads."""
    return process_pool("notification-send", settings.NOTIFICATION_SEND_CONCURRENCY)


def _in_flight() -> InFlight:
    """This process's batches between their claim and their record."""
    return in_flight("notifications", settings.NOTIFICATION_BATCHES_IN_FLIGHT)


def send_deadline() -> float:
    """No send starts after this (time.time()): each that started has its provider timeout
    to finish and the results their statement, inside the task's soft time limit, so the
    lease (past the hard limit) never lapses under a live sender."""
    budget: float = settings.CELERY_TASK_SOFT_TIME_LIMIT - 2 * settings.SMS_TIMEOUT_SECONDS - 5
    return _time.time() + max(budget, 5)


@dataclass
class _Batch:
    """A batch between its claim and its record."""

    attempts: list[_Attempt]
    to_send: list[_Attempt]
    now: datetime
    provider: _Provider
    deadline: float


def _begin(
    pks: list[int], now: datetime, provider: channels.SmsProvider | None, deadline: float
) -> _Batch | None:
    """Claim `pks` (what is ours to take) and make the send-time checks: a batch whose rows
    either have their result already or wait in `to_send`; None when nothing was ours."""
    attempts = _claim_many(pks, now)
    if not attempts:
        return None
    batch = _Batch(attempts, [], now, _Provider(provider), deadline)
    renders: Renders = {}
    for attempt in attempts:
        try:
            attempt.result = _prepare(attempt, now, batch.provider, renders)
        except Exception as exc:  # one bad row must not hold up its batch
            logger.error(
                "notification %s: the send-time checks failed: %s",
                attempt.row.pk,
                failure_kind(exc),
            )
            attempt.result = _retry_or_fail(attempt.row, now, f"Error: {type(exc).__name__}", True)
        if attempt.result is None:
            batch.to_send.append(attempt)
        elif attempt.left_in_flight is None:
            # Ended before any request left: the mark the claim set goes (one left by an
            # earlier attempt stays where the result keeps it).
            attempt.result.setdefault("in_flight_since", None)
    return batch


def _outcome(attempt: _Attempt) -> Result:
    if attempt.result is None:  # every attempt has one once its share is sent
        raise RuntimeError(f"notification {attempt.row.pk}: no result")
    return attempt.result


def _complete(batch: _Batch) -> dict[int, str]:
    """Send what waits in `batch` and record every row's result in one statement; the status
    each row was left in (rows whose lease was taken over meanwhile are absent)."""
    now, attempts, to_send = batch.now, batch.attempts, batch.to_send
    if to_send:
        # The claim's mark is committed: a worker that dies from here on leaves it, and
        # whoever retakes the lease asks the provider first.
        sms = any(a.row.channel == N.Channel.SMS for a in to_send)
        rate = channels.SendRate(batch.provider()) if sms else None
        # A share of the batch per sending thread, each sent one after another over the
        # thread's keep-alive connection (not a thread hand-off per text).
        # As many shares as the provider's answer time calls for (SendPace).
        pace = send_pace(batch.provider().base_url if sms else "email")
        threads = max(1, min(pace.threads(), len(to_send)))
        shares = [to_send[i::threads] for i in range(threads)]
        if threads == 1:  # no thread hand-off for one share
            answers = _send_share(shares[0], now, batch.provider, rate, batch.deadline)
        else:
            futures = [
                _pool().submit(_send_share, share, now, batch.provider, rate, batch.deadline)
                for share in shares
            ]
            # Each result is on its attempt; _send_share does not raise.
            answers = [answer for future in futures for answer in future.result()]
        pace.note(answers)
    results = [(a.row, _outcome(a)) for a in attempts]
    written = _record(results)
    statuses = {row.pk: str(result.get("status", row.status)) for row, result in results}
    sids = [
        str(result["provider_message_id"])
        for row, result in results
        if row.pk in written and result.get("provider_message_id")
    ]
    if sids:
        from cases.services.inbound import early_receipts_apply

        # Receipts the provider sent while we were still reading its answers (after the
        # record, so that a receipt stored meanwhile is seen here or sees the row).
        early_receipts_apply(sids)
    # Given back without an attempt counted (the task's time ran out, or the provider asked
    # to slow down), not held for the morning: queued again at once, to run when due,
    # rather than waiting for the sweep.
    again: dict[int, datetime] = {
        row.pk: result.get("next_attempt_at", now)
        for row, result in results
        if row.pk in written
        and statuses[row.pk] == N.Status.PENDING
        and result.get("attempts") == row.attempts - 1
        and result.get("next_attempt_at", now) - now <= timedelta(seconds=60)
    }
    if again:
        wait = max((at - now).total_seconds() for at in again.values())
        notifications_queue(sorted(again), countdown=max(wait, 0) or None)
    return {pk: status for pk, status in statuses.items() if pk in written}


def notifications_send_batch(
    pks: list[int],
    *,
    now: datetime | None = None,
    provider: channels.SmsProvider | None = None,
    deadline: float | None = None,
) -> dict[int, str]:
    """One attempt at each of `pks` that is ours to take: claimed in one statement, checked,
    marked in flight in one statement, sent concurrently (NOTIFICATION_SEND_CONCURRENCY, at
    the provider's rate), recorded in one statement. Returns the status each row was left in
    (rows that were not ours, or whose lease was taken over, are absent)."""
    batch = _begin(pks, now or timezone.now(), provider, deadline or send_deadline())
    return _complete(batch) if batch is not None else {}


def notifications_start_batch(pks: list[int]) -> int:
    """The worker's way to send a batch: claimed and checked here, then sent and recorded by
    this process's threads while the worker takes its next task, so that a process keeps
    NOTIFICATION_BATCHES_IN_FLIGHT batches going (one claiming while another sends) instead
    of waiting on each in turn. Every guarantee of `notifications_send_batch` holds: the
    lease and the in-flight mark are committed before this returns, only their holder writes
    the result, and a process that dies with batches in flight leaves them to the lease. A
    worker that stops warmly finishes them first (`acs.batches.in_flight_drain`). When no
    batch finishes within the task's time, the rows are queued again, unclaimed. Returns
    how many rows were claimed."""
    deadline = send_deadline()
    flights = _in_flight()
    if not flights.reserve(timeout=max(deadline - _time.time(), 0)):
        logger.warning("%s notifications queued again: no batch in flight finished", len(pks))
        notifications_queue(pks, countdown=1)
        return 0
    try:
        batch = _begin(pks, timezone.now(), None, send_deadline())
    except BaseException:
        flights.release()
        raise
    if batch is None:
        flights.release()
        return 0
    flights.run(_complete, batch)
    return len(batch.attempts)


def notification_send(
    pk: int, *, now: datetime | None = None, provider: channels.SmsProvider | None = None
) -> str | None:
    """One attempt at notification `pk`; its status after, or None when it was not ours."""
    return notifications_send_batch([pk], now=now, provider=provider).get(pk)
