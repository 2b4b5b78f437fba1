"""The partner portal (/partners/): pages for partner agencies, scoped to their organization."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acs.models import AuditAction, AuditEvent
from acs.roles import Role
from cases.models import Consent
from resources import services
from resources.models import (
    Capacity,
    CapacityHistory,
    Referral,
    ReferralStatus,
    WebhookEndpoint,
)
from tests.factories import UserFactory
from tests.resources.referral_helpers import consenting_resident, referrable_service, referral_in

pytestmark = pytest.mark.django_db
S = ReferralStatus
INBOX = "/partners/"


@pytest.fixture
def service_a(agency_a):
    return referrable_service(agency_a, name="Overnight shelter")


@pytest.fixture
def sent(service_a, resident, case_manager):
    return services.referral_create(
        actor=case_manager,
        resident=resident,
        service=service_a[0],
        service_at_location=service_a[1],
        reason="Needs a bed tonight",
        reason_part2=False,  # the referrer says the reason itself does not mention it
        needs=["shelter", "substance_use"],
        urgency="urgent",
        send=True,
    )


@pytest.fixture
def client_a(partner_a):
    client = Client()
    client.force_login(partner_a)
    return client


@pytest.fixture
def client_b(partner_b):
    client = Client()
    client.force_login(partner_b)
    return client


def detail_url(referral):
    return reverse("portal:referral_detail", args=[referral.public_id])


def action_url(referral, action):
    return reverse(f"portal:referral_{action}", args=[referral.public_id])


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def status_of(referral):
    referral.refresh_from_db()
    return referral.status


class TestAccess:
    @pytest.mark.parametrize("who", ["case_manager", "responder", "outsider"])
    def test_non_partner_users_are_refused(self, who, request, sent, service_a):
        client = Client()
        client.force_login(request.getfixturevalue(who))
        for path in (INBOX, detail_url(sent), "/partners/capacity/", "/partners/webhooks/"):
            assert client.get(path).status_code == 403, path
        response = client.post(action_url(sent, "accept"))
        assert response.status_code == 403
        assert status_of(sent) == S.SENT

    def test_a_partner_user_without_an_organization_is_refused(self, db):
        client = Client()
        client.force_login(UserFactory(username="loose", role=Role.PARTNER_USER))
        assert client.get(INBOX).status_code == 403

    def test_anonymous_visitors_are_sent_to_sign_in(self, sent):
        for path in (INBOX, detail_url(sent), "/partners/webhooks/"):
            response = Client().get(path)
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/?next=/partners/")
        response = Client().post(action_url(sent, "accept"))
        assert response.status_code == 302
        assert status_of(sent) == S.SENT

    def test_partner_pages_are_not_cached(self, client_a, sent):
        assert "no-store" in client_a.get(detail_url(sent))["Cache-Control"]

    def test_home_links_partners_to_the_portal(self, client_a, case_manager):
        assert reverse("portal:inbox") in client_a.get("/").content.decode()
        staff = Client()
        staff.force_login(case_manager)
        assert reverse("portal:inbox") not in staff.get("/").content.decode()


class TestInbox:
    def test_lists_own_sent_referrals_only(
        self, client_a, client_b, sent, service_a, resident, case_manager, agency_b
    ):
        draft = services.referral_create(
            actor=case_manager, resident=resident, service=service_a[0]
        )
        other_service, _ = referrable_service(agency_b)
        other = consenting_resident(agency_b, recorded_by=case_manager)
        theirs = services.referral_create(
            actor=case_manager, resident=other, service=other_service, send=True
        )
        page = client_a.get(INBOX, {"status": "all"}).content.decode()
        assert detail_url(sent) in page
        assert detail_url(draft) not in page
        assert detail_url(theirs) not in page
        page_b = client_b.get(INBOX, {"status": "all"}).content.decode()
        assert detail_url(theirs) in page_b
        assert detail_url(sent) not in page_b

    def test_shows_referral_fields_and_only_what_the_consent_shares(self, client_a, sent):
        response = client_a.get(INBOX)
        page = response.content.decode()
        assert response.status_code == 200
        assert "Overnight shelter" in page and "Urgent" in page and "Respond by" in page
        # The consent shares the preferred name and language: on the card, audited.
        assert "Rosa" in page and "Spanish" in page
        for personal in ("Rosa Legal", "+15055550100", "Central Ave", "Needs a bed tonight"):
            assert personal not in page
        disclosure = AuditEvent.objects.get(action=AuditAction.DISCLOSE)
        assert disclosure.target_id == sent.resident.public_id
        assert disclosure.detail["fields"] == ["preferred_name", "language"]
        assert disclosure.detail["referral"] == str(sent.public_id)

    def test_two_referrals_of_the_same_service_are_told_apart(
        self, client_a, service_a, case_manager, agency_a
    ):
        """Six identical "Overnight shelter" cards could not be told apart: each now shows the
        resident (as consent allows), a short reference and who referred."""
        case_manager.first_name, case_manager.last_name = "Dana", "Ruiz"
        case_manager.save()
        rosa = consenting_resident(agency_a, recorded_by=case_manager)
        ana = consenting_resident(
            agency_a, recorded_by=case_manager, preferred_name="Ana", preferred_language="en"
        )
        first, second = (
            services.referral_create(
                actor=case_manager, resident=who, service=service_a[0], send=True
            )
            for who in (rosa, ana)
        )
        page = client_a.get(INBOX).content.decode()
        cards = {
            r: page[page.index(detail_url(r)) : page.index("</a>", page.index(detail_url(r)))]
            for r in (first, second)
        }
        assert "Rosa" in cards[first] and "Spanish" in cards[first]
        assert "Ana" in cards[second] and "English" in cards[second]
        for referral in (first, second):
            assert f"Ref. {referral.public_id.hex[:8].upper()}" in cards[referral]
            assert "Referred by Dana Ruiz" in cards[referral]
        assert cards[first] != cards[second]

    def test_without_consent_the_card_names_nobody_and_nothing_is_audited(
        self, client_a, sent, resident, case_manager
    ):
        from cases.services import consent_revoke

        consent_revoke(actor=case_manager, consent=resident.consents.get())
        page = client_a.get(INBOX).content.decode()
        assert "Name not shared" in page
        assert "Rosa" not in page and "Spanish" not in page
        assert f"Ref. {sent.short_reference}" in page
        assert not AuditEvent.objects.filter(action=AuditAction.DISCLOSE).exists()

    def test_a_referrer_without_a_name_on_file_is_an_acs_responder(self, client_a, sent):
        assert sent.created_by.get_full_name() == ""
        page = client_a.get(INBOX).content.decode()
        assert "Referred by ACS responder" in page
        assert sent.created_by.get_username() not in page

    def test_times_are_shown_in_denver_time(self, client_a, sent):
        page = client_a.get(INBOX).content.decode()
        assert "MDT" in page or "MST" in page

    def test_status_tabs_filter_and_count(self, client_a, sent, partner_a, service_a, resident):
        accepted = referral_in(
            S.ACCEPTED, service=service_a[0], resident=resident, created_by=sent.created_by
        )
        waiting = client_a.get(INBOX).content.decode()  # "waiting for you" by default
        assert detail_url(sent) in waiting and detail_url(accepted) not in waiting
        tab = client_a.get(INBOX, {"status": "accepted"}).content.decode()
        assert detail_url(accepted) in tab and detail_url(sent) not in tab
        everything = client_a.get(INBOX, {"status": "all"}).content.decode()
        assert detail_url(accepted) in everything and detail_url(sent) in everything
        # An unknown tab falls back to the default rather than failing.
        assert client_a.get(INBOX, {"status": "lost"}).status_code == 200

    def test_newest_change_first(self, client_a, sent, service_a, resident):
        later = referral_in(
            S.SENT, service=service_a[0], resident=resident, created_by=sent.created_by
        )
        page = client_a.get(INBOX).content.decode()
        assert page.index(detail_url(later)) < page.index(detail_url(sent))

    def test_flags_overdue_and_due_soon(self, client_a, service_a, resident, case_manager):
        now = timezone.now()
        overdue = referral_in(
            S.SENT, service=service_a[0], resident=resident, created_by=case_manager
        )
        Referral.objects.filter(pk=overdue.pk).update(respond_by=now - timedelta(minutes=5))
        page = client_a.get(INBOX).content.decode()
        assert "Overdue" in page and "Due soon" not in page
        Referral.objects.filter(pk=overdue.pk).update(respond_by=now + timedelta(hours=1))
        page = client_a.get(INBOX).content.decode()
        assert "Due soon" in page and "Overdue" not in page

    def test_pages_by_25(self, client_a, service_a, resident, case_manager):
        made = [
            referral_in(S.SENT, service=service_a[0], resident=resident, created_by=case_manager)
            for _ in range(26)
        ]
        first = client_a.get(INBOX).content.decode()
        second = client_a.get(INBOX, {"status": "waiting", "page": 2}).content.decode()
        assert first.count('class="referral-item') == 25
        assert second.count('class="referral-item') == 1
        assert detail_url(made[0]) in second  # the oldest change is last
        assert "Page 2 of 2" in second

    def test_query_count_does_not_grow_with_the_referrals(
        self, client_a, service_a, resident, case_manager
    ):
        def count():
            with CaptureQueriesContext(connection) as queries:
                assert client_a.get(INBOX, {"status": "all"}).status_code == 200
            return len(queries)

        referral_in(S.SENT, service=service_a[0], resident=resident, created_by=case_manager)
        count()  # the first request of the session may touch it
        one = count()
        for _ in range(19):
            referral_in(
                S.SENT,
                service=service_a[0],
                service_at_location=service_a[1],
                resident=resident,
                created_by=case_manager,
            )
        assert count() == one


class TestDetail:
    def test_other_agencys_referral_is_404(self, client_b, sent):
        response = client_b.get(detail_url(sent))
        assert response.status_code == 404
        assert "Rosa" not in response.content.decode()
        assert not AuditEvent.objects.filter(action=AuditAction.DISCLOSE).exists()

    def test_drafts_and_unknown_ids_are_404(self, client_a, service_a, resident, case_manager):
        draft = services.referral_create(
            actor=case_manager, resident=resident, service=service_a[0]
        )
        assert client_a.get(detail_url(draft)).status_code == 404
        assert client_a.get("/partners/referrals/not-a-uuid/").status_code == 404

    def test_shows_the_consented_resident_and_audits_the_disclosure(self, client_a, sent, resident):
        response = client_a.get(detail_url(sent))
        page = response.content.decode()
        assert response.status_code == 200
        shared = ("Rosa", ">Spanish<", "+15055550100", "Under the Central Ave bridge", "Shelter")
        for shown in shared:
            assert shown in page
        assert "Needs a bed tonight" in page  # the reason, written for the partner
        assert "Rosa Legal" not in page
        assert f"Ref. {sent.short_reference}" in page and "<dd>ACS responder</dd>" in page
        assert "Substance use" not in page  # only under a written Part 2 consent
        events = AuditEvent.objects.filter(
            action=AuditAction.DISCLOSE, target_id=resident.public_id
        )
        assert events.count() == 1
        assert events.get().actor_id == sent.organization.partner_users.get().pk

    def test_substance_use_shown_only_under_written_consent_and_with_the_notice(
        self, client_a, sent, resident, case_manager
    ):
        page = client_a.get(detail_url(sent)).content.decode()
        assert "42 CFR part 2" not in page
        Consent.objects.create(
            resident=resident,
            scope=Consent.Scope.SUBSTANCE_USE,
            method=Consent.Method.WRITTEN,
            recorded_by=case_manager,
        )

        page = client_a.get(detail_url(sent)).content.decode()

        assert "Substance use" in page
        assert "42 CFR part 2 prohibits unauthorized use or disclosure of these records." in page

    def test_a_reason_flagged_as_part_2_is_withheld_until_written_consent(
        self, client_a, service_a, resident, case_manager
    ):
        referral = services.referral_create(
            actor=case_manager,
            resident=resident,
            service=service_a[0],
            reason="Starts methadone on Monday",
            reason_part2=True,
            send=True,
        )
        page = client_a.get(detail_url(referral)).content.decode()
        assert "methadone" not in page
        assert "Withheld: it holds substance-use information (42 CFR Part 2)" in page

        Consent.objects.create(
            resident=resident,
            scope=Consent.Scope.SUBSTANCE_USE,
            method=Consent.Method.WRITTEN,
            recorded_by=case_manager,
        )
        page = client_a.get(detail_url(referral)).content.decode()

        assert "Starts methadone on Monday" in page
        assert "42 CFR part 2 prohibits unauthorized use or disclosure of these records." in page

    def test_without_consent_nothing_is_shared_or_audited(
        self, client_a, sent, resident, case_manager
    ):
        from cases.services import consent_revoke

        consent_revoke(actor=case_manager, consent=resident.consents.get())
        page = client_a.get(detail_url(sent)).content.decode()
        assert "Not shared — no consent" in page
        for personal in ("Rosa", "+15055550100", "Central Ave"):
            assert personal not in page
        assert not AuditEvent.objects.filter(action=AuditAction.DISCLOSE).exists()

    def test_supervisor_override_shares_only_the_minimum(self, client_a, service_a, supervisor):
        resident = consenting_resident(recorded_by=supervisor, scope=None)
        referral = services.referral_create(
            actor=supervisor,
            resident=resident,
            service=service_a[0],
            send=True,
            consent_override_reason="Cannot consent; needs a bed",
        )
        page = client_a.get(detail_url(referral)).content.decode()
        assert "Rosa" in page and "+15055550100" not in page and "Central Ave" not in page

    def test_offers_only_the_moves_the_status_allows(self, client_a, sent, partner_a):
        page = client_a.get(detail_url(sent)).content.decode()
        assert action_url(sent, "accept") in page and action_url(sent, "decline") in page
        assert action_url(sent, "start") not in page and action_url(sent, "complete") not in page
        services.referral_accept(actor=partner_a, referral=sent)
        page = client_a.get(detail_url(sent)).content.decode()
        assert action_url(sent, "start") in page and action_url(sent, "complete") in page
        assert action_url(sent, "accept") not in page

    def test_the_thread_shows_who_wrote_what(self, client_a, sent, partner_a, case_manager):
        services.referral_note_add(actor=case_manager, referral=sent, note="She prefers mornings")
        services.referral_accept(actor=partner_a, referral=sent, note="Bed 4 is hers")
        page = client_a.get(detail_url(sent)).content.decode()
        assert "She prefers mornings" in page and "Bed 4 is hers" in page
        assert "Sent &rarr; Accepted" in page or "Sent → Accepted" in page
        assert page.count('class="by-partner"') == 1


class TestActions:
    def test_accept_with_a_note_then_start_then_complete(self, client_a, sent):
        response = client_a.post(action_url(sent, "accept"), {"note": "Bed 4"})
        assert response.status_code == 302 and response["Location"] == detail_url(sent)
        assert "Referral accepted." in messages_of(response)
        assert status_of(sent) == S.ACCEPTED
        assert sent.events.get(to_status=S.ACCEPTED).note == "Bed 4"

        assert client_a.post(action_url(sent, "start")).status_code == 302
        assert status_of(sent) == S.IN_PROGRESS

        response = client_a.post(
            action_url(sent, "complete"), {"outcome": "enrolled", "note": "Moved in"}
        )
        assert response.status_code == 302
        sent.refresh_from_db()
        assert (sent.status, sent.outcome) == (S.COMPLETED, "enrolled")
        assert sent.events.filter(by_organization=sent.organization).count() == 3

    def test_an_outcome_without_the_service_ends_not_completed(self, client_a, sent, partner_a):
        services.referral_accept(actor=partner_a, referral=sent)
        client_a.post(action_url(sent, "complete"), {"outcome": "no_show"})
        assert status_of(sent) == S.NOT_COMPLETED

    def test_complete_needs_a_known_outcome(self, client_a, sent, partner_a):
        services.referral_accept(actor=partner_a, referral=sent)
        response = client_a.post(action_url(sent, "complete"), {"outcome": "maybe"})
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
        assert status_of(sent) == S.ACCEPTED

    def test_decline_needs_a_reason(self, client_a, sent):
        response = client_a.post(action_url(sent, "decline"), {"reason": "   "})
        assert response.status_code == 400
        page = response.content.decode()
        assert "This field is required." in page
        assert '<details class="action" open>' in page  # the form with its error is open
        assert status_of(sent) == S.SENT

        response = client_a.post(action_url(sent, "decline"), {"reason": "No beds left"})
        assert response.status_code == 302
        sent.refresh_from_db()
        assert sent.status == S.DECLINED and sent.closed_at is not None
        assert sent.events.get(to_status=S.DECLINED).note == "No beds left"

    def test_a_note_to_acs(self, client_a, sent):
        response = client_a.post(action_url(sent, "note"), {"note": "Call us before 5"})
        assert response.status_code == 302
        assert "Message sent to ACS." in messages_of(response)
        event = sent.events.get(note="Call us before 5")
        assert event.is_note and event.by_organization_id == sent.organization_id

    def test_an_empty_note_is_refused_on_the_form(self, client_a, sent):
        response = client_a.post(action_url(sent, "note"), {"note": ""})
        assert response.status_code == 400
        assert "This field is required." in response.content.decode()
        assert not sent.events.filter(to_status="").exists()

    def test_an_illegal_move_shows_the_message_and_changes_nothing(self, client_a, sent):
        response = client_a.post(action_url(sent, "start"), follow=True)
        assert response.status_code == 200
        assert "A referral that is sent cannot be started." in response.content.decode()
        assert status_of(sent) == S.SENT
        assert not sent.events.filter(to_status=S.IN_PROGRESS).exists()

    def test_a_second_accept_is_refused_with_a_message(self, client_a, sent):
        client_a.post(action_url(sent, "accept"))
        response = client_a.post(action_url(sent, "accept"))
        assert response.status_code == 302
        # (the first move's message was never shown: no page was rendered in between)
        assert messages_of(response)[-1] == "A referral that is accepted cannot be accepted."
        assert sent.events.filter(to_status=S.ACCEPTED).count() == 1

    @pytest.mark.parametrize(
        "action,data",
        [
            ("accept", {}),
            ("decline", {"reason": "x"}),
            ("start", {}),
            ("complete", {"outcome": "enrolled"}),
            ("note", {"note": "hi"}),
        ],
    )
    def test_other_agency_cannot_act(self, client_b, sent, action, data):
        assert client_b.post(action_url(sent, action), data).status_code == 404
        assert status_of(sent) == S.SENT
        assert not sent.events.filter(by_organization__isnull=False).exists()

    def test_actions_are_post_only_and_need_the_csrf_token(self, partner_a, sent):
        client = Client(enforce_csrf_checks=True)
        client.force_login(partner_a)
        assert client.get(action_url(sent, "accept")).status_code == 405
        assert client.post(action_url(sent, "accept")).status_code == 403
        assert status_of(sent) == S.SENT
        assert 'name="csrfmiddlewaretoken"' in client.get(detail_url(sent)).content.decode()


class TestCapacity:
    def test_lists_own_services_at_locations_only(self, client_a, service_a, agency_b):
        _, theirs = referrable_service(agency_b, name="Their shelter")
        page = client_a.get("/partners/capacity/").content.decode()
        assert "Overnight shelter" in page and "Not reported yet" in page
        assert "Their shelter" not in page
        assert str(theirs.public_id) not in page

    def test_updates_own_capacity(self, client_a, service_a, partner_a):
        sal = service_a[1]
        url = reverse("portal:capacity_update", args=[sal.public_id])
        response = client_a.post(
            url, {"available": "3", "total": "40", "unit": "beds", "note": "after intake"}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/partners/capacity/#sal-{sal.public_id}"
        capacity = Capacity.objects.get(service_at_location=sal)
        assert (capacity.available, capacity.total, capacity.updated_by) == (3, 40, partner_a)
        assert CapacityHistory.objects.get().note == "after intake"
        page = client_a.get("/partners/capacity/").content.decode()
        assert "3 of 40 beds available" in page and "Out of date" not in page

    @pytest.mark.parametrize(
        "data,error",
        [
            ({"available": "41", "total": "40"}, "Must not exceed total."),
            ({"available": "-1", "total": "40"}, "greater than or equal to 0"),
            ({"available": "", "total": "40"}, "This field is required."),
        ],
    )
    def test_invalid_figures_are_shown_on_the_form(self, client_a, service_a, data, error):
        url = reverse("portal:capacity_update", args=[service_a[1].public_id])
        response = client_a.post(url, data)
        assert response.status_code == 400
        assert error in response.content.decode()
        assert not Capacity.objects.exists()

    def test_another_organizations_service_is_404(self, client_a, agency_b):
        _, theirs = referrable_service(agency_b)
        url = reverse("portal:capacity_update", args=[theirs.public_id])
        assert client_a.post(url, {"available": "1", "total": "2"}).status_code == 404
        assert not Capacity.objects.exists()

    def test_an_old_figure_shows_as_out_of_date(self, client_a, service_a):
        services.capacity_update(service_at_location=service_a[1], available=1, total=2)
        Capacity.objects.update(updated_at=timezone.now() - timedelta(days=3))
        assert "Out of date" in client_a.get("/partners/capacity/").content.decode()


class TestWebhooks:
    URL = "/partners/webhooks/"

    def test_registering_shows_the_secret_once(self, client_a, agency_a, partner_a):
        response = client_a.post(self.URL, {"url": "https://hooks.agency-a.example/acs"})
        assert response.status_code == 200
        endpoint = WebhookEndpoint.objects.get(organization=agency_a)
        assert endpoint.created_by == partner_a
        page = response.content.decode()
        assert endpoint.secret in page
        assert "Verifying webhooks" in page and "ACS-Signature" in page
        assert messages_of(response) == []
        # Never again: not on the list, nor on any later page.
        later = client_a.get(self.URL).content.decode()
        assert "https://hooks.agency-a.example/acs" in later
        assert endpoint.secret not in later

    def test_reposting_the_same_url_does_not_reveal_the_secret(self, client_a, agency_a):
        client_a.post(self.URL, {"url": "https://hooks.agency-a.example/acs"})
        response = client_a.post(self.URL, {"url": "https://hooks.agency-a.example/acs"})
        assert response.status_code == 400
        assert "Already registered." in response.content.decode()
        assert WebhookEndpoint.objects.get().secret not in response.content.decode()

    def test_refuses_http_endpoints(self, client_a, settings):
        settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
        response = client_a.post(self.URL, {"url": "http://hooks.agency-a.example/acs"})
        assert response.status_code == 400
        assert "The endpoint must use https." in response.content.decode()
        assert not WebhookEndpoint.objects.exists()

    def test_lists_only_own_endpoints_with_their_state(self, client_a, agency_a, agency_b):
        WebhookEndpoint.objects.create(
            organization=agency_a,
            url="https://a.example/hook",
            active=False,
            disabled_reason="20 failures in a row",
        )
        WebhookEndpoint.objects.create(organization=agency_b, url="https://b.example/hook")
        page = client_a.get(self.URL).content.decode()
        assert "https://a.example/hook" in page and "20 failures in a row" in page
        assert "Disabled" in page
        assert "https://b.example/hook" not in page


def test_pages_carry_no_inline_script_or_handlers(client_a, sent, service_a):
    import re

    for path in (INBOX, detail_url(sent), "/partners/capacity/", "/partners/webhooks/"):
        page = client_a.get(path).content.decode()
        assert "<script" not in page, path
        assert not re.search(r"\son[a-z]+\s*=", page), path
        assert 'name="viewport"' in page


def test_a_revoked_consent_after_sending_still_lets_the_partner_answer(
    client_a, sent, resident, case_manager
):
    """The thread and the moves do not depend on the consent; only the resident block does."""
    from cases.services import consent_revoke

    consent_revoke(actor=case_manager, consent=resident.consents.get())
    assert client_a.post(action_url(sent, "accept")).status_code == 302
    assert status_of(sent) == S.ACCEPTED
