"""The roles of shared/DOMAIN.md, and the sets of them the code asks about, each named once.
Each role is a Django group created by a data migration (responders 0002)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol, cast

from django.db import models

if TYPE_CHECKING:  # imported by settings: no auth models at run time
    from django.contrib.auth.models import AnonymousUser


class Role(models.TextChoices):
    RESPONDER = "responder", "Responder"
    CASE_MANAGER = "case_manager", "Case manager"
    SUPERVISOR = "supervisor", "Supervisor"
    PARTNER_USER = "partner_user", "Partner user"
    CAD_INTEGRATION = "cad_integration", "CAD integration"
    ADMIN = "admin", "Administrator"


# The desk: roles whose holders work in the Django admin (`is_staff`), see every resident and
# every referral, work follow-ups and request exports.
STAFF_ROLES = frozenset({Role.CASE_MANAGER, Role.SUPERVISOR, Role.ADMIN})
# ACS's own people (not partners, not machines): the field app, resident search, referrals;
# the roles a city's directory may hand out at single sign-on.
ACS_ROLES = frozenset({Role.RESPONDER, *STAFF_ROLES})
# Who may hold follow-ups (and be handed them).
ASSIGNEE_ROLES = frozenset({Role.CASE_MANAGER, Role.SUPERVISOR})
# Oversight: send a referral without consent (with a reason), see and download every export,
# read the audit trail, manage the screening forms.
OVERSIGHT_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})


class RoleHolder(Protocol):
    """What `has_any_role` reads of a user (responders.User; anonymous users have no roles)."""

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def role_names(self) -> list[str]: ...


def has_any_role(user: RoleHolder | AnonymousUser | None, roles: Iterable[Role]) -> bool:
    """Whether `user` is signed in and holds one of `roles` (one read of their groups)."""
    if user is None or not user.is_authenticated:
        return False
    held = set(cast(RoleHolder, user).role_names)
    return any(role.value in held for role in roles)
