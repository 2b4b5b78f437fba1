from rest_framework.permissions import BasePermission

from acs.roles import Role


def role_required(*roles: Role) -> type[BasePermission]:
    """A DRF permission class admitting signed-in users who hold one of `roles`."""

    class HasRole(BasePermission):
        message = "Your role does not allow this."

        def has_permission(self, request, view) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and any(user.has_role(r) for r in roles))

    HasRole.__name__ = "HasRole_" + "_".join(r.value for r in roles)
    return HasRole
