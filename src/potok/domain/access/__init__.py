"""Access: roles and permissions, users, API keys, the principal of a request."""

from potok.domain.access.model import ApiKey, Principal, User
from potok.domain.access.permissions import KEY_SCOPES, ROLE_PERMISSIONS, Permission, Role

__all__ = ["KEY_SCOPES", "ROLE_PERMISSIONS", "ApiKey", "Permission", "Principal", "Role", "User"]
