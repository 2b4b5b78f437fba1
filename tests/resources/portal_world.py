"""The partner portal tests' world (tests/resources/test_portal*.py): agency A's service, a referral
sent to it, each agency's signed-in client, and the pages' addresses."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from resources.models import (
    ReferralStatus,
)
from tests.resources.referral_helpers import referrable_service, sent_referral

S = ReferralStatus
INBOX = "/partners/"


@pytest.fixture
def service_a(agency_a):
    return referrable_service(agency_a, name="Overnight shelter")


@pytest.fixture
def sent(service_a, resident, case_manager):
    return sent_referral(service_a, resident, case_manager)


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
