"""An HSDS value as our column stores it: JSON and CSV values converted and checked against
the model field (type, range, length, choices, validators)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models

from .kinds import Kind, _schema


class _Bad(ValueError):
    """A value our column cannot hold; the message says why."""


_TIME = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?")


def _parse_time(text: str) -> tuple[time, bool]:
    match = _TIME.fullmatch(text)
    if not match:
        raise _Bad(f"{text!r} is not a time (HH:MM or HH:MM:SS)")
    hour, minute, second, fraction, offset = match.groups()
    try:
        value = time(int(hour), int(minute), int(second or 0), int((fraction or "0").ljust(6, "0")))
    except ValueError as exc:
        raise _Bad(f"{text!r} is not a time of day") from exc
    return value, offset is not None


def _parse_date(text: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise _Bad(f"{text!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise _Bad(f"{text!r} is not a date") from exc


def _parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _Bad(f"{text!r} is not an ISO 8601 date and time") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"{value!r} is not a number")
    return value


def convert(model_field: models.Field, value: Any) -> tuple[Any, bool]:
    """An HSDS value as our column stores it, and whether a time offset was dropped."""
    f = model_field
    if value is None or (value == "" and not isinstance(f, models.CharField | models.TextField)):
        return f.get_default(), False
    if isinstance(f, models.BooleanField):
        if not isinstance(value, bool):
            raise _Bad(f"{value!r} is not true or false")
        return value, False
    if isinstance(f, models.DecimalField):
        try:
            number = Decimal(str(_number(value)))
            exact = number.quantize(Decimal(1).scaleb(-f.decimal_places), ROUND_HALF_UP)
        except InvalidOperation as exc:
            raise _Bad(f"{value!r} is out of range") from exc
        if abs(exact) >= Decimal(10) ** (f.max_digits - f.decimal_places):
            raise _Bad(f"{value!r} is out of range")
        return exact, False
    if isinstance(f, models.IntegerField):
        number = _number(value)
        if isinstance(number, float) and not number.is_integer():
            raise _Bad(f"{value!r} is not a whole number")
        low, high = connection.ops.integer_field_range(f.get_internal_type())
        if not low <= number <= high:
            raise _Bad(f"{value!r} is out of range ({low} to {high})")
        return int(number), False
    if not isinstance(value, str):
        raise _Bad(f"{value!r} is not text")
    if isinstance(f, models.DateTimeField):
        return _parse_datetime(value), False
    if isinstance(f, models.DateField):
        return _parse_date(value), False
    if isinstance(f, models.TimeField):
        return _parse_time(value)
    if f.choices and value not in {c for c, _ in f.choices} and not (value == "" and f.blank):
        allowed = ", ".join(repr(c) for c, _ in f.choices if c)
        raise _Bad(f"{value!r} is not one of {allowed}")
    try:
        f.run_validators(value)
    except ValidationError as exc:
        raise _Bad(" ".join(exc.messages)) from exc
    return value, False


@cache
def _required_text(kind: Kind) -> set[str]:
    """Text HSDS requires and our column cannot do without (a service's name)."""
    required = set(_schema(kind.name).get("required", ()))
    return {
        name
        for name in kind.fields
        if name in required
        and isinstance(kind.model._meta.get_field(name), models.CharField | models.TextField)
        and not kind.model._meta.get_field(name).blank
    }
