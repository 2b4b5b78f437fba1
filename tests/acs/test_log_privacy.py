"""Personal data stays out of logs, even when an error message echoes it."""

import logging
import uuid

import pytest

from acs.log_privacy import RedactPersonalData, redact


@pytest.mark.parametrize(
    "raw,hidden",
    [
        ("Texting (505) 555-0123 failed", "555-0123"),
        ("to +15055550123 queued", "5055550123"),
        ("sent to 505.555.0123", "555.0123"),
        ("mail to rosa.ortega@example.org bounced", "rosa.ortega"),
        ("born 1979-03-14", "1979-03-14"),
        ("born 3/14/1979", "3/14/1979"),
        ("GET /admin/cases/resident/?q=Marisol+Ortega HTTP/1.1", "Marisol"),
        ("{'preferred_name': 'Sunny', 'id': 4}", "Sunny"),
        ('{"narrative": "Said he drinks", "id": 4}', "drinks"),
        ("Body=I need a bed&From=x", "need a bed"),
        ("IntegrityError: Key (phone)=(5055550123) already exists", "5055550123"),
    ],
)
def test_redact_hides_personal_data(raw, hidden):
    assert hidden not in redact(raw)


@pytest.mark.parametrize(
    "kept",
    [
        "notification 4821 sent at 2026-11-24T10:00:00+00:00",
        "referral 6f1c1f0e-3c55-4d0c-9a8e-8f1d2c0a5e11 expired",
        # Ten digits at the start of a UUID's last group (a phone number's shape).
        "session of user 93f87d81-3024-4ded-8a84-7296783563f3 ended",
        "webhook delivery 12 attempt 3 failed: HTTP 500",
    ],
)
def test_what_is_not_personal_stays_readable(kept):
    assert redact(kept) == kept


def test_the_filter_redacts_arguments_and_exceptions(caplog):
    logger = logging.getLogger("acs.test_privacy")
    logger.addFilter(RedactPersonalData())
    try:
        with caplog.at_level(logging.INFO, logger="acs.test_privacy"):
            logger.info("resident %s at %s", "rosa@example.org", "505-555-0199")
            try:
                raise ValueError("bad phone 505-555-0188")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.filters.clear()
    text = caplog.text
    assert "rosa@example.org" not in text and "555-0199" not in text
    assert "555-0188" not in text and "[phone]" in text


def test_the_project_logging_uses_the_filter(settings):
    handler = settings.LOGGING["handlers"]["console"]
    assert "no_personal_data" in handler["filters"]


def test_no_uuid_is_ever_mistaken_for_personal_data():
    for _ in range(20_000):
        value = str(uuid.uuid4())
        assert redact(f"record {value} changed") == f"record {value} changed", value
