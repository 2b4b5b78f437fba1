"""Referrals nobody answers expire by the periodic task, and the referrer hears of it."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cases.models import Notification
from cases.services.notifications import notification_send
from resources import services
from resources.models import Referral, ReferralStatus
from resources.tasks import expire_referrals
from tests.resources.referral_helpers import consenting_resident, referrable_service

pytestmark = pytest.mark.django_db
S = ReferralStatus


@pytest.fixture
def make_sent(agency_a, case_manager):
    service, _ = referrable_service(agency_a, referral_response_hours=24)
    resident = consenting_resident(agency_a, recorded_by=case_manager)

    def make(age_hours: float):
        referral = services.referral_create(
            actor=case_manager, resident=resident, service=service, send=True
        )
        sent_at = timezone.now() - timedelta(hours=age_hours)
        Referral.objects.filter(pk=referral.pk).update(
            sent_at=sent_at, respond_by=sent_at + timedelta(hours=24)
        )
        return referral

    return make


def test_the_task_expires_only_referrals_past_their_window(make_sent, case_manager):
    overdue, fresh = make_sent(25), make_sent(23)
    assert expire_referrals() == 1
    overdue.refresh_from_db()
    fresh.refresh_from_db()
    assert overdue.status == S.EXPIRED and overdue.closed_at is not None
    assert fresh.status == S.SENT
    event = overdue.events.latest("id")
    assert (event.from_status, event.to_status, event.actor) == ("sent", "expired", None)
    (notice,) = Notification.objects.filter(template="referral_expired")
    assert (notice.user, notice.referral, notice.channel) == (case_manager, overdue, "email")
    # Running it again changes nothing.
    assert expire_referrals() == 0


def test_the_window_is_per_service(agency_a, case_manager):
    service, _ = referrable_service(agency_a, referral_response_hours=2)
    resident = consenting_resident(agency_a, recorded_by=case_manager)
    referral = services.referral_create(
        actor=case_manager, resident=resident, service=service, send=True
    )
    assert referral.respond_by - referral.sent_at == timedelta(hours=2)
    assert services.referrals_expire_overdue(now=referral.sent_at + timedelta(hours=3))


def test_an_answered_referral_does_not_expire(make_sent, partner_a):
    referral = make_sent(25)
    services.referral_accept(actor=partner_a, referral=referral)
    assert expire_referrals() == 0


def test_the_task_works_through_a_backlog_in_batches(make_sent, monkeypatch):
    monkeypatch.setattr("resources.tasks.EXPIRY_BATCH", 2)
    for _ in range(5):
        make_sent(30)
    assert expire_referrals() == 5
    assert not Referral.objects.filter(status=S.SENT).exists()


def test_the_referrer_is_emailed_without_personal_data(make_sent, case_manager):
    case_manager.email = "cm@acs.invalid"
    case_manager.save()
    referral = make_sent(25)
    services.referrals_expire_overdue()
    notice = Notification.objects.get(template="referral_expired")
    assert notification_send(notice.pk) == Notification.Status.SENT
    (message,) = mail.outbox
    assert message.to == ["cm@acs.invalid"]
    assert "expired" in message.subject
    assert f"/admin/resources/referral/{referral.pk}/change/" in message.body
    assert "Rosa" not in message.body and "Rosa" not in message.subject
