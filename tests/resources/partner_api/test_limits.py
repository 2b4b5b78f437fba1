"""The partner contract: the throttle, the schema, and a signed-in partner user of another
agency."""

import pytest
from django.test import Client

from tests.resources.partner_api.helpers import post
from tests.resources.referral_helpers import bearer

pytestmark = pytest.mark.django_db


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
