"""The SMS provider's webhooks: signed or refused; STOP and START; answers to check-ins reach
the follow-up and a person, with no personal data in staff e-mails or logs; delivery receipts
recorded once, whatever the provider repeats."""

import json
import logging
import uuid
from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from acs.roles import Role
from cases import channels
from cases.local_sms import SID, SmsReceiver
from cases.models import (
    Consent,
    ContactAttempt,
    EarlyReceipt,
    FollowUp,
    Notification,
    SmsOptOut,
)
from cases.services import consent_record, inbound, resident_create
from cases.services.inbound import EARLY_RECEIPT_TTL, SYSTEM_USERNAME
from cases.services.notifications import notification_schedule, notification_send
from cases.services.retention import retention_expired_copies
from tests.cases.test_follow_ups import submitted_encounter
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
N = Notification
DENVER = ZoneInfo("America/Denver")
STATUS, INBOUND = "/hooks/sms/status", "/hooks/sms/inbound"
PHONE = "+15055550142"
OUR_NUMBER = "+15055550000"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@pytest.fixture
def sms(settings):
    receiver = SmsReceiver().start()
    for name, value in receiver.settings().items():
        setattr(settings, name, value)
    settings.ACS_BASE_URL = "https://acs.example.gov"
    yield receiver
    receiver.stop()


@pytest.fixture
def texting(responder):
    resident = resident_create(
        actor=responder, data={"preferred_name": "Sunny Secret", "phone": "505-555-0142"}
    )
    consent_record(actor=responder, resident=resident, scope=Consent.Scope.SMS, method="verbal")
    return resident


@pytest.fixture
def follow_up(responder, unit, texting):
    """An open follow-up whose check-in text is scheduled (not yet sent)."""
    submitted_encounter(responder, unit, "settled_by_contact", texting)
    return FollowUp.objects.get()


def noon_after(at):
    """The first noon (department time) at or after `at`: outside quiet hours."""
    local = timezone.localtime(at, DENVER)
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon >= local else noon + timedelta(days=1)


def send(row) -> Notification:
    assert notification_send(row.pk, now=noon_after(row.next_attempt_at)) == N.Status.SENT
    row.refresh_from_db()
    return row


@pytest.fixture
def checkin(sms, follow_up):
    """The follow-up's check-in, sent through the local provider."""
    return send(N.objects.get(template="checkin", follow_up=follow_up))


def sign(path, params, token=None, base=None):
    from django.conf import settings

    return channels.request_signature(
        settings.SMS_AUTH_TOKEN if token is None else token,
        (settings.ACS_BASE_URL if base is None else base) + path,
        params,
    )


def post(client, path, params, *, signature=""):
    """POST as the provider does: form-encoded, signed unless told otherwise."""
    headers = {}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature or sign(path, params)
    return client.post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


# A fresh message id with no digits in it: the tests look for the resident's number's digits
# ("0142") in what is stored and logged, and a random hex id holds them now and then.
_NO_DIGITS = str.maketrans("0123456789", "ghijklmnop")


def text(client, body, *, sid=None, from_number=PHONE, **kwargs):
    params = {
        "AccountSid": SID,
        "MessageSid": sid or f"SM{uuid.uuid4().hex.translate(_NO_DIGITS)}",
        "From": from_number,
        "To": OUR_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    return post(client, INBOUND, params, **kwargs)


def receipt(client, sid, status, **extra):
    params = {"AccountSid": SID, "MessageSid": sid, "MessageStatus": status, **extra}
    return post(client, STATUS, params)


def staff_notices():
    return list(N.objects.filter(template="checkin_reply").order_by("user_id"))


# --- signatures -------------------------------------------------------------------------------

BAD_SIGNATURES = {
    "missing": None,
    "wrong token": lambda path, params: sign(path, params, token="not-the-token"),
    "signed for this host, not the public URL": lambda path, params: sign(
        path, params, base="http://testserver"
    ),
    "another form": lambda path, params: sign(path, {**params, "MessageStatus": "queued"}),
}


@pytest.mark.parametrize("how", BAD_SIGNATURES)
def test_an_unsigned_or_badly_signed_receipt_is_refused_and_changes_nothing(client, checkin, how):
    params = {"AccountSid": SID, "MessageSid": checkin.provider_message_id}
    params["MessageStatus"] = "delivered"
    make = BAD_SIGNATURES[how]
    response = post(client, STATUS, params, signature=make and make(STATUS, params))

    assert response.status_code == 403
    checkin.refresh_from_db()
    assert checkin.provider_status == ""
    assert not ContactAttempt.objects.exists()


@pytest.mark.parametrize("how", BAD_SIGNATURES)
def test_an_unsigned_or_badly_signed_text_is_refused_and_changes_nothing(
    client, checkin, supervisor, how
):
    params = {"AccountSid": SID, "MessageSid": "SMx1", "From": PHONE, "To": OUR_NUMBER}
    params["Body"] = "STOP"
    make = BAD_SIGNATURES[how]
    response = post(client, INBOUND, params, signature=make and make(INBOUND, params))

    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()
    assert not staff_notices()


def test_signed_requests_pass_whatever_host_the_proxy_presents(client, sms, supervisor):
    # The test client calls itself "testserver"; the provider signed the public URL.
    response = text(client, "hello")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert response.content.decode() == EMPTY_TWIML


def test_without_an_auth_token_every_callback_is_refused(client, settings):
    settings.SMS_AUTH_TOKEN = ""
    params = {"MessageSid": "SMx", "MessageStatus": "delivered"}

    assert post(client, STATUS, params, signature=sign(STATUS, params, token="")).status_code == 403


def test_the_hooks_take_only_post(client, sms):
    assert client.get(STATUS).status_code == 405
    assert client.get(INBOUND).status_code == 405


# --- STOP and START ---------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["STOP", " stop ", "Para", "UNSUBSCRIBE", "quit"])
def test_stop_opts_the_number_out_and_cancels_its_waiting_texts(client, sms, follow_up, word):
    waiting = N.objects.get(template="checkin")
    other = resident_create(
        actor=follow_up.encounter.created_by,
        data={"preferred_name": "Other", "phone": "5055550999"},
    )
    Consent.objects.create(
        resident=other, scope="sms", method="verbal", recorded_by=follow_up.encounter.created_by
    )
    someone_elses = notification_schedule(template="checkin", channel="sms", resident=other)

    response = text(client, word)

    assert response.status_code == 200 and response.content.decode() == EMPTY_TWIML
    opt_out = SmsOptOut.objects.get()
    assert (opt_out.phone, opt_out.opted_in_at, opt_out.keyword) == (
        PHONE,
        None,
        word.strip().upper(),
    )
    waiting.refresh_from_db()
    assert (waiting.status, waiting.last_error) == (N.Status.CANCELLED, "The number texted STOP.")
    someone_elses.refresh_from_db()
    assert someone_elses.status == N.Status.PENDING
    assert follow_up.attempts.count() == 0  # STOP ends texts, not the follow-up


def test_stop_cancels_the_waiting_texts_of_a_record_merged_into_the_numbers_owner(
    client, sms, texting, case_manager
):
    from cases.services import resident_merge

    twin = resident_create(actor=case_manager, data={"preferred_name": "Sun"}, confirm_new=True)
    Consent.objects.create(resident=twin, scope="sms", method="verbal", recorded_by=case_manager)
    waiting = notification_schedule(template="checkin", channel="sms", resident=twin)
    resident_merge(actor=case_manager, survivor=texting, duplicate=twin)

    text(client, "STOP")

    waiting.refresh_from_db()
    assert waiting.status == N.Status.CANCELLED


def test_stop_twice_keeps_one_opt_out_and_later_texts_are_cancelled_at_send_time(
    client, sms, follow_up, texting
):
    text(client, "STOP")
    text(client, "PARA")

    assert SmsOptOut.objects.count() == 1
    later = send_or_status(
        notification_schedule(template="checkin", channel="sms", resident=texting)
    )
    assert later == N.Status.CANCELLED
    assert sms.accepted == []


def send_or_status(row):
    return notification_send(row.pk, now=noon_after(row.next_attempt_at))


@pytest.mark.parametrize("word", ["START", "inicio", "Unstop"])
def test_start_ends_the_opt_out_and_texts_go_out_again(client, sms, follow_up, texting, word):
    text(client, "STOP")

    text(client, word)

    opt_out = SmsOptOut.objects.get()
    assert opt_out.opted_in_at is not None
    again = notification_schedule(template="checkin", channel="sms", resident=texting)
    assert send_or_status(again) == N.Status.SENT
    assert len(sms.bodies_to(PHONE)) == 1
    text(client, "STOP")  # and a later STOP opts out anew
    assert SmsOptOut.objects.filter(opted_in_at__isnull=True).count() == 1


def test_yes_is_an_answer_not_an_opt_in(client, checkin):
    SmsOptOut.objects.create(phone="+15055550777", opted_out_at=timezone.now(), keyword="STOP")

    text(client, "YES", from_number="+15055550777")

    assert SmsOptOut.objects.get().opted_in_at is None


# --- answers to a check-in --------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["1", "yes", "Sí", " si. "])
def test_answer_1_logs_contact_and_closes_the_follow_up_as_connected(
    client, checkin, follow_up, supervisor, answer
):
    response = text(client, answer)

    assert response.status_code == 200
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome) == ("closed", "connected")
    attempt = follow_up.attempts.get()
    assert (attempt.channel, attempt.outcome) == ("sms", "reached")
    assert attempt.next_step == "Resident says they got connected"
    assert attempt.by.username == SYSTEM_USERNAME and follow_up.closed_by == attempt.by
    assert not staff_notices()


def test_the_machine_user_cannot_sign_in(client, checkin):
    text(client, "1")
    machine = ContactAttempt.objects.get().by

    assert not machine.is_active and not machine.has_usable_password()
    assert machine.role_names == []


def test_answer_2_logs_contact_and_tells_the_assignee(client, checkin, follow_up, case_manager):
    FollowUp.objects.filter(pk=follow_up.pk).update(assignee=case_manager)

    text(client, "2")

    follow_up.refresh_from_db()
    assert follow_up.status == "open" and follow_up.due_at <= timezone.now()
    attempt = follow_up.attempts.get()
    assert (attempt.outcome, attempt.next_step) == (
        "reached",
        "Resident says they did not get connected",
    )
    (notice,) = staff_notices()
    assert (notice.user, notice.channel, notice.follow_up) == (case_manager, "email", follow_up)
    assert notice.context == {
        "answer": "2: not connected",
        "path": f"/admin/cases/followup/{follow_up.pk}/change/",
    }


def test_answer_3_without_an_assignee_goes_to_the_supervisors(
    client, checkin, follow_up, supervisor
):
    other = UserFactory(username="sup-2", role=Role.SUPERVISOR)
    UserFactory(username="sup-gone", role=Role.SUPERVISOR, is_active=False)

    text(client, "3")

    assert follow_up.attempts.get().next_step == "Resident asks us to call"
    assert [n.user for n in staff_notices()] == [supervisor, other]
    assert {n.context["answer"] for n in staff_notices()} == {"3: please call"}


def test_an_unexpected_reply_reaches_a_person_without_its_words(
    client, checkin, follow_up, case_manager, caplog
):
    FollowUp.objects.filter(pk=follow_up.pk).update(assignee=case_manager)
    words = "Sunny here, please don't call my mother at 505 555 0199"

    with caplog.at_level(logging.DEBUG):
        text(client, words)

    (notice,) = staff_notices()
    assert notice.user == case_manager
    assert notice.context["answer"] == "an unexpected reply"
    assert not ContactAttempt.objects.exists()  # nobody knows yet who wrote or what it means
    follow_up.refresh_from_db()
    assert follow_up.status == "open" and follow_up.due_at <= timezone.now()
    stored = json.dumps(list(N.objects.values("context", "body", "last_error", "dedupe_key")))
    for secret in ("mother", "0199", "0142", "Sunny"):
        assert secret not in stored
        assert secret not in caplog.text


def test_a_text_that_answers_no_check_in_goes_to_the_supervisors(client, sms, supervisor):
    text(client, "2", from_number="+15055550333")

    (notice,) = staff_notices()
    assert notice.user == supervisor and notice.follow_up is None
    assert notice.context == {"answer": "an unexpected reply"}
    assert not ContactAttempt.objects.exists()


def test_an_old_check_in_is_not_the_one_answered(client, checkin, follow_up, supervisor):
    N.objects.filter(pk=checkin.pk).update(sent_at=timezone.now() - timedelta(days=15))

    text(client, "1")

    follow_up.refresh_from_db()
    assert follow_up.status == "open"
    (notice,) = staff_notices()
    assert notice.follow_up is None


def test_an_answer_after_the_follow_up_closed_still_reaches_a_person(
    client, checkin, follow_up, case_manager, supervisor
):
    from cases.services import follow_up_close

    follow_up_close(actor=case_manager, follow_up=follow_up, outcome="unable_to_contact")

    text(client, "3")

    assert not ContactAttempt.objects.exists()
    (notice,) = staff_notices()
    assert notice.context["answer"] == "3: please call" and notice.follow_up == follow_up


@pytest.mark.parametrize("answer", ["1", "2", "3", "what?"])
def test_the_same_text_delivered_twice_acts_once(client, checkin, follow_up, case_manager, answer):
    FollowUp.objects.filter(pk=follow_up.pk).update(assignee=case_manager)

    first = text(client, answer, sid="SMrepeated")
    again = text(client, answer, sid="SMrepeated")

    assert first.status_code == again.status_code == 200
    assert follow_up.attempts.count() == (0 if answer == "what?" else 1)
    assert len(staff_notices()) == (0 if answer == "1" else 1)


def test_nothing_personal_is_logged(client, checkin, follow_up, caplog):
    with caplog.at_level(logging.DEBUG):
        text(client, "STOP")
        text(client, "2")
        receipt(client, checkin.provider_message_id, "delivered")

    assert "sms inbound SM" in caplog.text and "sms status" not in caplog.text
    assert PHONE not in caplog.text and "0142" not in caplog.text


# --- delivery receipts ------------------------------------------------------------------------


def test_a_delivery_receipt_is_recorded_once_as_an_attempt(client, checkin, follow_up):
    sid = checkin.provider_message_id

    assert receipt(client, sid, "sent").status_code == 204
    checkin.refresh_from_db()
    assert checkin.provider_status == "sent"
    assert not ContactAttempt.objects.exists()

    for _ in range(2):  # the provider may call more than once
        assert receipt(client, sid, "delivered").status_code == 204
    receipt(client, sid, "sent")  # a late, older status does not move it back

    checkin.refresh_from_db()
    assert (checkin.provider_status, checkin.status) == ("delivered", N.Status.SENT)
    attempt = follow_up.attempts.get()
    assert (attempt.channel, attempt.outcome, attempt.at) == (
        "sms",
        "sms_delivered",
        checkin.sent_at,
    )
    follow_up.refresh_from_db()
    assert follow_up.attempts_made == 1 and follow_up.status == "open"


@pytest.mark.parametrize("status", ["failed", "undelivered"])
def test_a_failed_text_records_the_error_and_a_failed_attempt(client, checkin, follow_up, status):
    receipt(client, checkin.provider_message_id, status, ErrorCode="30003")
    receipt(client, checkin.provider_message_id, "delivered")  # the first final status stands

    checkin.refresh_from_db()
    assert checkin.provider_status == status
    assert checkin.last_error == f"SMS {status} (error 30003)"
    assert follow_up.attempts.get().outcome == "sms_failed"


def test_a_receipt_after_the_follow_up_closed_only_updates_the_text(client, checkin, follow_up):
    text(client, "1")

    assert receipt(client, checkin.provider_message_id, "delivered").status_code == 204

    checkin.refresh_from_db()
    assert checkin.provider_status == "delivered"
    assert follow_up.attempts.count() == 1  # the answer's, not a second


def test_a_receipt_for_an_unknown_message_changes_nothing_and_is_gone_after_a_day(client, checkin):
    response = receipt(client, "SMnotours", "delivered")

    assert response.status_code == 204
    checkin.refresh_from_db()
    assert checkin.provider_status == ""
    assert not ContactAttempt.objects.exists()
    # Kept in case its text's send result is still on its way, then removed by the sweep.
    assert list(EarlyReceipt.objects.values_list("message_sid", "status")) == [
        ("SMnotours", "delivered")
    ]
    assert retention_expired_copies()["unmatched delivery receipts"] == 0
    later = timezone.now() + EARLY_RECEIPT_TTL + timedelta(minutes=1)
    assert retention_expired_copies(now=later)["unmatched delivery receipts"] == 1
    assert not EarlyReceipt.objects.exists()


def test_a_receipt_that_comes_before_the_sends_answer_is_applied_when_it_lands(
    client, sms, follow_up, monkeypatch
):
    """The provider calls back (sent, then delivered) while our worker is still reading its
    answer to the send: the receipts find no text yet, are kept, and are applied when the
    send's result is recorded."""
    real_send = channels.SmsProvider.send

    def send_then_call_back(self, **kwargs):
        sid = real_send(self, **kwargs)
        for status in ("sent", "delivered"):
            assert receipt(client, sid, status).status_code == 204
        assert EarlyReceipt.objects.filter(message_sid=sid).count() == 2
        return sid

    monkeypatch.setattr(channels.SmsProvider, "send", send_then_call_back)
    checkin = send(N.objects.get(template="checkin", follow_up=follow_up))

    assert checkin.provider_status == "delivered"
    attempt = follow_up.attempts.get()
    assert (attempt.outcome, attempt.at) == ("sms_delivered", checkin.sent_at)
    assert not EarlyReceipt.objects.exists()


def test_a_receipt_stored_as_the_sender_records_is_still_applied(
    client, checkin, follow_up, monkeypatch
):
    """The other order of the race: the receipt's first look finds no text, the sender's
    result commits (and its look for early receipts finds none yet), then the receipt is
    stored: it looks again after storing, and applies itself."""
    real_apply = inbound._status_apply
    looks = []

    def first_look_misses(*args):
        looks.append(args)
        return None if len(looks) == 1 else real_apply(*args)

    monkeypatch.setattr(inbound, "_status_apply", first_look_misses)
    assert receipt(client, checkin.provider_message_id, "delivered").status_code == 204

    checkin.refresh_from_db()
    assert checkin.provider_status == "delivered"
    assert follow_up.attempts.get().outcome == "sms_delivered"
    assert not EarlyReceipt.objects.exists()


def test_a_receipt_without_a_message_id_is_a_bad_request(client, sms):
    assert post(client, STATUS, {"MessageStatus": "delivered"}).status_code == 400


# --- what a sent text leaves behind -----------------------------------------------------------


def sweep() -> dict:
    from cases.tasks import sweep_expired_copies

    return sweep_expired_copies.apply().get()


def test_a_sent_texts_number_and_words_are_forgotten_after_notification_text_ttl(
    client, checkin, settings
):
    settings.NOTIFICATION_TEXT_TTL = timedelta(days=30)
    assert checkin.to_address == PHONE and checkin.body
    assert sweep()["sent notification texts"] == 0  # a recent text keeps them
    N.objects.filter(pk=checkin.pk).update(sent_at=timezone.now() - timedelta(days=31))

    assert sweep()["sent notification texts"] == 1

    checkin.refresh_from_db()
    assert (checkin.to_address, checkin.body) == ("", "")
    # The row stays: what was sent (the template), to whom, when, and how it went.
    assert (checkin.status, checkin.template) == (N.Status.SENT, "checkin")
    assert checkin.resident_id and checkin.provider_message_id and checkin.sent_at


def test_a_text_keeps_its_number_while_a_reply_can_still_be_matched(
    client, checkin, follow_up, settings
):
    settings.NOTIFICATION_TEXT_TTL = timedelta(days=1)  # shorter than the reply window
    N.objects.filter(pk=checkin.pk).update(sent_at=timezone.now() - timedelta(days=10))

    assert sweep()["sent notification texts"] == 0

    text(client, "1")
    follow_up.refresh_from_db()
    assert follow_up.status == "closed"
