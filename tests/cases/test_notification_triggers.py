"""What puts messages in the outbox: follow-ups, escalations, referral answers, new referrals
for partners, and the morning digest. Every message is one row, once."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from acs.roles import Role
from cases.models import Consent, FollowUp, Notification
from cases.services import consent_record, followups_escalate_overdue, resident_create
from cases.services.digests import digests_schedule
from resources import services as referrals
from tests.cases.test_follow_ups import submitted_encounter
from tests.factories import UserFactory
from tests.resources.referral_helpers import consenting_resident, referrable_service

pytestmark = pytest.mark.django_db
DENVER = ZoneInfo("America/Denver")


@pytest.fixture
def texting(responder):
    resident = resident_create(
        actor=responder, data={"preferred_name": "Sunny", "phone": "505-555-0142"}
    )
    consent_record(actor=responder, resident=resident, scope=Consent.Scope.SMS, method="verbal")
    return resident


def test_a_follow_up_brings_a_check_in_text_at_its_due_time(responder, unit, texting):
    submitted_encounter(responder, unit, "settled_by_contact", texting)
    follow_up = FollowUp.objects.get()
    (text,) = Notification.objects.all()
    assert (text.template, text.channel, text.resident) == ("checkin", "sms", texting)
    assert text.due_at == follow_up.due_at and text.follow_up == follow_up


def test_no_text_for_residents_who_did_not_agree_to_texts(responder, unit):
    resident = resident_create(
        actor=responder, data={"preferred_name": "Beto", "phone": "505-555-0143"}
    )
    submitted_encounter(responder, unit, "settled_by_contact", resident)
    assert not Notification.objects.exists()


def test_closing_the_follow_up_cancels_its_waiting_text(responder, unit, texting, case_manager):
    from cases.services import follow_up_close

    submitted_encounter(responder, unit, "settled_by_contact", texting)
    follow_up_close(actor=case_manager, follow_up=FollowUp.objects.get(), outcome="connected")
    assert Notification.objects.get().status == Notification.Status.CANCELLED


def test_an_attempt_that_closes_the_follow_up_cancels_its_waiting_text(
    responder, unit, texting, case_manager
):
    from cases.services import contact_attempt_log

    submitted_encounter(responder, unit, "settled_by_contact", texting)
    contact_attempt_log(
        actor=case_manager, follow_up=FollowUp.objects.get(), channel="phone", outcome="declined"
    )
    assert FollowUp.objects.get().status == FollowUp.Status.CLOSED
    assert Notification.objects.get().status == Notification.Status.CANCELLED


def test_escalation_tells_the_teams_supervisors_once(responder, unit, texting, supervisor, team):
    other_team_supervisor = UserFactory(username="sup-2", role=Role.SUPERVISOR)
    submitted_encounter(responder, unit, "settled_by_contact", texting)
    FollowUp.objects.update(assignee=responder, window_ends_at=timezone.now())
    assert followups_escalate_overdue() == 1
    notices = Notification.objects.filter(template="follow_up_escalated")
    assert [n.user for n in notices] == [supervisor]
    assert other_team_supervisor not in [n.user for n in notices]
    assert followups_escalate_overdue() == 0
    assert notices.count() == 1


class TestReferralAnswers:
    @pytest.fixture
    def sent(self, agency_a, case_manager):
        agency_a.email = "intake@agency-a.example"
        agency_a.save()
        service, _ = referrable_service(agency_a)
        resident = consenting_resident(agency_a, recorded_by=case_manager)
        Consent.objects.create(
            resident=resident, scope="sms", method="verbal", recorded_by=case_manager
        )
        return referrals.referral_create(
            actor=case_manager, resident=resident, service=service, send=True
        )

    def test_a_new_referral_emails_the_partner_without_personal_data(self, sent):
        (notice,) = Notification.objects.filter(template="partner_new_referral")
        assert notice.organization == sent.organization and notice.channel == "email"
        assert notice.expires_at == sent.respond_by
        assert "Rosa" not in str(notice.context)

    def test_accepted_tells_the_resident_by_text(self, sent, partner_a):
        referrals.referral_accept(actor=partner_a, referral=sent)
        (text,) = Notification.objects.filter(template="referral_accepted")
        assert (text.resident, text.channel, text.language) == (sent.resident, "sms", "es")

    def test_declined_tells_the_referrer(self, sent, partner_a, case_manager):
        referrals.referral_decline(actor=partner_a, referral=sent, reason="Full")
        (notice,) = Notification.objects.filter(template="referral_declined")
        assert notice.user == case_manager and notice.context == {"referral_pk": sent.pk}

    def test_cancelling_cancels_what_waits(self, sent, case_manager):
        referrals.referral_cancel(actor=case_manager, referral=sent, reason="Housed")
        assert Notification.objects.get(template="partner_new_referral").status == "cancelled"


def test_the_morning_digest_counts_due_and_overdue_once_a_day(responder, unit, texting):
    submitted_encounter(responder, unit, "settled_by_contact", texting)
    morning = datetime(2026, 11, 24, 7, 30, tzinfo=DENVER)
    FollowUp.objects.update(assignee=responder, due_at=morning - timedelta(hours=1))
    assert digests_schedule(now=morning.replace(hour=6)) == 0  # before DIGEST_HOUR
    assert digests_schedule(now=morning) == 1
    assert digests_schedule(now=morning + timedelta(hours=1)) == 1
    (digest,) = Notification.objects.filter(template="staff_digest")
    assert digest.user == responder and digest.context == {"due": 0, "overdue": 1}


def test_a_supervisors_digest_counts_their_teams_addenda_awaiting_approval(
    responder, unit, supervisor
):
    from cases.messages import render
    from cases.models import Addendum
    from tests.cases.helpers import submitted_encounter as logged
    from tests.factories import UnitFactory

    mine = logged(unit, responder)
    Addendum.objects.create(encounter=mine, author=responder, text="Called back")
    Addendum.objects.create(encounter=mine, author=supervisor, text="Own: not theirs to approve")
    Addendum.objects.create(
        encounter=mine, author=responder, text="Done", approved_at=timezone.now()
    )
    Addendum.objects.create(
        encounter=logged(UnitFactory(call_sign="ACS-77"), responder), author=responder, text="x"
    )
    morning = datetime(2026, 11, 24, 7, 30, tzinfo=DENVER)

    assert digests_schedule(now=morning) == 1

    (digest,) = Notification.objects.filter(template="staff_digest")
    assert digest.user == supervisor
    assert digest.context == {"due": 0, "overdue": 0, "addenda": 1}
    subject, body = render("staff_digest", "en", digest.context)
    assert subject == "Addenda awaiting your approval: 1"
    assert "/admin/cases/addendum/?awaiting=me" in body and "Called back" not in body
