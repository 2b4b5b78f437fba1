"""The partner contract's fixtures (/api/v1/referrals and /api/v1/capacity with partner tokens):
no settling delay on the feed, agency A's service and a referral sent to it."""

from datetime import timedelta

import pytest

from resources import services
from tests.resources.referral_helpers import referrable_service


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
