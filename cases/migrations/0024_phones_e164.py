"""Residents' phone numbers and SMS opt-outs in the one stored form of acs/phones.py: E.164,
with ";ext=" and the digits when there is an extension ("(505) 555-0100" -> "+15055550100").

A number that cannot be read as one that exists is kept exactly as it was (no data is lost)
and logged by row id, never by number, for a case manager to fix. An opt-out whose new form
is already another active opt-out's is kept as it was too (the other one already holds the
number). Opt-outs came from the SMS provider, so a number the metadata only finds possible
still counts. Reversing changes nothing: the old forms were not kept, and the new form is the
same number. The logic is frozen here, as migrations should be, rather than imported.
"""

import logging

import phonenumbers
from django.conf import settings
from django.db import migrations

logger = logging.getLogger("cases.migrations")
BATCH = 1000
MAX_EXTENSION_DIGITS = 10


def canonical(raw: str, region: str, *, strict: bool = True) -> str | None:
    """The stored form of `raw`, or None when it cannot be read as a number that exists."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    ok = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    if not ok(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not number.extension:
        return e164
    if len(number.extension) > MAX_EXTENSION_DIGITS:
        return None
    return f"{e164};ext={number.extension}"


def _kept(what: str, ids: list[int]) -> None:
    if ids:
        shown = ", ".join(str(pk) for pk in ids[:200])
        more = f" and {len(ids) - 200} more" if len(ids) > 200 else ""
        logger.warning(
            "%d %s kept as they were (not a number that can exist); ids: %s%s",
            len(ids),
            what,
            shown,
            more,
        )


def normalise_residents(apps, region: str) -> tuple[int, list[int]]:
    Resident = apps.get_model("cases", "Resident")
    changed, kept, batch = 0, [], []
    rows = Resident.objects.exclude(phone="").order_by("pk").values_list("pk", "phone")
    for pk, phone in rows.iterator(chunk_size=BATCH):
        new = canonical(phone, region)
        if new is None:
            kept.append(pk)
        elif new != phone:
            batch.append(Resident(pk=pk, phone=new))
        if len(batch) >= BATCH:
            Resident.objects.bulk_update(batch, ["phone"])
            changed, batch = changed + len(batch), []
    Resident.objects.bulk_update(batch, ["phone"])
    return changed + len(batch), kept


def normalise_opt_outs(apps, region: str) -> tuple[int, list[int]]:
    SmsOptOut = apps.get_model("cases", "SmsOptOut")
    changed, kept = 0, []
    for opt_out in SmsOptOut.objects.order_by("pk").iterator(chunk_size=BATCH):
        new = canonical(opt_out.phone, region, strict=False)
        if new is None:
            kept.append(opt_out.pk)
            continue
        if new == opt_out.phone:
            continue
        active = opt_out.opted_in_at is None
        if (
            active
            and SmsOptOut.objects.filter(phone=new, opted_in_at__isnull=True)
            .exclude(pk=opt_out.pk)
            .exists()
        ):
            kept.append(opt_out.pk)
            continue
        SmsOptOut.objects.filter(pk=opt_out.pk).update(phone=new)
        changed += 1
    return changed, kept


def forwards(apps, schema_editor):
    region = settings.PHONE_DEFAULT_REGION
    residents, kept_residents = normalise_residents(apps, region)
    opt_outs, kept_opt_outs = normalise_opt_outs(apps, region)
    logger.info("phones: %d residents' and %d opt-outs' numbers rewritten", residents, opt_outs)
    _kept("residents' phone numbers", kept_residents)
    _kept("SMS opt-outs", kept_opt_outs)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0023_consent_client_id"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
