"""The partner portal (/partners/): one referral's page, and the partner's answers to it."""

import pytest
from django.test import Client

from acs.models import AuditAction, AuditEvent
from cases.models import Consent
from resources import services
from tests.resources.portal_world import S, action_url, detail_url, messages_of, status_of
from tests.resources.referral_helpers import consenting_resident

pytestmark = pytest.mark.django_db


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
