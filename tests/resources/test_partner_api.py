"""The partner contract: /api/v1/referrals and /api/v1/capacity with partner tokens."""

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs.models import AuditAction, AuditEvent
from cases.models import Consent
from resources import services
from resources.models import Capacity, CapacityHistory, Referral, ReferralStatus
from tests.resources.referral_helpers import bearer, consenting_resident, referrable_service

pytestmark = pytest.mark.django_db
S = ReferralStatus


@pytest.fixture(autouse=True)
def _no_settle(settings):
    settings.REFERRAL_FEED_SETTLE = timedelta(0)


@pytest.fixture
def service_a(agency_a):
    return referrable_service(agency_a)


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


def post(client, path, body=None, **headers):
    if body is None:  # a POST without a body, as `curl -X POST` sends it
        return client.generic("POST", path, **headers)
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


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


class TestCrossAgency:
    """Agency B's token gets 404 on every endpoint for agency A's referral, and no data."""

    @pytest.mark.parametrize(
        "method,suffix,body",
        [
            ("get", "", None),
            ("post", "/accept", {}),
            ("post", "/decline", {"reason": "x"}),
            ("post", "/start", {}),
            ("post", "/complete", {"outcome": "enrolled"}),
            ("post", "/notes", {"note": "hi"}),
        ],
    )
    def test_other_agency_gets_404(self, api_b, sent, method, suffix, body):
        path = f"/api/v1/referrals/{sent.public_id}{suffix}"
        response = api_b.get(path) if method == "get" else post(api_b, path, body)
        assert response.status_code == 404
        assert "Rosa" not in response.content.decode()
        sent.refresh_from_db()
        assert (
            sent.status == S.SENT and sent.events.filter(by_organization__isnull=False).count() == 0
        )

    def test_other_agency_list_is_empty(self, api_b, sent):
        assert api_b.get("/api/v1/referrals").json()["results"] == []

    def test_other_agency_cannot_set_capacity(self, api_b, service_a):
        response = api_b.put(
            f"/api/v1/capacity/{service_a[1].public_id}",
            json.dumps({"available": 1, "total": 2}),
            content_type="application/json",
        )
        assert response.status_code == 404
        assert not Capacity.objects.exists()

    @pytest.mark.parametrize("who", ["cad_client", "case_manager", "responder"])
    def test_non_partner_tokens_are_refused(self, who, request, sent):
        user = request.getfixturevalue(who)
        client = Client()
        client.force_login(user)
        assert client.get("/api/v1/referrals").status_code == 403

    def test_no_token_is_401(self, sent):
        assert Client().get("/api/v1/referrals").status_code in (401, 403)
        response = Client(HTTP_AUTHORIZATION="Bearer acs_nope_nope").get("/api/v1/referrals")
        assert response.status_code == 401

    def test_a_garbage_id_is_404(self, api_a):
        assert api_a.get("/api/v1/referrals/not-a-uuid").status_code == 404
        assert api_a.get(f"/api/v1/referrals/{uuid.uuid4()}").status_code == 404


class TestActions:
    def test_accept_start_complete_closes_the_loop(self, api_a, sent):
        base = f"/api/v1/referrals/{sent.public_id}"
        response = post(api_a, f"{base}/accept", {"note": "Bed 4"})
        assert response.status_code == 200 and response.json()["status"] == "accepted"
        assert post(api_a, f"{base}/start").json()["status"] == "in_progress"
        done = post(api_a, f"{base}/complete", {"outcome": "enrolled", "note": "Moved in"})
        body = done.json()
        assert (body["status"], body["outcome"]) == ("completed", "enrolled")
        assert [h["by"] for h in body["history"]][-3:] == ["partner"] * 3

    def test_an_illegal_move_is_409_naming_the_state(self, api_a, sent):
        response = post(api_a, f"/api/v1/referrals/{sent.public_id}/start")
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "invalid_transition"
        assert error["fields"]["status"] == ["sent"]

    def test_decline_requires_a_reason(self, api_a, sent):
        response = post(api_a, f"/api/v1/referrals/{sent.public_id}/decline", {})
        assert response.status_code == 400
        assert "reason" in response.json()["error"]["fields"]

    def test_complete_requires_a_known_outcome(self, api_a, sent, partner_a):
        services.referral_accept(actor=partner_a, referral=sent)
        response = post(api_a, f"/api/v1/referrals/{sent.public_id}/complete", {"outcome": "maybe"})
        assert response.status_code == 400

    def test_note_to_acs(self, api_a, sent):
        response = post(api_a, f"/api/v1/referrals/{sent.public_id}/notes", {"note": "Call us"})
        assert response.status_code == 201
        assert response.json()["kind"] == "note"
        assert sent.events.filter(note="Call us", by_organization=sent.organization).exists()

    def test_malformed_json_is_400(self, api_a, sent):
        response = api_a.post(
            f"/api/v1/referrals/{sent.public_id}/decline",
            "{not json",
            content_type="application/json",
        )
        assert response.status_code == 400


class TestIdempotency:
    def test_a_retry_returns_the_first_result(self, api_a, sent):
        path = f"/api/v1/referrals/{sent.public_id}/accept"
        first = post(api_a, path, {"note": "ok"}, HTTP_IDEMPOTENCY_KEY="k-1")
        again = post(api_a, path, {"note": "ok"}, HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == again.status_code == 200
        assert first.json() == again.json()
        assert again["Idempotent-Replayed"] == "true"
        assert sent.events.filter(to_status="accepted").count() == 1
        # Without the key the same move is a conflict: the key is what made it safe.
        assert post(api_a, path, {"note": "ok"}).status_code == 409

    def test_a_retried_note_is_written_once(self, api_a, sent):
        path = f"/api/v1/referrals/{sent.public_id}/notes"
        for _ in range(3):
            assert (
                post(api_a, path, {"note": "once"}, HTTP_IDEMPOTENCY_KEY="n-1").status_code == 201
            )
        assert sent.events.filter(note="once").count() == 1

    def test_the_same_key_for_another_request_is_422(self, api_a, sent):
        base = f"/api/v1/referrals/{sent.public_id}"
        post(api_a, f"{base}/notes", {"note": "a"}, HTTP_IDEMPOTENCY_KEY="dup")
        response = post(api_a, f"{base}/notes", {"note": "b"}, HTTP_IDEMPOTENCY_KEY="dup")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"

    def test_a_refusal_is_replayed_too(self, api_a, sent):
        path = f"/api/v1/referrals/{sent.public_id}/start"
        first = post(api_a, path, HTTP_IDEMPOTENCY_KEY="s-1")
        again = post(api_a, path, HTTP_IDEMPOTENCY_KEY="s-1")
        assert first.status_code == again.status_code == 409

    def test_keys_are_per_client(self, api_a, agency_a, sent):
        other = bearer(agency_a, name="portal-sync")
        path = f"/api/v1/referrals/{sent.public_id}/notes"
        post(api_a, path, {"note": "x"}, HTTP_IDEMPOTENCY_KEY="same")
        post(other, path, {"note": "x"}, HTTP_IDEMPOTENCY_KEY="same")
        assert sent.events.filter(note="x").count() == 2


class TestCapacity:
    def test_sets_own_capacity_with_a_note(self, api_a, service_a):
        response = api_a.put(
            f"/api/v1/capacity/{service_a[1].public_id}",
            json.dumps({"available": 3, "total": 40, "note": "after intake"}),
            content_type="application/json",
        )
        assert response.status_code == 200
        assert response.json()["available"] == 3
        capacity = Capacity.objects.get()
        assert (capacity.available, capacity.total) == (3, 40)
        assert CapacityHistory.objects.get().note == "after intake"

    def test_refuses_more_available_than_total(self, api_a, service_a):
        response = api_a.put(
            f"/api/v1/capacity/{service_a[1].public_id}",
            json.dumps({"available": 41, "total": 40}),
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "available" in response.json()["error"]["fields"]


def test_requests_are_throttled_per_token(api_a, agency_a, settings):
    from django.core.cache import cache

    cache.clear()
    settings.PARTNER_API_RATE = "3/minute"
    codes = [api_a.get("/api/v1/referrals").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert bearer(agency_a, name="second").get("/api/v1/referrals").status_code == 200


def test_the_schema_describes_every_partner_endpoint_and_its_errors(admin_user):
    client = Client()
    client.force_login(admin_user)
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for suffix in ("accept", "decline", "start", "complete"):
        operation = paths[f"/api/v1/referrals/{{public_id}}/{suffix}"]["post"]
        assert {"200", "400", "401", "404", "409", "422"} <= set(operation["responses"])
        assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    assert "get" in paths["/api/v1/referrals"]
    assert "put" in paths["/api/v1/capacity/{service_at_location_id}"]


@pytest.mark.parametrize(
    "suffix,body",
    [("", None), ("/accept", {}), ("/notes", {"note": "hi"}), ("/complete", {"outcome": "other"})],
)
def test_a_signed_in_partner_user_of_another_agency_gets_404_too(sent, partner_b, suffix, body):
    client = Client(enforce_csrf_checks=False)
    client.force_login(partner_b)
    path = f"/api/v1/referrals/{sent.public_id}{suffix}"
    response = client.get(path) if body is None else post(client, path, body)
    assert response.status_code == 404
    assert client.get("/api/v1/referrals").json()["results"] == []
