"""The partner contract's fixtures (/api/v1/referrals and /api/v1/capacity with partner tokens):
no settling delay on the feed, agency A's service and a referral sent to it."""

from datetime import timedelta

import pytest

from tests.resources.referral_helpers import referrable_service, sent_referral


@pytest.fixture(autouse=True)
def _no_settle(settings):
    settings.REFERRAL_FEED_SETTLE = timedelta(0)


@pytest.fixture
def service_a(agency_a):
    return referrable_service(agency_a)


@pytest.fixture
def sent(service_a, resident, case_manager):
    return sent_referral(service_a, resident, case_manager)
