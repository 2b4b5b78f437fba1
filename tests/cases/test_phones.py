"""Phone numbers (acs/phones.py, issue #16): impossible numbers refused where they are typed,
extensions and international numbers taken, one stored form (E.164, `;ext=`), old rows and
SMS opt-outs rewritten by a migration that loses nothing, and STOP still matching."""

from __future__ import annotations

import importlib
import json
import logging
import re
import uuid
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError

from acs.phones import phone_canonical, phone_textable, validate_directory_phone
from cases.models import Consent, Notification, Resident, SmsOptOut
from cases.services import consent_record, resident_create
from cases.services.notifications import notification_schedule
from resources.hsds_import import directory_import
from resources.models import Phone
from tests.cases import test_sms_hooks
from tests.cases.test_sms_hooks import send_or_status, text
from tests.factories import ResidentFactory
from tests.resources.test_hsds_import import a_service

pytestmark = pytest.mark.django_db
N = Notification
migration = importlib.import_module("cases.migrations.0024_phones_e164")
# The local SMS provider of the webhook tests.
sms = test_sms_hooks.sms

IMPOSSIBLE = "(123) 456-7890"

TYPED = {
    "(505) 555-0100": "+15055550100",
    "505.555.0100": "+15055550100",
    "1-505-555-0100": "+15055550100",
    "+44 20 7946 0958": "+442079460958",
    "011 44 20 7946 0958": "+442079460958",  # the US international prefix
    "+52 55 1234 5678": "+525512345678",
    "505-555-0100 ext. 12": "+15055550100;ext=12",
    "505-555-0100 x12": "+15055550100;ext=12",
    "+1 505 555 0100;ext=12": "+15055550100;ext=12",
    "  ": "",
}


@pytest.mark.parametrize(("typed", "stored"), TYPED.items())
def test_numbers_are_read_as_people_write_them_and_stored_in_one_form(typed, stored):
    assert phone_canonical(typed) == stored


@pytest.mark.parametrize("typed", [IMPOSSIBLE, "555-0100", "12345", "not a number", "+1 505"])
def test_a_number_that_cannot_exist_is_refused_with_a_clear_message(typed):
    with pytest.raises(ValidationError) as refused:
        phone_canonical(typed)
    assert "not a phone number that can exist" in refused.value.messages[0]


def test_the_sms_side_refuses_the_issues_impossible_number_and_reads_011():
    # The issue's examples, through the SMS side's normaliser.
    assert phone_textable(IMPOSSIBLE) == ""
    assert phone_textable("011 44 20 7946 0958") == "+442079460958"
    assert phone_textable("+44 20 7946 0958") == "+442079460958"


def test_a_line_with_an_extension_takes_no_texts():
    # A switchboard's number: a text would reach whoever holds the main line.
    assert phone_textable("+15055550100;ext=12") == ""
    assert phone_textable("+15055550100") == "+15055550100"


def test_the_default_region_reads_numbers_without_a_country_code(settings):
    settings.PHONE_DEFAULT_REGION = "MX"
    assert phone_canonical("55 1234 5678") == "+525512345678"
    assert phone_canonical("+1 505 555 0100") == "+15055550100"


def test_an_extension_longer_than_ten_digits_is_refused():
    with pytest.raises(ValidationError, match="at most 10 digits"):
        phone_canonical("505-555-0100 ext 12345678901")


# --- where numbers are typed ---------------------------------------------------------------------


def test_the_field_api_refuses_an_impossible_number_on_the_phone_field(client, responder):
    client.force_login(responder)

    response = client.post(
        "/api/v1/field/residents",
        {"preferred_name": "Sunny", "phone": IMPOSSIBLE},
        content_type="application/json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert "can exist" in error["fields"]["phone"][0]
    assert not Resident.objects.exists()


def test_the_field_api_stores_international_numbers_and_extensions(client, responder):
    client.force_login(responder)

    created = client.post(
        "/api/v1/field/residents",
        {"preferred_name": "Sunny", "phone": "011 44 20 7946 0958"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["phone"] == "+442079460958"

    changed = client.patch(
        f"/api/v1/field/residents/{created.json()['id']}",
        {"phone": "(505) 768-2000 ext. 4411"},
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert changed.json()["phone"] == "+15057682000;ext=4411"
    refused = client.patch(
        f"/api/v1/field/residents/{created.json()['id']}",
        {"phone": IMPOSSIBLE},
        content_type="application/json",
    )
    assert refused.status_code == 400 and "phone" in refused.json()["error"]["fields"]
    assert Resident.objects.get().phone == "+15057682000;ext=4411"


def admin_form(resident: Resident, **changes) -> dict:
    data = {
        "preferred_name": resident.preferred_name,
        "legal_name": resident.legal_name,
        "aliases": ",".join(resident.aliases),
        "date_of_birth": "",
        "dob_quality": resident.dob_quality,
        "gender": resident.gender,
        "race_ethnicity": ",".join(resident.race_ethnicity),
        "veteran_status": resident.veteran_status,
        "preferred_language": resident.preferred_language,
        "phone": resident.phone,
        "email": resident.email,
        "where_to_find_me": resident.where_to_find_me,
        "housing_status": resident.housing_status,
        "safety_flags": resident.safety_flags,
    }
    return {**data, **changes}


def test_the_admin_form_refuses_an_impossible_number_and_stores_a_good_one(client, case_manager):
    resident = ResidentFactory(preferred_name="Sunny")
    client.force_login(case_manager)
    url = f"/admin/cases/resident/{resident.pk}/change/"

    refused = client.post(url, admin_form(resident, phone=IMPOSSIBLE))

    assert refused.status_code == 200  # the form again, with the error
    assert "not a phone number that can exist" in refused.content.decode()
    resident.refresh_from_db()
    assert resident.phone == ""

    saved = client.post(url, admin_form(resident, phone="+44 20 7946 0958"))

    assert saved.status_code == 302
    resident.refresh_from_db()
    assert resident.phone == "+442079460958"


def test_an_old_unreadable_number_does_not_block_editing_the_rest(client, case_manager):
    resident = ResidentFactory(preferred_name="Sunny", phone="555-0100")  # kept by the migration
    client.force_login(case_manager)

    saved = client.post(
        f"/admin/cases/resident/{resident.pk}/change/",
        admin_form(resident, where_to_find_me="By the library"),
    )

    assert saved.status_code == 302
    resident.refresh_from_db()
    assert (resident.phone, resident.where_to_find_me) == ("555-0100", "By the library")


def test_directory_numbers_are_kept_as_written_and_checked_short_numbers_included():
    for written in ("(505) 768-2000", "+44 20 7946 0958", "311", "988", '"+44 1234 234567"'):
        validate_directory_phone(written)
    with pytest.raises(ValidationError):
        validate_directory_phone(IMPOSSIBLE)


def test_hsds_import_refuses_a_directory_phone_that_cannot_exist(tmp_path):
    def services(number: str) -> Path:
        phone = {"id": str(uuid.uuid4()), "number": number}
        path = tmp_path / "services.json"
        path.write_text(json.dumps([a_service(phones=[phone])]), encoding="utf-8")
        return path

    report = directory_import(services(IMPOSSIBLE), partial=True)

    assert any("can exist" in p.message for p in report.problems)
    assert not Phone.objects.exists()
    assert directory_import(services("505-768-2000")).problems == []
    assert Phone.objects.get().number == "505-768-2000"


# --- the migration -------------------------------------------------------------------------------


def test_the_migration_rewrites_old_rows_keeps_what_it_cannot_read_and_logs_no_number(caplog):
    old = {
        "(505) 555-0100": "+15055550100",
        "505.555.0101 x 12": "+15055550101;ext=12",
        "011 44 20 7946 0958": "+442079460958",
        "+15055550102": "+15055550102",
        IMPOSSIBLE: IMPOSSIBLE,  # kept: never lose data
        "555-0100": "555-0100",
        "call the shelter desk": "call the shelter desk",
        "": "",
    }
    residents = {typed: ResidentFactory(phone=typed) for typed in old}
    opt_outs = {
        "+15055550142": SmsOptOut.objects.create(
            phone="+15055550142", opted_out_at="2025-01-01T00:00Z", keyword="STOP"
        ),
        "505-555-0143": SmsOptOut.objects.create(
            phone="505-555-0143", opted_out_at="2025-01-01T00:00Z", keyword="STOP"
        ),
        # The same number as the first, written another way: kept, the first holds it.
        "(505) 555-0142": SmsOptOut.objects.create(
            phone="(505) 555-0142", opted_out_at="2025-01-02T00:00Z", keyword="PARA"
        ),
        "garbage": SmsOptOut.objects.create(
            phone="garbage", opted_out_at="2025-01-01T00:00Z", keyword="STOP"
        ),
    }

    with caplog.at_level(logging.INFO, logger="cases.migrations"):
        migration.forwards(django_apps, None)

    for typed, expected in old.items():
        residents[typed].refresh_from_db()
        assert residents[typed].phone == expected, typed
    phones = {k: SmsOptOut.objects.get(pk=v.pk).phone for k, v in opt_outs.items()}
    assert phones == {
        "+15055550142": "+15055550142",
        "505-555-0143": "+15055550143",
        "(505) 555-0142": "(505) 555-0142",
        "garbage": "garbage",
    }
    logged = "\n".join(caplog.messages)
    assert str(residents[IMPOSSIBLE].pk) in logged and str(opt_outs["garbage"].pk) in logged
    # The ids are logged on purpose; a row's id can hold a number's digits ("123", "0142"), so
    # look for the numbers in what is left once each id is taken out.
    ids = {str(row.pk) for row in [*residents.values(), *opt_outs.values()]}
    words = [word for word in re.split(r"[\s,;]+", logged) if word not in ids]
    for number in ("123", "456-7890", "555-0100", "0142", "garbage", "shelter"):
        assert not any(number in word for word in words), number
    migration.forwards(django_apps, None)  # a second run changes nothing
    residents[IMPOSSIBLE].refresh_from_db()
    assert residents[IMPOSSIBLE].phone == IMPOSSIBLE


# --- STOP still matches ------------------------------------------------------------------------


@pytest.fixture
def abroad(responder):
    resident = resident_create(
        actor=responder, data={"preferred_name": "Sunny", "phone": "011 44 20 7946 0958"}
    )
    consent_record(actor=responder, resident=resident, scope=Consent.Scope.SMS, method="verbal")
    return resident


def test_stop_from_an_international_number_cancels_that_residents_texts(client, sms, abroad):
    waiting = notification_schedule(template="checkin", channel="sms", resident=abroad)

    text(client, "STOP", from_number="+442079460958")

    assert SmsOptOut.objects.get().phone == "+442079460958"
    waiting.refresh_from_db()
    assert waiting.status == N.Status.CANCELLED
    later = notification_schedule(template="checkin", channel="sms", resident=abroad)
    assert send_or_status(later) == N.Status.CANCELLED
    assert sms.accepted == []


def test_stop_and_start_match_rows_the_migration_rewrote(client, sms, responder):
    resident = ResidentFactory(preferred_name="Sunny", phone="(505) 555-0142")
    Consent.objects.create(resident=resident, scope="sms", method="verbal", recorded_by=responder)
    SmsOptOut.objects.create(phone="505-555-0142", opted_out_at="2025-01-01T00:00Z", keyword="STOP")
    migration.forwards(django_apps, None)

    text(client, "START", from_number="+15055550142")

    assert SmsOptOut.objects.get().opted_in_at is not None
    waiting = notification_schedule(template="checkin", channel="sms", resident=resident)
    text(client, "STOP", from_number="+15055550142")
    waiting.refresh_from_db()
    assert waiting.status == N.Status.CANCELLED


def test_a_number_with_an_extension_is_not_texted(sms, responder):
    resident = resident_create(
        actor=responder, data={"preferred_name": "Sunny", "phone": "505-768-2000 ext. 12"}
    )
    consent_record(actor=responder, resident=resident, scope=Consent.Scope.SMS, method="verbal")
    row = notification_schedule(template="checkin", channel="sms", resident=resident)

    send_or_status(row)

    row.refresh_from_db()
    assert "extension" in row.last_error
    assert sms.accepted == []
