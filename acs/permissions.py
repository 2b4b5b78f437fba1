from rest_framework.permissions import BasePermission

from acs.roles import Role, has_any_role


def role_required(*roles: Role) -> type[BasePermission]:
    """A DRF permission class admitting signed-in users who hold one of `roles`."""

    class HasRole(BasePermission):
        message = "Your role does not allow this."

        def has_permission(self, request, view) -> bool:
            return has_any_role(request.user, roles)

    HasRole.__name__ = "HasRole_" + "_".join(sorted(r.value for r in roles))
    return HasRole
