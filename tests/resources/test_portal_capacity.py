"""The partner portal (/partners/): the agency's capacity figures and its webhook endpoints."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from resources import services
from resources.models import (
    Capacity,
    CapacityHistory,
    WebhookEndpoint,
)
from tests.resources.portal_world import messages_of
from tests.resources.referral_helpers import referrable_service

pytestmark = pytest.mark.django_db


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
