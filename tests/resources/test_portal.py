"""The partner portal (/partners/): pages for partner agencies, scoped to their organization."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acs.models import AuditAction, AuditEvent
from acs.roles import Role
from resources import services
from resources.models import (
    Referral,
)
from tests.factories import UserFactory
from tests.resources.portal_world import INBOX, S, action_url, detail_url, status_of
from tests.resources.referral_helpers import consenting_resident, referrable_service, referral_in

pytestmark = pytest.mark.django_db


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
