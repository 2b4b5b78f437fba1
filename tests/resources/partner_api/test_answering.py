"""The partner contract: answering referrals (other agencies' stay out of reach), idempotent
writes, and capacity."""

import json
import uuid

import pytest
from django.test import Client

from resources import services
from resources.models import Capacity, CapacityHistory
from tests.resources.partner_api.helpers import S, post
from tests.resources.referral_helpers import bearer

pytestmark = pytest.mark.django_db


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
