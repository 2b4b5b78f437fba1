"""The notification outbox against a real local SMS provider: once, in the resident's
language, with consent, never at night, never late; provider errors retried, then recorded."""

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from cases.local_sms import SmsReceiver
from cases.models import Consent, Notification, SmsOptOut
from cases.services.notifications import (
    notification_schedule,
    notification_send,
    notifications_due,
    quiet_hours_end,
)
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db
N = Notification
DENVER = ZoneInfo("America/Denver")
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=DENVER)
PHONE = "+15055550123"


@pytest.fixture
def sms(settings):
    receiver = SmsReceiver().start()
    for name, value in receiver.settings().items():
        setattr(settings, name, value)
    yield receiver
    receiver.stop()


@pytest.fixture
def resident(case_manager):
    resident = ResidentFactory(
        preferred_name="Rosa Secret", phone="(505) 555-0123", preferred_language="es"
    )
    Consent.objects.create(
        resident=resident,
        scope=Consent.Scope.SMS,
        method=Consent.Method.VERBAL,
        recorded_by=case_manager,
    )
    return resident


def checkin(resident, at=NOON, **kwargs):
    return notification_schedule(
        template="checkin", channel="sms", resident=resident, due_at=at, **kwargs
    )


def test_a_due_text_goes_out_once_in_the_residents_language(sms, resident):
    row = checkin(resident)
    assert notification_send(row.pk, now=NOON) == N.Status.SENT
    assert notification_send(row.pk, now=NOON) is None  # a second task: nothing to do
    (body,) = sms.bodies_to(PHONE)
    assert body.startswith("Albuquerque Community Safety quiere saber")
    assert "PARA" in body
    assert "Rosa" not in body
    row.refresh_from_db()
    assert row.status == N.Status.SENT and row.provider_message_id.startswith("SM")
    assert row.to_address == PHONE and row.attempts == 1


def test_english_for_english_speakers(sms, resident):
    resident.preferred_language = "en"
    resident.save()
    notification_send(checkin(resident).pk, now=NOON)
    assert sms.bodies_to(PHONE)[0].startswith("Albuquerque Community Safety checking in")


def test_scheduling_twice_with_one_key_makes_one_row(resident):
    first = checkin(resident, dedupe_key="k")
    assert checkin(resident, dedupe_key="k").pk == first.pk


@pytest.mark.parametrize(
    "local,waits_until",
    [
        ((2026, 11, 24, 22, 30), (2026, 11, 25, 8, 0)),
        ((2026, 11, 25, 6, 15), (2026, 11, 25, 8, 0)),
        ((2026, 11, 24, 20, 0), (2026, 11, 25, 8, 0)),
        ((2026, 11, 24, 7, 59), (2026, 11, 24, 8, 0)),
    ],
)
def test_quiet_hours_hold_resident_texts_until_morning(sms, resident, local, waits_until):
    at = datetime(*local, tzinfo=DENVER)
    row = checkin(resident, at=at)
    assert notification_send(row.pk, now=at) == N.Status.PENDING
    row.refresh_from_db()
    assert row.next_attempt_at == datetime(*waits_until, tzinfo=DENVER)
    assert row.attempts == 0 and sms.accepted == []
    assert notification_send(row.pk, now=row.next_attempt_at) == N.Status.SENT


def test_quiet_hours_edges():
    assert quiet_hours_end(datetime(2026, 11, 24, 19, 59, tzinfo=DENVER)) is None
    assert quiet_hours_end(datetime(2026, 11, 24, 8, 0, tzinfo=DENVER)) is None
    # The change from daylight saving time: still 8 am local the next morning.
    end = quiet_hours_end(datetime(2026, 10, 31, 23, 0, tzinfo=DENVER))
    assert end == datetime(2026, 11, 1, 8, 0, tzinfo=DENVER)


def test_staff_email_ignores_quiet_hours(case_manager, settings):
    case_manager.email = "cm@acs.invalid"
    case_manager.save()
    night = datetime(2026, 11, 24, 23, 0, tzinfo=DENVER)
    row = notification_schedule(
        template="referral_expired",
        channel="email",
        user=case_manager,
        context={"referral_pk": 7},
        due_at=night,
    )
    assert notification_send(row.pk, now=night) == N.Status.SENT
    (message,) = mail.outbox
    assert message.to == ["cm@acs.invalid"] and "/admin/resources/referral/7/" in message.body


def test_consent_is_checked_when_sending_not_only_when_scheduling(sms, resident, case_manager):
    row = checkin(resident)
    from cases.services import consent_revoke

    consent_revoke(actor=case_manager, consent=resident.consents.get())
    assert notification_send(row.pk, now=NOON) == N.Status.CANCELLED
    row.refresh_from_db()
    assert row.last_error == "No sms consent." and sms.accepted == []


def test_a_number_that_texted_stop_gets_nothing(sms, resident):
    SmsOptOut.objects.create(phone=PHONE, opted_out_at=timezone.now(), keyword="STOP")
    row = checkin(resident)
    assert notification_send(row.pk, now=NOON) == N.Status.CANCELLED
    assert sms.accepted == []


def test_a_message_past_its_life_expires_unsent(sms, resident):
    row = checkin(resident)
    late = NOON + timedelta(days=3)
    assert notification_send(row.pk, now=late) == N.Status.EXPIRED
    assert sms.accepted == []


def test_transient_errors_retry_with_backoff_then_send(sms, resident):
    sms.statuses = [503, 500, 201]
    row = checkin(resident)
    assert notification_send(row.pk, now=NOON) == N.Status.PENDING
    row.refresh_from_db()
    assert timedelta(seconds=30) <= row.next_attempt_at - NOON <= timedelta(seconds=60)
    assert row.last_error == "HTTP 503"
    assert notification_send(row.pk, now=NOON) is None  # not due yet
    assert notification_send(row.pk, now=row.next_attempt_at) == N.Status.PENDING
    row.refresh_from_db()
    assert notification_send(row.pk, now=row.next_attempt_at) == N.Status.SENT
    assert len(sms.accepted) == 1


def test_a_permanent_error_fails_at_once_with_the_reason(sms, resident):
    sms.statuses = [400]
    row = checkin(resident)
    assert notification_send(row.pk, now=NOON) == N.Status.FAILED
    row.refresh_from_db()
    assert "21211" in row.last_error


def test_exhausted_retries_fail_with_the_reason(sms, resident, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    sms.statuses = [500]
    row = checkin(resident)
    notification_send(row.pk, now=NOON)
    row.refresh_from_db()
    assert notification_send(row.pk, now=row.next_attempt_at) == N.Status.FAILED
    row.refresh_from_db()
    assert row.last_error == "Gave up: HTTP 500" and row.attempts == 2


def test_an_unconfigured_provider_is_a_recorded_failure(resident, settings):
    settings.SMS_API_BASE_URL = ""
    row = checkin(resident)
    assert notification_send(row.pk, now=NOON) == N.Status.FAILED
    row.refresh_from_db()
    assert "not configured" in row.last_error


class TestADeadWorkersLease:
    """A worker died after marking the row in flight: whoever retakes the lease asks the
    provider before texting again."""

    def _died_mid_send(self, row, at, in_flight=None):
        Notification.objects.filter(pk=row.pk).update(
            status=N.Status.SENDING,
            attempts=1,
            lease_until=at - timedelta(seconds=1),
            in_flight_since=in_flight or at - timedelta(minutes=1),
        )

    def test_the_provider_had_it_so_it_is_not_sent_again(self, sms, resident):
        row = checkin(resident)
        notification_send(row.pk, now=NOON)  # goes out
        self._died_mid_send(row, NOON + timedelta(minutes=2))  # ... but was never marked
        assert notification_send(row.pk, now=NOON + timedelta(minutes=2)) == N.Status.SENT
        assert len(sms.accepted) == 1

    def test_the_provider_never_got_it_so_it_goes_out(self, sms, resident):
        row = checkin(resident)
        self._died_mid_send(row, NOON)
        assert notification_send(row.pk, now=NOON) == N.Status.SENT
        assert len(sms.accepted) == 1

    def test_a_text_that_went_out_is_not_called_expired(self, sms, resident):
        row = checkin(resident)
        notification_send(row.pk, now=NOON)
        late = NOON + timedelta(days=3)
        # The receiver stamps messages with the real clock: the mark is from "just now".
        self._died_mid_send(row, late, in_flight=timezone.now() - timedelta(minutes=1))
        assert notification_send(row.pk, now=late) == N.Status.SENT
        assert len(sms.accepted) == 1

    @pytest.mark.parametrize("how", ["the connection dropped", "the answer timed out"])
    def test_an_answer_lost_after_the_provider_accepted_sends_no_second_text(
        self, sms, resident, settings, how
    ):
        row = checkin(resident)
        if how == "the connection dropped":
            sms.drop_after_accept = True
        else:
            sms.delay, settings.SMS_TIMEOUT_SECONDS = 0.6, 0.2
        assert notification_send(row.pk, now=NOON) == N.Status.PENDING
        row.refresh_from_db()
        assert row.last_error in {"ConnectionError", "ReadTimeout"}
        assert row.in_flight_since is not None  # it may have gone out: ask first next time
        deadline = time.monotonic() + 5
        while not sms.accepted and time.monotonic() < deadline:
            time.sleep(0.05)
        sms.drop_after_accept, sms.delay = False, 0.0

        assert notification_send(row.pk, now=row.next_attempt_at) == N.Status.SENT
        assert len(sms.accepted) == 1 and sms.lookups == 1
        row.refresh_from_db()
        assert row.provider_message_id == sms.accepted[0]["sid"]

    def test_a_failed_lookup_keeps_the_mark_and_sends_nothing(self, sms, resident):
        row = checkin(resident)
        self._died_mid_send(row, NOON)
        sms.server.shutdown()
        sms.server.server_close()
        assert notification_send(row.pk, now=NOON) == N.Status.PENDING
        row.refresh_from_db()
        assert row.in_flight_since is not None and "confirm" in row.last_error
        sms.server = None

    def test_a_slow_attempt_cannot_overwrite_the_next_ones_result(self, sms, resident):
        from cases.services.notifications import _claim, _finish

        row = checkin(resident)
        slow, _ = _claim(row.pk, NOON)  # the first worker takes it, then stalls
        Notification.objects.filter(pk=row.pk).update(lease_until=NOON - timedelta(seconds=1))
        assert notification_send(row.pk, now=NOON) == N.Status.SENT  # the next one sends
        _finish(slow, status=N.Status.FAILED, last_error="late news")  # the stalled one wakes
        row.refresh_from_db()
        assert row.status == N.Status.SENT and row.last_error == ""

    def test_only_the_lease_holder_writes_a_result_while_the_row_is_in_flight(self, resident):
        from cases.services.notifications import _claim, _finish

        row = checkin(resident)
        slow, _ = _claim(row.pk, NOON)  # the first worker takes it, then stalls
        Notification.objects.filter(pk=row.pk).update(lease_until=NOON - timedelta(seconds=1))
        current, _ = _claim(row.pk, NOON)  # the next one retakes it and is still sending
        assert current.attempts == slow.attempts + 1
        # The stalled one wakes while the row is still "sending": its result is not written.
        assert _finish(slow, status=N.Status.FAILED, last_error="late news") is None
        row.refresh_from_db()
        assert row.status == N.Status.SENDING and row.last_error == ""
        assert row.lease_until is not None  # the current holder's lease stands
        assert _finish(current, status=N.Status.CANCELLED, last_error="ours") == "cancelled"
        row.refresh_from_db()
        assert row.status == N.Status.CANCELLED and row.last_error == "ours"

    def test_a_live_lease_is_left_alone(self, sms, resident):
        row = checkin(resident)
        Notification.objects.filter(pk=row.pk).update(
            status=N.Status.SENDING, lease_until=NOON + timedelta(minutes=1)
        )
        assert notifications_due(now=NOON) == []
        assert notification_send(row.pk, now=NOON) is None
        assert notifications_due(now=NOON + timedelta(minutes=2)) == [row.pk]


def test_the_sweep_finds_due_rows_only(resident):
    due = checkin(resident)
    checkin(resident, at=NOON + timedelta(hours=1))
    assert notifications_due(now=NOON) == [due.pk]
