"""The case managers' dashboard at the admin index: their queues, a click from each record,
counts capped and a fixed number of queries whatever the tables' size. Also the resident's
page, where the day's work starts: its actions and its search."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs.models import AuditEvent
from acs.roles import Role
from cases.admin import dashboard
from cases.models import Encounter, EncounterResident, FollowUp
from resources.models import Referral, ReferralStatus
from tests.cases.helpers import submitted_encounter
from tests.factories import ResidentFactory, UnitFactory, UserFactory
from tests.resources.referral_helpers import referrable_service, referral_in

pytestmark = pytest.mark.django_db


def follow_up(resident=None, *, due_in=timedelta(hours=-2), assignee=None, **kwargs):
    """An open phone follow-up (rows written directly: only its place in the queues matters)."""
    now = timezone.now()
    return FollowUp.objects.create(
        resident=resident or ResidentFactory(),
        kind=FollowUp.Kind.PHONE,
        due_at=now + due_in,
        window_ends_at=now + timedelta(days=7),
        assignee=assignee,
        **kwargs,
    )


def queue(queues, key):
    return next(q for q in queues if q.key == key)


def dashboard_page(client, user):
    client.force_login(user)
    client.get("/admin/")  # the session's first request passes the MFA check once
    return client.get("/admin/")


def test_my_overdue_follow_up_is_on_my_queue_one_click_from_its_record(client, case_manager):
    mine = follow_up(assignee=case_manager)

    response = dashboard_page(client, case_manager)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="queue-my_follow_ups"' in body
    assert f'href="/admin/cases/followup/{mine.pk}/change/"' in body
    assert "overdue" in body
    # The app list stays below the dashboard.
    assert "app-cases" in body


def test_mine_come_first_and_others_of_my_team_or_nobodys_in_the_team_queue(supervisor):
    teammate = UserFactory(username="teammate", role=Role.CASE_MANAGER, team=supervisor.team)
    stranger = UserFactory(username="stranger", role=Role.CASE_MANAGER)
    mine = follow_up(assignee=supervisor)
    theirs = follow_up(assignee=teammate)
    nobodys = follow_up()
    elsewhere = follow_up(assignee=stranger)
    later = follow_up(assignee=supervisor, due_in=timedelta(days=3))
    closed = follow_up(
        assignee=supervisor,
        status=FollowUp.Status.CLOSED,
        outcome=FollowUp.Outcome.CONNECTED,
        closed_at=timezone.now(),
    )

    queues = dashboard.dashboard_for(supervisor)

    assert queues[0].key == "my_follow_ups"
    assert [r.url for r in queue(queues, "my_follow_ups").rows] == [dashboard._change(mine)]
    team = {r.url for r in queue(queues, "team_follow_ups").rows}
    assert team == {dashboard._change(theirs), dashboard._change(nobodys)}
    shown = {r.url for q in queues for r in q.rows}
    for hidden in (elsewhere, later, closed):
        assert dashboard._change(hidden) not in shown


def test_referrals_waiting_on_partners_and_those_to_reroute(case_manager, agency_a):
    service, _ = referrable_service(agency_a)
    resident = ResidentFactory()
    made = {
        status: referral_in(status, service=service, resident=resident, created_by=case_manager)
        for status in ReferralStatus.values
    }
    other = UserFactory(username="other-cm", role=Role.CASE_MANAGER)
    not_mine = referral_in("sent", service=service, resident=resident, created_by=other)

    queues = dashboard.dashboard_for(case_manager)

    waiting = {r.url for r in queue(queues, "referrals_waiting").rows}
    reroute = {r.url for r in queue(queues, "referrals_reroute").rows}
    assert waiting == {dashboard._change(made[s]) for s in ("sent", "accepted", "in_progress")}
    assert reroute == {dashboard._change(made[s]) for s in ("declined", "expired", "not_completed")}
    assert dashboard._change(not_mine) not in waiting


def test_a_rerouted_referral_leaves_the_queue_once_its_follow_up_is_closed(case_manager, agency_a):
    service, _ = referrable_service(agency_a)
    declined = referral_in(
        "declined", service=service, resident=ResidentFactory(), created_by=case_manager
    )
    follow_up(
        declined.resident,
        referral=declined,
        status=FollowUp.Status.CLOSED,
        outcome=FollowUp.Outcome.CONNECTED,
        closed_at=timezone.now(),
    )

    assert queue(dashboard.dashboard_for(case_manager), "referrals_reroute").rows == []


def test_recent_encounters_of_residents_i_follow(case_manager, responder, unit):
    followed, stranger = ResidentFactory(), ResidentFactory()
    follow_up(followed, assignee=case_manager, due_in=timedelta(days=2))
    seen = Encounter.objects.create(
        client_id=uuid.uuid4(), unit=unit, created_by=responder, occurred_at=timezone.now()
    )
    EncounterResident.objects.create(encounter=seen, resident=followed)
    unrelated = Encounter.objects.create(
        client_id=uuid.uuid4(), unit=unit, created_by=responder, occurred_at=timezone.now()
    )
    EncounterResident.objects.create(encounter=unrelated, resident=stranger)

    rows = queue(dashboard.dashboard_for(case_manager), "recent_encounters").rows

    assert [r.url for r in rows] == [dashboard._change(seen)]


def test_rows_are_limited_and_counts_capped_with_a_see_all_link(client, case_manager):
    for _ in range(dashboard.QUEUE_ROWS + 2):
        follow_up(assignee=case_manager)

    response = dashboard_page(client, case_manager)

    mine = queue(response.context["dashboard"], "my_follow_ups")
    assert len(mine.rows) == dashboard.QUEUE_ROWS
    assert mine.count_label == str(dashboard.QUEUE_ROWS + 2)
    assert "/admin/cases/followup/?due=due_now&amp;mine=me" in response.content.decode()


def test_a_count_past_the_cap_shows_as_cap_plus(case_manager, monkeypatch):
    monkeypatch.setattr(dashboard, "COUNT_CAP", 3)
    for _ in range(5):
        follow_up(assignee=case_manager)

    mine = queue(dashboard.dashboard_for(case_manager), "my_follow_ups")

    assert mine.count_label == "3+"


def test_see_all_opens_the_same_work_in_the_changelist(client, case_manager):
    mine = follow_up(assignee=case_manager)
    follow_up(assignee=case_manager, due_in=timedelta(days=3))
    follow_up()
    client.force_login(case_manager)

    response = client.get("/admin/cases/followup/", {"due": "due_now", "mine": "me"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]


def test_the_dashboard_costs_the_same_queries_with_one_row_or_many(client, case_manager):
    unit = UnitFactory()
    responder = UserFactory(username="r2", role=Role.RESPONDER)

    def add_one():
        resident = ResidentFactory()
        follow_up(resident, assignee=case_manager)
        follow_up()
        encounter = Encounter.objects.create(
            client_id=uuid.uuid4(), unit=unit, created_by=responder, occurred_at=timezone.now()
        )
        EncounterResident.objects.create(encounter=encounter, resident=resident)

    add_one()
    dashboard_page(client, case_manager)
    with CaptureQueriesContext(connection) as one:
        client.get("/admin/")
    for _ in range(25):
        add_one()
    with CaptureQueriesContext(connection) as many:
        client.get("/admin/")

    assert len(many) == len(one)


def test_people_without_a_desk_get_no_dashboard(client, admin_user, responder):
    assert dashboard.dashboard_for(responder) == []
    follow_up(assignee=None)

    response = dashboard_page(client, admin_user)

    assert response.status_code == 200
    assert 'id="queue-team_follow_ups"' in response.content.decode()


# --- the resident's page: actions one click away, and a search that keeps names out of URLs --
# (here rather than in a module of their own: the brief lists the new test modules.)


def test_the_resident_page_offers_the_days_actions(client, case_manager):
    resident = ResidentFactory()
    client.force_login(case_manager)

    body = client.get(f"/admin/cases/resident/{resident.pk}/change/").content.decode()

    for label, url in [
        ("Add a follow-up", f"/admin/cases/resident/{resident.pk}/follow-up/"),
        ("Log a contact attempt", f"/admin/cases/resident/{resident.pk}/contact-attempt/"),
        ("Refer", "#refer"),  # the refer panel on the page (tests/cases/test_admin_refer.py)
        ("Record consent", f"/admin/cases/resident/{resident.pk}/consent/"),
    ]:
        assert f'href="{url}" class="resident-action">{label}<' in body


def test_adding_a_follow_up_from_the_resident_page(client, case_manager):
    resident = ResidentFactory()
    client.force_login(case_manager)

    response = client.post(
        f"/admin/cases/resident/{resident.pk}/follow-up/",
        {
            "kind": "phone",
            "due_at_0": "2030-01-02",
            "due_at_1": "09:00:00",
            "assignee": case_manager.pk,
        },
    )

    assert response.status_code == 302
    follow_up = FollowUp.objects.get(resident=resident)
    assert (follow_up.kind, follow_up.assignee, follow_up.status) == ("phone", case_manager, "open")
    assert AuditEvent.objects.filter(detail__follow_up=str(follow_up.public_id)).exists()


def test_logging_a_contact_attempt_from_the_resident_page(client, case_manager):
    open_one = follow_up(assignee=case_manager)
    client.force_login(case_manager)

    response = client.post(
        f"/admin/cases/resident/{open_one.resident.pk}/contact-attempt/",
        {"follow_up": open_one.pk, "channel": "phone", "outcome": "declined"},
    )

    assert response.status_code == 302
    open_one.refresh_from_db()
    assert (open_one.attempts_made, open_one.status, open_one.outcome) == (
        1,
        "closed",
        "declined",
    )


def test_recording_consent_from_the_resident_page_follows_the_consent_rules(client, case_manager):
    resident = ResidentFactory()
    client.force_login(case_manager)
    url = f"/admin/cases/resident/{resident.pk}/consent/"

    refused = client.post(url, {"scope": "substance_use", "method": "verbal"})
    recorded = client.post(url, {"scope": "sms", "method": "verbal"})

    assert refused.status_code == 200
    assert "42 CFR Part 2" in refused.content.decode()
    assert recorded.status_code == 302
    assert list(resident.consents.values_list("scope", flat=True)) == ["sms"]
    page = client.get(f"/admin/cases/resident/{resident.pk}/change/").content.decode()
    assert "Receive SMS" in page and "<strong>active</strong>" in page


def test_the_referral_add_page_leads_to_the_residents_refer_panel(client, case_manager, agency_a):
    """The one way to refer from the desk is the resident's refer panel (places free, consent
    before sending): the old add page, and the Referrals list's button, lead there; without a
    resident, to the residents list, saying what to do; nothing is made from it."""
    service, sal = referrable_service(agency_a)
    resident = ResidentFactory()
    client.force_login(case_manager)

    to_panel = client.get(f"/admin/resources/referral/add/?resident={resident.pk}")
    to_pick = client.get("/admin/resources/referral/add/", follow=True)
    unknown = client.get("/admin/resources/referral/add/?resident=999999")
    posted = client.post(
        "/admin/resources/referral/add/",
        {"resident": resident.pk, "service": service.pk, "service_at_location": sal.pk},
    )
    listing = client.get("/admin/resources/referral/").content.decode()

    assert to_panel.status_code == 302
    assert to_panel["Location"] == f"/admin/cases/resident/{resident.pk}/change/#refer"
    panel = client.get(to_panel["Location"].split("#")[0]).content.decode()
    assert 'id="refer"' in panel and 'id="refer-preview"' in panel
    assert to_pick.redirect_chain == [("/admin/cases/resident/", 302)]
    said = [str(m) for m in to_pick.context["messages"]]
    assert said and said[0].startswith("To refer, find the resident below and open their page")
    assert unknown["Location"] == "/admin/cases/resident/"
    assert posted.status_code == 302 and not Referral.objects.exists()
    assert "Refer a resident" in listing and "Add referral" not in listing
    assert 'href="/admin/resources/referral/add/"' in listing


def test_the_resident_search_keeps_the_name_out_of_every_url(client, case_manager):
    resident = ResidentFactory(preferred_name="Maria Lopez")
    resident.search_names = "maria lopez"
    resident.save()
    client.force_login(case_manager)

    response = client.post("/admin/cases/resident/search/", {"name": "Maria Lopes"}, follow=True)

    assert response.status_code == 200
    for url, _ in response.redirect_chain:
        assert "maria" not in url.lower() and "lop" not in url.lower()
    assert list(response.context["cl"].result_list) == [resident]
    # Each resident shown is audited as a search result.
    assert AuditEvent.objects.filter(
        actor=case_manager, action="search", target_id=resident.public_id
    ).exists()


def test_a_name_in_the_query_string_is_dropped_not_searched(client, case_manager):
    ResidentFactory(preferred_name="Maria Lopez")
    client.force_login(case_manager)

    response = client.get("/admin/cases/resident/", {"q": "Maria", "housing_status": "unknown"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/cases/resident/?housing_status=unknown"


def test_a_search_key_from_another_session_finds_nothing(client, case_manager, supervisor):
    ResidentFactory(preferred_name="Maria Lopez")
    client.force_login(case_manager)
    searched = client.post("/admin/cases/resident/search/", {"name": "Maria Lopez"})
    client.force_login(supervisor)

    response = client.get(searched["Location"])

    assert response.status_code == 302
    assert response["Location"] == "/admin/cases/resident/"


def test_a_searched_name_kept_in_the_session_goes_with_the_session_once_expired(
    client, case_manager, supervisor
):
    from django.contrib.sessions.models import Session
    from django.test import Client

    from cases.tasks import sweep_expired_copies

    ResidentFactory(preferred_name="Maria Lopez")
    client.force_login(case_manager)
    client.post("/admin/cases/resident/search/", {"name": "Maria Lopez"})
    kept = Session.objects.get(pk=client.session.session_key)
    assert "Maria Lopez" in kept.get_decoded().values()
    live = Client()
    live.force_login(supervisor)
    Session.objects.filter(pk=kept.pk).update(expire_date=timezone.now() - timedelta(seconds=1))

    assert sweep_expired_copies.apply().get()["expired sessions"] == 1

    assert not Session.objects.filter(pk=kept.pk).exists()
    assert Session.objects.filter(pk=live.session.session_key).exists()


def test_a_responder_cannot_use_the_resident_page_actions(client, responder):
    resident = ResidentFactory()
    client.force_login(responder)

    response = client.post(
        f"/admin/cases/resident/{resident.pk}/follow-up/",
        {"kind": "phone", "due_at_0": "2030-01-02", "due_at_1": "09:00:00"},
    )

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert not FollowUp.objects.exists()


def test_only_desk_roles_open_follow_ups(responder):
    from acs.errors import Forbidden
    from cases.services.followups import follow_up_create

    with pytest.raises(Forbidden):
        follow_up_create(
            actor=responder,
            resident=ResidentFactory(),
            kind="phone",
            due_at=timezone.now(),
        )


def test_a_supervisor_approves_an_addendum_from_the_dashboard_queue(
    client, supervisor, responder, unit, case_manager
):
    from cases.models import Addendum

    encounter = submitted_encounter(unit, responder)
    addendum = Addendum.objects.create(encounter=encounter, author=responder, text="Called back")
    other_team = submitted_encounter(UnitFactory(call_sign="ACS-77"), responder)
    Addendum.objects.create(encounter=other_team, author=responder, text="Not yours")
    client.force_login(supervisor)

    waiting = queue(dashboard.dashboard_for(supervisor), "addenda_to_approve")
    assert [row.url for row in waiting.rows] == [f"/admin/cases/addendum/{addendum.pk}/change/"]
    index = client.get("/admin/").content.decode()
    assert "Addenda awaiting my approval" in index
    page = client.get(waiting.rows[0].url).content.decode()
    assert "Approve this addendum" in page and "Called back" in page

    response = client.post(f"/admin/cases/addendum/{addendum.pk}/approve/")

    assert response.status_code == 302
    addendum.refresh_from_db()
    assert addendum.approved_by == supervisor
    assert queue(dashboard.dashboard_for(supervisor), "addenda_to_approve").rows == []
    assert "Approve this addendum" not in client.get(waiting.rows[0].url).content.decode()
    # Case managers have no such queue and no such button.
    assert "addenda_to_approve" not in {q.key for q in dashboard.dashboard_for(case_manager)}
    client.force_login(case_manager)
    assert "Approve this addendum" not in client.get(waiting.rows[0].url).content.decode()
    assert client.get(f"/admin/cases/addendum/{addendum.pk}/approve/").status_code == 405


def test_the_list_action_approves_my_teams_addenda_and_reports_the_others(
    client, supervisor, responder, unit
):
    from cases.models import Addendum

    def addendum_on(unit_):
        encounter = submitted_encounter(unit_, responder)
        return Addendum.objects.create(encounter=encounter, author=responder, text="x")

    mine, theirs = addendum_on(unit), addendum_on(UnitFactory(call_sign="ACS-77"))
    client.force_login(supervisor)

    response = client.post(
        "/admin/cases/addendum/",
        {"action": "approve", "_selected_action": [str(mine.pk), str(theirs.pk)]},
        follow=True,
    )

    text = response.content.decode()
    assert "1 addendum(s) approved." in text
    assert "You decide on the addenda of your own team&#x27;s encounters." in text
    assert Addendum.objects.get(pk=mine.pk).approved_by == supervisor
    assert Addendum.objects.get(pk=theirs.pk).approved_at is None
