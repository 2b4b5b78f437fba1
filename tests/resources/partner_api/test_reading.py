"""The partner contract: the referral list and one referral, with what consent lets through."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs.models import AuditAction, AuditEvent
from cases.models import Consent
from resources import services
from resources.models import Referral
from tests.resources.referral_helpers import consenting_resident, referrable_service

pytestmark = pytest.mark.django_db


class TestList:
    def test_lists_only_own_sent_referrals_oldest_change_first(
        self, api_a, sent, service_a, resident, case_manager, agency_b
    ):
        draft = services.referral_create(
            actor=case_manager, resident=resident, service=service_a[0]
        )
        other_service, _ = referrable_service(agency_b)
        other = consenting_resident(agency_b, recorded_by=case_manager)
        services.referral_create(
            actor=case_manager, resident=other, service=other_service, send=True
        )
        later = services.referral_create(
            actor=case_manager, resident=resident, service=service_a[0], send=True
        )
        response = api_a.get("/api/v1/referrals")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"results", "next"}
        ids = [r["id"] for r in body["results"]]
        assert ids == [str(sent.public_id), str(later.public_id)]
        assert str(draft.public_id) not in ids
        assert "resident" not in body["results"][0]

    def test_updated_since_and_status_filter(self, api_a, sent, partner_a):
        mark = timezone.now()
        services.referral_accept(actor=partner_a, referral=sent)
        response = api_a.get("/api/v1/referrals", {"updated_since": mark.isoformat()})
        assert [r["status"] for r in response.json()["results"]] == ["accepted"]
        assert api_a.get("/api/v1/referrals", {"status": "sent"}).json()["results"] == []
        both = api_a.get("/api/v1/referrals", {"status": "sent,accepted"}).json()["results"]
        assert len(both) == 1

    @pytest.mark.parametrize(
        "params", [{"updated_since": "yesterday"}, {"status": "lost"}, {"status": "draft"}]
    )
    def test_bad_filters_are_400_with_the_field(self, api_a, params):
        response = api_a.get("/api/v1/referrals", params)
        assert response.status_code == 400
        assert set(response.json()["error"]["fields"]) == set(params)

    def test_pages_with_a_cursor_and_misses_nothing(self, api_a, service_a, resident, case_manager):
        made = [
            services.referral_create(
                actor=case_manager, resident=resident, service=service_a[0], send=True
            )
            for _ in range(7)
        ]
        seen, url = [], "/api/v1/referrals?page_size=3"
        while url:
            body = api_a.get(url).json()
            seen += [r["id"] for r in body["results"]]
            url = body["next"]
        assert seen == [str(r.public_id) for r in made]

    def test_recent_changes_wait_for_the_settle_window(self, api_a, sent, settings):
        settings.REFERRAL_FEED_SETTLE = timedelta(minutes=5)
        assert api_a.get("/api/v1/referrals").json()["results"] == []
        Referral.objects.filter(pk=sent.pk).update(updated_at=timezone.now() - timedelta(minutes=6))
        assert len(api_a.get("/api/v1/referrals").json()["results"]) == 1

    def test_query_count_does_not_grow_with_the_page(
        self, api_a, service_a, resident, case_manager
    ):
        for _ in range(3):
            services.referral_create(
                actor=case_manager, resident=resident, service=service_a[0], send=True
            )

        def count(size):
            with CaptureQueriesContext(connection) as queries:
                assert api_a.get(f"/api/v1/referrals?page_size={size}").status_code == 200
            return len(queries)

        count(1)  # the token's first use records last_used_at: one write, once
        small = count(1)
        for _ in range(20):
            services.referral_create(
                actor=case_manager, resident=resident, service=service_a[0], send=True
            )
        assert count(20) == small


class TestDetailAndConsent:
    def test_detail_has_service_reason_history_and_consented_resident(self, api_a, sent):
        response = api_a.get(f"/api/v1/referrals/{sent.public_id}")
        assert response.status_code == 200
        body = response.json()
        assert body["service"]["id"] == str(sent.service.public_id)
        assert body["urgency"] == "urgent" and body["reason"] == "Needs a bed tonight"
        assert [h["to_status"] for h in body["history"]] == ["draft", "sent"]
        assert body["resident"] == {
            "consent_basis": "named_partner",
            "preferred_name": "Rosa",
            "language": "es",
            "phone": "+15055550100",
            "where_to_find_me": "Under the Central Ave bridge",
            "needs": ["shelter"],  # substance use only under a written Part 2 consent
            "part2_notice": None,
        }
        text = json.dumps(body)
        for secret in ("Rosa Legal", "narrative", "date_of_birth", "safety"):
            assert secret not in text

    def test_the_disclosure_is_audited_with_the_fields(self, api_a, sent, resident):
        api_a.get(f"/api/v1/referrals/{sent.public_id}")
        event = AuditEvent.objects.get(action=AuditAction.DISCLOSE, target_id=resident.public_id)
        assert event.actor.organization == sent.organization
        assert event.detail["fields"] == [
            "preferred_name",
            "language",
            "phone",
            "where_to_find_me",
            "needs",
        ]

    def test_written_substance_use_consent_adds_substance_use_needs(
        self, api_a, sent, resident, case_manager
    ):
        Consent.objects.create(
            resident=resident,
            scope=Consent.Scope.SUBSTANCE_USE,
            method=Consent.Method.WRITTEN,
            recorded_by=case_manager,
        )
        body = api_a.get(f"/api/v1/referrals/{sent.public_id}").json()
        assert body["resident"]["needs"] == ["shelter", "substance_use"]
        # The disclosure carries the notice that prohibits redisclosure, and is audited as
        # a Part 2 disclosure.
        assert body["resident"]["part2_notice"] == (
            "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
        )
        event = AuditEvent.objects.filter(action=AuditAction.DISCLOSE).latest("id")
        assert event.detail["part2"] is True

    def test_a_reason_flagged_as_part_2_is_withheld_until_written_consent(
        self, api_a, service_a, resident, case_manager
    ):
        referral = services.referral_create(
            actor=case_manager,
            resident=resident,
            service=service_a[0],
            reason="Starts methadone on Monday; needs a bed near the clinic",
            reason_part2=True,
            needs=["shelter"],
            send=True,
        )
        url = f"/api/v1/referrals/{referral.public_id}"

        body = api_a.get(url).json()

        assert (body["reason"], body["reason_withheld"]) == ("", True)
        assert body["resident"]["part2_notice"] is None
        assert "methadone" not in json.dumps(body)
        event = AuditEvent.objects.filter(action=AuditAction.DISCLOSE).latest("id")
        assert "reason" not in event.detail["fields"] and event.detail["part2"] is False

        Consent.objects.create(
            resident=resident,
            scope=Consent.Scope.SUBSTANCE_USE,
            method=Consent.Method.WRITTEN,
            recorded_by=case_manager,
        )
        body = api_a.get(url).json()

        assert body["reason"].startswith("Starts methadone") and body["reason_withheld"] is False
        assert body["resident"]["part2_notice"].startswith("42 CFR part 2 prohibits")
        event = AuditEvent.objects.filter(action=AuditAction.DISCLOSE).latest("id")
        assert "reason" in event.detail["fields"] and event.detail["part2"] is True

    def test_without_a_sharing_consent_a_part_2_reason_is_withheld_even_with_written_part_2(
        self, api_a, service_a, supervisor
    ):
        resident = consenting_resident(recorded_by=supervisor, scope=None)
        Consent.objects.create(
            resident=resident,
            scope=Consent.Scope.SUBSTANCE_USE,
            method=Consent.Method.WRITTEN,
            recorded_by=supervisor,
        )
        referral = services.referral_create(
            actor=supervisor,
            resident=resident,
            service=service_a[0],
            reason="Detox intake",
            reason_part2=True,
            send=True,
            consent_override_reason="Cannot consent now",
        )
        from resources.models import Referral as R

        R.objects.filter(pk=referral.pk).update(consent_override_by=None)
        body = api_a.get(f"/api/v1/referrals/{referral.public_id}").json()

        assert body["resident"]["consent_basis"] == "none"
        assert (body["reason"], body["reason_withheld"]) == ("", True)

    def test_a_plain_reason_is_shared_as_written(self, api_a, sent):
        body = api_a.get(f"/api/v1/referrals/{sent.public_id}").json()

        assert (body["reason"], body["reason_withheld"]) == ("Needs a bed tonight", False)

    def test_a_substance_use_need_flags_the_reason_unless_the_referrer_says_otherwise(
        self, service_a, resident, case_manager
    ):
        def made(**kwargs):
            return services.referral_create(
                actor=case_manager, resident=resident, service=service_a[0], **kwargs
            )

        assert made(needs=["substance_use"], reason="Wants detox").reason_part2 is True
        assert made(needs=["shelter"], reason="Needs a bed").reason_part2 is False
        assert made(needs=["substance_use"], reason="Bed", reason_part2=False).reason_part2 is False
        assert made(needs=["shelter"], reason="Detox", reason_part2=True).reason_part2 is True

    def test_general_consent_shares_the_same_fields(self, api_a, service_a, case_manager):
        resident = consenting_resident(recorded_by=case_manager, scope=Consent.Scope.SHARE_PARTNERS)
        referral = services.referral_create(
            actor=case_manager, resident=resident, service=service_a[0], send=True
        )
        body = api_a.get(f"/api/v1/referrals/{referral.public_id}").json()
        assert body["resident"]["consent_basis"] == "partners"
        assert body["resident"]["phone"] == "+15055550100"

    def test_a_revoked_consent_shares_nothing_from_then_on(
        self, api_a, sent, resident, case_manager
    ):
        consent = resident.consents.get()
        from cases.services import consent_revoke

        consent_revoke(actor=case_manager, consent=consent)
        body = api_a.get(f"/api/v1/referrals/{sent.public_id}").json()
        assert body["resident"] == {
            "consent_basis": "none",
            "preferred_name": None,
            "language": None,
            "phone": None,
            "where_to_find_me": None,
            "needs": [],
            "part2_notice": None,
        }
        assert not AuditEvent.objects.filter(action=AuditAction.DISCLOSE).exists()

    def test_supervisor_override_shares_only_the_minimum(self, api_a, service_a, supervisor):
        resident = consenting_resident(recorded_by=supervisor, scope=None)
        referral = services.referral_create(
            actor=supervisor,
            resident=resident,
            service=service_a[0],
            needs=["shelter"],
            send=True,
            consent_override_reason="Cannot consent; needs a bed",
        )
        detail = api_a.get(f"/api/v1/referrals/{referral.public_id}").json()
        body = detail["resident"]
        # Why the supervisor overrode stays at ACS: not on the partner's thread.
        assert "Cannot consent" not in json.dumps(detail)
        assert referral.consent_override_reason == "Cannot consent; needs a bed"
        assert body["consent_basis"] == "supervisor_override"
        assert (body["preferred_name"], body["language"], body["needs"]) == (
            "Rosa",
            "es",
            ["shelter"],
        )
        assert body["phone"] is None and body["where_to_find_me"] is None
