"""Reads of export jobs, scoped to the acting user: case managers see their own exports;
supervisors and administrators see everyone's."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from acs.errors import NotFound
from acs.roles import Role
from cases.exports.models import ExportJob

EXPORT_ROLES = (Role.CASE_MANAGER, Role.SUPERVISOR, Role.ADMIN)
# Who sees, and may download, every export (not only their own).
ALL_EXPORTS_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def has_any_role(user, roles) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    names = set(user.role_names)
    return any(role.value in names for role in roles)


def may_export(user) -> bool:
    return has_any_role(user, EXPORT_ROLES)


def export_jobs_for_user(user) -> QuerySet[ExportJob]:
    qs = ExportJob.objects.select_related("requested_by")
    if has_any_role(user, ALL_EXPORTS_ROLES):
        return qs
    if has_any_role(user, EXPORT_ROLES):
        return qs.filter(requested_by=user)
    return qs.none()


def export_get_for_user(user, public_id: uuid.UUID | str) -> ExportJob:
    """One export the user may see (and download); NotFound otherwise, as for a missing one."""
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound("No such export.", code="export_not_found") from None
    job = export_jobs_for_user(user).filter(public_id=public_id).first()
    if job is None:
        raise NotFound("No such export.", code="export_not_found")
    return job
