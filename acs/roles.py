"""The roles of shared/DOMAIN.md. Each is a Django group created by a data migration."""

from django.db import models


class Role(models.TextChoices):
    RESPONDER = "responder", "Responder"
    CASE_MANAGER = "case_manager", "Case manager"
    SUPERVISOR = "supervisor", "Supervisor"
    PARTNER_USER = "partner_user", "Partner user"
    CAD_INTEGRATION = "cad_integration", "CAD integration"
    ADMIN = "admin", "Administrator"


# Roles whose holders work in the Django admin.
STAFF_ROLES = frozenset({Role.CASE_MANAGER, Role.SUPERVISOR, Role.ADMIN})
