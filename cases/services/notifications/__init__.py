"""The notification outbox: schedule, claim, send, and record what happened.

Every message is sent once:

- **Nothing lost.** A notification is a row, written in the transaction of the event that
  caused it. The queue only carries ids, a batch per task: `sweep_notifications` (beat, every
  minute) finds rows that are due (or whose worker died) whatever happened to their task,
  through `notifications_queue_due`, which marks what it hands out (`queued_until`) so that
  a row is not queued again while its task waits.
- **Nothing twice.** `notifications_send_batch` claims its rows in one statement (pending
  and due, or sending with a lapsed lease) and counts the attempt, whose number is the
  lease's token; a second task for the same rows finds nothing to claim, and only the
  holder writes a result. The same statement marks the rows in flight (committed before any
  request leaves); a worker that dies after that leaves the mark, and whoever retakes the
  lease asks the SMS provider whether the text already went out (`SmsProvider.find_sent`)
  before sending again. A timeout after the request left is treated the same way. (E-mail
  has no such question to ask: a retaken e-mail may be sent again; no e-mail goes to a
  resident's phone.)
- **Nothing late.** A row past `expires_at` ends as expired instead of going out.
- **Nothing kept.** A sent row records the address and text it went out with, for as long
  as a reply may be matched to it and staff may need to see what went out
  (NOTIFICATION_TEXT_TTL, 30 days); then `notification_texts_forget` blanks them. The row
  (template, recipient, status, times) stays.

For residents, at send time (not only at scheduling): the consent for the channel must hold,
the number must not have texted STOP, and the department's quiet hours (8 pm to 8 am, America/
Denver) hold the message until morning. Texts are in the resident's language. The claim's
statement reads the consent and the opt-out with the rows it takes, so a resident who opted
out after the text was queued gets none.

The parts: `schedule` (the outbox and the queue: scheduling, cancelling, the sweep's
selection), `claim` (the claim statement, what it returns, the address and quiet hours),
`record` (an attempt's result and the statement that records a batch's), `pace` (how many
sends at once), `sending` (a batch from its claim to its record).
"""

from cases.services.notifications.claim import ClaimedRow, _claim, _claim_many, quiet_hours_end
from cases.services.notifications.pace import SendPace, send_pace
from cases.services.notifications.record import _finish, _record
from cases.services.notifications.schedule import (
    IN_FLIGHT_SLACK,
    SWEEP_BATCH,
    SWEEP_BATCHES_PER_STATEMENT,
    SWEEP_SECONDS,
    lease,
    notification_schedule,
    notification_texts_expired,
    notification_texts_forget,
    notifications_cancel,
    notifications_due,
    notifications_queue,
    notifications_queue_due,
    queued_until,
)
from cases.services.notifications.sending import (
    notification_send,
    notifications_send_batch,
    notifications_start_batch,
    send_deadline,
)

__all__ = [
    "IN_FLIGHT_SLACK",
    "SWEEP_BATCH",
    "SWEEP_BATCHES_PER_STATEMENT",
    "SWEEP_SECONDS",
    "ClaimedRow",
    "SendPace",
    "_claim",
    "_claim_many",
    "_finish",
    "_record",
    "lease",
    "notification_schedule",
    "notification_send",
    "notification_texts_expired",
    "notification_texts_forget",
    "notifications_cancel",
    "notifications_due",
    "notifications_queue",
    "notifications_queue_due",
    "notifications_send_batch",
    "notifications_start_batch",
    "queued_until",
    "quiet_hours_end",
    "send_deadline",
    "send_pace",
]
