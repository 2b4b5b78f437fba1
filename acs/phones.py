"""Phone numbers, read with Google's libphonenumber (the `phonenumbers` package).

A resident's number is stored in one canonical form: E.164 (`+15055550100`), followed by
`;ext=12` when it has an extension (the RFC 3966 parameter; `tel:` + the value is a valid
link). Numbers are read as a person writes them: "(505) 555-0100", "+44 20 7946 0958",
"011 44 20 7946 0958" dialled from the US, "505-555-0100 ext. 12"; a number without a
country code is in PHONE_DEFAULT_REGION. A number that cannot exist (an area code 123, too
few digits) is refused with a message that says so, where it is typed.

Directory phones (HSDS) are kept as written, for people to read; they are checked the same
way, but short numbers such as 311 and 988 are valid there.
"""

from __future__ import annotations

import functools

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from phonenumbers import PhoneNumberFormat, shortnumberinfo

EXTENSION = ";ext="
MAX_EXTENSION_DIGITS = 10

IMPOSSIBLE = (
    "This is not a phone number that can exist: check the digits (a number without a "
    "country code is read as {region}; start an international number with + or 011)."
)
LONG_EXTENSION = f"An extension has at most {MAX_EXTENSION_DIGITS} digits."


def _region() -> str:
    region: str = settings.PHONE_DEFAULT_REGION
    return region


def _parse(raw: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, _region())
    except phonenumbers.NumberParseException:
        return None


def phone_canonical(raw: str) -> str:
    """The canonical form of a typed number ("" for a blank one); ValidationError, with a
    message for the person typing it, when no such number can exist."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    number = _parse(raw)
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(IMPOSSIBLE.format(region=_region()), code="invalid_phone")
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if not number.extension:
        return e164
    if len(number.extension) > MAX_EXTENSION_DIGITS:
        raise ValidationError(LONG_EXTENSION, code="invalid_phone")
    return f"{e164}{EXTENSION}{number.extension}"


def phone_textable(stored: str, *, strict: bool = True) -> str:
    """The E.164 number a text goes to, or "" when there is none: blank, unreadable, not a
    number that can exist (with `strict`), or a line with an extension, which is a
    switchboard's: a text would reach whoever holds the main line, not the person.

    `strict=False` is for numbers the SMS provider gives us (a STOP's sender): they are real
    numbers by definition, so one the metadata does not know yet (a new area code) still
    matches rather than losing the opt-out."""
    stored = (stored or "").strip()
    if not stored:
        return ""
    return _textable(stored, strict, _region())


@functools.lru_cache(maxsize=8192)
def _textable(stored: str, strict: bool, region: str) -> str:
    """phone_textable's answer, remembered: parsing is the costliest step of a text's checks
    at send time, and a batch reads each number more than once."""
    try:
        number = phonenumbers.parse(stored, region)
    except phonenumbers.NumberParseException:
        return ""
    if number.extension:
        return ""
    ok = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    if not ok(number):
        return ""
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def phone_has_extension(stored: str) -> bool:
    number = _parse((stored or "").strip())
    return bool(number is not None and number.extension)


def validate_directory_phone(value: str) -> None:
    """A directory number as written ("(505) 768-2000", "+44 20 7946 0958", "311"): refused
    only when no such number, short number included, can exist."""
    number = _parse((value or "").strip())
    if number is not None and (
        phonenumbers.is_valid_number(number) or shortnumberinfo.is_valid_short_number(number)
    ):
        return
    raise ValidationError(IMPOSSIBLE.format(region=_region()), code="invalid_phone")
