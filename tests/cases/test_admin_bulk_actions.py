"""Bulk actions on follow-ups and referrals go through the services, after an intermediate
form; a row the service refuses is reported and the others are still done."""

from datetime import timedelta

import pytest
from django.utils import timezone

from acs.errors import Conflict, DomainError, Forbidden
from acs.models import AuditEvent
from acs.record_labels import message_label
from acs.roles import Role
from cases.models import FollowUp
from cases.services import follow_up_close
from cases.services.followups import follow_up_reassign
from tests.factories import ResidentFactory, UserFactory
from tests.resources.referral_helpers import referrable_service, referral_in

pytestmark = pytest.mark.django_db


def open_follow_up(**kwargs):
    now = timezone.now()
    return FollowUp.objects.create(
        resident=ResidentFactory(),
        kind=FollowUp.Kind.PHONE,
        due_at=now - timedelta(hours=1),
        window_ends_at=now + timedelta(days=7),
        **kwargs,
    )


@pytest.fixture
def colleague(db):
    return UserFactory(username="colleague", role=Role.CASE_MANAGER)


def act(client, url, action, rows, **data):
    return client.post(
        url, {"action": action, "_selected_action": [r.pk for r in rows], **data}, follow=True
    )


def test_reassigning_asks_for_the_assignee_first_and_changes_nothing_yet(
    client, case_manager, colleague
):
    follow_ups = [open_follow_up(), open_follow_up()]
    client.force_login(case_manager)

    response = act(client, "/admin/cases/followup/", "reassign", follow_ups)

    assert response.status_code == 200
    assert response.templates[0].name == "admin/bulk_action_form.html"
    assert 'name="apply"' in response.content.decode()
    assert not FollowUp.objects.filter(assignee__isnull=False).exists()


def test_reassigning_moves_each_follow_up_through_the_service_with_an_audit(
    client, case_manager, colleague
):
    follow_ups = [open_follow_up(), open_follow_up(assignee=case_manager)]
    client.force_login(case_manager)

    response = act(
        client, "/admin/cases/followup/", "reassign", follow_ups, apply="1", assignee=colleague.pk
    )

    assert response.status_code == 200
    assert "2 follow-up(s) reassigned" in response.content.decode()
    assert set(FollowUp.objects.values_list("assignee", flat=True)) == {colleague.pk}
    for f in follow_ups:
        assert AuditEvent.objects.filter(
            actor=case_manager,
            target_id=f.resident.public_id,
            detail__follow_up=str(f.public_id),
            detail__assignee=str(colleague.public_id),
        ).exists()


def test_a_closed_follow_up_is_reported_and_the_others_still_reassigned(
    client, case_manager, colleague
):
    done = open_follow_up()
    follow_up_close(actor=case_manager, follow_up=done, outcome="connected")
    still_open = open_follow_up()
    client.force_login(case_manager)

    response = act(
        client,
        "/admin/cases/followup/?status__in=open,closed",
        "reassign",
        [done, still_open],
        apply="1",
        assignee=colleague.pk,
    )

    body = response.content.decode()
    assert f"{message_label(done)}: This follow-up is closed." in body
    assert "1 follow-up(s) reassigned" in body
    still_open.refresh_from_db()
    done.refresh_from_db()
    assert still_open.assignee == colleague
    assert done.assignee is None


def test_follow_ups_go_only_to_case_managers_and_supervisors(case_manager, responder):
    follow_up = open_follow_up()

    with pytest.raises(DomainError):
        follow_up_reassign(actor=case_manager, follow_up=follow_up, assignee=responder)


def test_a_responder_may_not_reassign(responder, colleague):
    with pytest.raises(Forbidden):
        follow_up_reassign(actor=responder, follow_up=open_follow_up(), assignee=colleague)


def test_reassigning_to_nobody_puts_it_back_in_the_shared_queue(case_manager):
    follow_up = open_follow_up(assignee=case_manager)

    follow_up_reassign(actor=case_manager, follow_up=follow_up, assignee=None)

    follow_up.refresh_from_db()
    assert follow_up.assignee is None


def test_changing_the_assignee_on_the_change_page_goes_through_the_service(
    client, case_manager, colleague
):
    follow_up = open_follow_up()
    client.force_login(case_manager)
    url = f"/admin/cases/followup/{follow_up.pk}/change/"

    response = client.post(
        url,
        {
            "assignee": colleague.pk,
            "attempts-TOTAL_FORMS": "0",
            "attempts-INITIAL_FORMS": "0",
            "attempts-MIN_NUM_FORMS": "0",
            "attempts-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.assignee == colleague
    assert AuditEvent.objects.filter(detail__assignee=str(colleague.public_id)).exists()


def test_closing_with_an_outcome_asks_for_it_then_closes_through_the_service(client, case_manager):
    follow_ups = [open_follow_up(), open_follow_up()]
    client.force_login(case_manager)

    asked = act(client, "/admin/cases/followup/", "close_with_outcome", follow_ups)
    done = act(
        client,
        "/admin/cases/followup/",
        "close_with_outcome",
        follow_ups,
        apply="1",
        outcome="declined",
    )

    assert 'name="outcome"' in asked.content.decode()
    assert "2 follow-up(s) closed" in done.content.decode()
    for f in follow_ups:
        f.refresh_from_db()
        assert (f.status, f.outcome, f.closed_by) == ("closed", "declined", case_manager)


def test_closing_twice_is_refused_for_that_row_only(client, case_manager):
    done = open_follow_up()
    follow_up_close(actor=case_manager, follow_up=done, outcome="connected")
    other = open_follow_up()
    client.force_login(case_manager)

    response = act(
        client,
        "/admin/cases/followup/?status__in=open,closed",
        "close_with_outcome",
        [done, other],
        apply="1",
        outcome="unable_to_contact",
    )

    assert "This follow-up is already closed." in response.content.decode()
    done.refresh_from_db()
    other.refresh_from_db()
    assert done.outcome == "connected"
    assert other.outcome == "unable_to_contact"


def test_follow_ups_filter_by_assignee_and_team(client, supervisor, colleague):
    teammate = UserFactory(username="mate", role=Role.CASE_MANAGER, team=supervisor.team)
    of_teammate = open_follow_up(assignee=teammate)
    of_colleague = open_follow_up(assignee=colleague)
    client.force_login(supervisor)

    by_team = client.get("/admin/cases/followup/", {"team": supervisor.team.pk})
    by_assignee = client.get("/admin/cases/followup/", {"assignee": colleague.pk})

    assert list(by_team.context["cl"].result_list) == [of_teammate]
    assert list(by_assignee.context["cl"].result_list) == [of_colleague]


def test_cancelling_referrals_asks_for_a_reason_and_reports_the_refused(
    client, case_manager, agency_a
):
    service, _ = referrable_service(agency_a)
    resident = ResidentFactory()
    sent = referral_in("sent", service=service, resident=resident, created_by=case_manager)
    completed = referral_in(
        "completed", service=service, resident=resident, created_by=case_manager
    )
    client.force_login(case_manager)

    asked = act(client, "/admin/resources/referral/", "cancel_with_reason", [sent, completed])
    done = act(
        client,
        "/admin/resources/referral/",
        "cancel_with_reason",
        [sent, completed],
        apply="1",
        reason="Found a bed elsewhere",
    )

    assert 'name="reason"' in asked.content.decode()
    body = done.content.decode()
    assert "1 referral(s) cancelled" in body
    assert f"{message_label(completed)}:" in body
    sent.refresh_from_db()
    completed.refresh_from_db()
    assert sent.status == "cancelled"
    assert sent.events.filter(to_status="cancelled", note="Found a bed elsewhere").exists()
    assert completed.status == "completed"


def test_a_reason_is_required_to_cancel(client, case_manager, agency_a):
    service, _ = referrable_service(agency_a)
    sent = referral_in("sent", service=service, resident=ResidentFactory(), created_by=case_manager)
    client.force_login(case_manager)

    response = act(
        client, "/admin/resources/referral/", "cancel_with_reason", [sent], apply="1", reason=""
    )

    assert response.templates[0].name == "admin/bulk_action_form.html"
    sent.refresh_from_db()
    assert sent.status == "sent"


def test_referrals_filter_by_queue_referrer_and_team(client, supervisor, agency_a, colleague):
    service, _ = referrable_service(agency_a)
    resident = ResidentFactory()
    teammate = UserFactory(username="mate", role=Role.CASE_MANAGER, team=supervisor.team)
    of_team = referral_in("accepted", service=service, resident=resident, created_by=teammate)
    referral_in("accepted", service=service, resident=resident, created_by=colleague)
    declined = referral_in("declined", service=service, resident=resident, created_by=teammate)
    client.force_login(supervisor)

    waiting = client.get("/admin/resources/referral/", {"queue": "waiting", "referrer": "mine"})
    by_team = client.get("/admin/resources/referral/", {"team": supervisor.team.pk})

    assert list(waiting.context["cl"].result_list) == [of_team]
    assert set(by_team.context["cl"].result_list) == {of_team, declined}


def test_reassign_refuses_a_closed_follow_up_in_the_service(case_manager, colleague):
    follow_up = open_follow_up()
    follow_up_close(actor=case_manager, follow_up=follow_up, outcome="connected")

    with pytest.raises(Conflict):
        follow_up_reassign(actor=case_manager, follow_up=follow_up, assignee=colleague)


def test_select_all_across_pages_reaches_every_filtered_row(client, case_manager, colleague):
    follow_ups = [open_follow_up() for _ in range(3)]
    client.force_login(case_manager)

    asked = act(client, "/admin/cases/followup/", "reassign", follow_ups[:1], select_across="1")
    done = act(
        client,
        "/admin/cases/followup/",
        "reassign",
        follow_ups[:1],
        select_across="1",
        apply="1",
        assignee=colleague.pk,
    )

    assert "3 selected" in asked.content.decode()
    assert 'name="select_across" value="1"' in asked.content.decode()
    assert "3 follow-up(s) reassigned" in done.content.decode()
