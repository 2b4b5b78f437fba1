"""Records named for desk screens, by the app that owns the record: each app registers how its
records are named (`register`, from its AppConfig.ready: cases/display.py), and the shared admin
plumbing (acs/admin_base.py), the templates (`records` tags) and the dashboard name any record
through `staff_label` / `message_label` without importing the app.

`__str__` stays opaque for stored copies (LogEntry, logs); a screen names a record explicitly,
after fetching it through a scoped selector. `staff_label(obj, user)` checks that the user may
see residents' names at all (the desk: acs.roles.STAFF_ROLES) and falls back to `str(obj)`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from acs.roles import STAFF_ROLES, RoleHolder, has_any_role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

Label = Callable[[Any], str]

# {"app_label.model_name": label}: the staff label of each named kind of record.
LABELS: dict[str, Label] = {}
# {"app_label.model_name": label}: the flash-message label (what and when, never whose).
MESSAGE_LABELS: dict[str, Label] = {}


def register(model: str, *, staff: Label, message: Label | None = None) -> None:
    """Name records of `model` ("app_label.model_name") on desk screens."""
    LABELS[model] = staff
    if message is not None:
        MESSAGE_LABELS[model] = message


# What a label may hold that must not break across lines: a date of birth ("1984-03-02") and
# a moment ("5 Dec 08:47", "5 Dec 2025 08:47").
_UNBROKEN = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2} [A-Z][a-z]{2}(?: \d{4})? \d{2}:\d{2}")


def unbroken(text: str) -> SafeString:
    """`text` escaped, its dates and moments kept whole on one line (a date of birth wrapped
    at its hyphen reads as two numbers)."""
    escaped = str(conditional_escape(text))
    return mark_safe(  # noqa: S308 - escaped above; the spans wrap digits and month names only
        _UNBROKEN.sub(lambda m: f'<span class="nowrap">{m.group(0)}</span>', escaped)
    )


def may_name_residents(user: RoleHolder | AnonymousUser | None) -> bool:
    """Whether `user` may see residents' names on desk screens: the roles that see every
    resident (acs.roles.STAFF_ROLES). Everyone else gets the opaque names."""
    # Asked for every row of a list: the answer is kept on the user object (one per request).
    cached = getattr(user, "_may_name_residents", None)
    if cached is None:
        cached = has_any_role(user, STAFF_ROLES)
        # None and the like take no attributes: asked again next time.
        with contextlib.suppress(AttributeError):
            user._may_name_residents = cached  # type: ignore[union-attr]
    return bool(cached)


def staff_label(obj: Any, user: RoleHolder | AnonymousUser | None) -> str:
    """`obj` named for `user`: its registered label when they may see residents, else str(obj)."""
    label = LABELS.get(obj._meta.label_lower)
    if label is None or not may_name_residents(user):
        return str(obj)
    return label(obj)


def message_label(obj: Any) -> str:
    """A row named in a flash message (kept in a cookie until shown): what it is and when,
    never whose. Residents keep the opaque name there."""
    label = MESSAGE_LABELS.get(obj._meta.label_lower)
    return str(obj) if label is None else label(obj)
