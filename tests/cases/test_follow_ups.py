"""Follow-ups appear on their own after an encounter and move with each contact attempt."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from acs.errors import Conflict
from cases.models import Encounter, EncounterResident, FollowUp, FollowUpRule
from cases.services import (
    contact_attempt_log,
    encounter_submit,
    follow_up_close,
    followups_escalate_overdue,
    resident_create,
)
from cases.tasks import escalate_overdue_follow_ups

pytestmark = pytest.mark.django_db


def submitted_encounter(responder, unit, disposition, *people):
    encounter = Encounter.objects.create(
        client_id=uuid.uuid4(),
        unit=unit,
        created_by=responder,
        occurred_at=timezone.now(),
        disposition=disposition,
    )
    for person in people:
        EncounterResident.objects.create(encounter=encounter, resident=person)
    return encounter_submit(actor=responder, encounter=encounter)


@pytest.fixture
def sunny(responder):
    return resident_create(actor=responder, data={"preferred_name": "Sunny"})


def test_submitting_an_encounter_creates_a_follow_up_due_within_48_hours(responder, unit, sunny):
    encounter = submitted_encounter(responder, unit, "settled_by_contact", sunny)

    follow_up = FollowUp.objects.get()
    assert follow_up.resident == sunny
    assert follow_up.kind == "phone"
    assert follow_up.due_at == encounter.submitted_at + timedelta(hours=48)
    assert follow_up.window_ends_at == encounter.submitted_at + timedelta(days=7)
    assert follow_up.max_attempts == 3


def test_a_referral_creates_a_referral_check(responder, unit, sunny):
    submitted_encounter(responder, unit, "referred", sunny)

    assert FollowUp.objects.get().kind == "referral_check"


def test_gone_on_arrival_needs_no_follow_up(responder, unit, sunny):
    submitted_encounter(responder, unit, "gone_on_arrival", sunny)

    assert not FollowUp.objects.exists()


def test_anonymous_people_get_no_follow_up(responder, unit):
    submitted_encounter(responder, unit, "settled_by_contact")

    assert not FollowUp.objects.exists()


def test_rules_edited_in_the_admin_take_effect(responder, unit, sunny):
    FollowUpRule.objects.filter(disposition="").update(first_due_hours=24, kind="text")

    encounter = submitted_encounter(responder, unit, "settled_by_contact", sunny)

    follow_up = FollowUp.objects.get()
    assert (follow_up.kind, follow_up.due_at) == ("text", encounter.submitted_at + timedelta(1))


def test_three_unanswered_attempts_escalate_to_in_person_outreach(
    responder, case_manager, unit, sunny
):
    submitted_encounter(responder, unit, "settled_by_contact", sunny)
    follow_up = FollowUp.objects.get()

    for _ in range(2):
        contact_attempt_log(
            actor=case_manager, follow_up=follow_up, channel="phone", outcome="no_answer"
        )
        follow_up.refresh_from_db()
        assert follow_up.status == "open"
        assert follow_up.due_at > timezone.now()
    contact_attempt_log(
        actor=case_manager, follow_up=follow_up, channel="sms", outcome="sms_failed"
    )

    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.kind) == ("escalated", "in_person")
    assert follow_up.attempts.count() == 3


def test_declining_closes_the_follow_up(responder, case_manager, unit, sunny):
    submitted_encounter(responder, unit, "settled_by_contact", sunny)
    follow_up = FollowUp.objects.get()

    contact_attempt_log(
        actor=case_manager, follow_up=follow_up, channel="phone", outcome="declined"
    )

    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome) == ("closed", "declined")
    with pytest.raises(Conflict):
        contact_attempt_log(
            actor=case_manager, follow_up=follow_up, channel="phone", outcome="reached"
        )


def test_a_case_manager_closes_a_follow_up_as_connected(responder, case_manager, unit, sunny):
    submitted_encounter(responder, unit, "settled_by_contact", sunny)
    follow_up = FollowUp.objects.get()
    contact_attempt_log(actor=case_manager, follow_up=follow_up, channel="phone", outcome="reached")

    follow_up_close(actor=case_manager, follow_up=follow_up, outcome="connected")

    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome, follow_up.closed_by) == (
        "closed",
        "connected",
        case_manager,
    )


def test_the_periodic_task_escalates_follow_ups_whose_window_ran_out(responder, unit, sunny):
    submitted_encounter(responder, unit, "settled_by_contact", sunny)
    FollowUp.objects.update(window_ends_at=timezone.now() - timedelta(minutes=1))

    assert escalate_overdue_follow_ups() == 1
    assert FollowUp.objects.get().status == "escalated"
    assert escalate_overdue_follow_ups() == 0  # running it again does no harm


def test_the_sweep_works_in_bounded_batches(responder, unit, case_manager):
    people = [
        resident_create(actor=case_manager, data={"preferred_name": f"P{n}"}, confirm_new=True)
        for n in range(5)
    ]
    submitted_encounter(responder, unit, "settled_by_contact", *people)
    FollowUp.objects.update(window_ends_at=timezone.now() - timedelta(minutes=1))

    assert followups_escalate_overdue(batch=2) == 2
    assert FollowUp.objects.filter(status="escalated").count() == 2


def test_the_work_queue_lists_overdue_first(client, case_manager, responder, unit, sunny):
    submitted_encounter(responder, unit, "settled_by_contact", sunny)
    FollowUp.objects.update(due_at=timezone.now() - timedelta(hours=3))
    client.force_login(case_manager)

    response = client.get("/admin/cases/followup/", {"due": "overdue"})

    assert response.status_code == 200
    assert "Phone call due " in response.content.decode()  # named by kind and due time


def test_a_case_manager_logs_an_attempt_in_the_admin(client, case_manager, responder, unit, sunny):
    submitted_encounter(responder, unit, "settled_by_contact", sunny)
    follow_up = FollowUp.objects.get()
    client.force_login(case_manager)
    now = timezone.localtime()

    response = client.post(
        f"/admin/cases/followup/{follow_up.pk}/change/",
        {
            "assignee": case_manager.pk,
            "attempts-TOTAL_FORMS": "1",
            "attempts-INITIAL_FORMS": "0",
            "attempts-MIN_NUM_FORMS": "0",
            "attempts-MAX_NUM_FORMS": "1000",
            "attempts-0-at_0": now.strftime("%Y-%m-%d"),
            "attempts-0-at_1": now.strftime("%H:%M:%S"),
            "attempts-0-channel": "phone",
            "attempts-0-outcome": "declined",
            "attempts-0-next_step": "",
            "attempts-0-follow_up": follow_up.pk,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome, follow_up.assignee) == (
        "closed",
        "declined",
        case_manager,
    )
    assert follow_up.attempts.get().by == case_manager


class TestFollowUpsFromReferrals:
    """A referral that leaves the resident without the service becomes a follow-up."""

    @pytest.fixture
    def sent(self, agency_a, case_manager):
        from resources import services as referrals
        from tests.resources.referral_helpers import consenting_resident, referrable_service

        service, _ = referrable_service(agency_a)
        resident = consenting_resident(agency_a, recorded_by=case_manager)
        return referrals.referral_create(
            actor=case_manager, resident=resident, service=service, send=True
        )

    def test_a_declined_referral_is_re_routed_by_the_referrer(self, sent, partner_a, case_manager):
        from resources import services as referrals

        referrals.referral_decline(actor=partner_a, referral=sent, reason="Full")
        follow_up = FollowUp.objects.get()
        assert (follow_up.referral, follow_up.resident) == (sent, sent.resident)
        assert follow_up.kind == "referral_check" and follow_up.assignee == case_manager
        assert follow_up.encounter is None and follow_up.max_attempts == 2
        assert timedelta(hours=23) < follow_up.due_at - timezone.now() <= timedelta(hours=24)

    def test_an_expired_referral_too(self, sent):
        from resources import services as referrals

        referrals.referrals_expire_overdue(now=sent.respond_by)
        assert FollowUp.objects.get().rule.referral_event == "expired"

    def test_not_completed_but_not_completed_well(self, sent, partner_a):
        from resources import services as referrals

        referrals.referral_accept(actor=partner_a, referral=sent)
        referrals.referral_complete(actor=partner_a, referral=sent, outcome="enrolled")
        assert not FollowUp.objects.exists()

    def test_an_inactive_rule_creates_nothing(self, sent, partner_a):
        from resources import services as referrals

        FollowUpRule.objects.filter(referral_event="not_completed").update(active=False)
        referrals.referral_accept(actor=partner_a, referral=sent)
        referrals.referral_complete(actor=partner_a, referral=sent, outcome="no_show")
        assert not FollowUp.objects.exists()

    def test_a_responders_referral_is_left_for_the_queue(self, agency_a, responder, partner_a):
        from cases.services import consent_record
        from resources import services as referrals
        from tests.resources.referral_helpers import referrable_service

        service, _ = referrable_service(agency_a)
        resident = resident_create(actor=responder, data={"preferred_name": "Beto"})
        consent_record(
            actor=responder,
            resident=resident,
            scope="share_named_partner",
            organization=agency_a,
            method="verbal",
        )
        sent = referrals.referral_create(
            actor=responder, resident=resident, service=service, send=True
        )
        referrals.referral_decline(actor=partner_a, referral=sent, reason="Full")
        assert FollowUp.objects.get().assignee is None
