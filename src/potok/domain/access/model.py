"""Users, API keys, and the principal a request acts as."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from potok.domain.access.permissions import ROLE_PERMISSIONS, Permission, Role
from potok.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from potok.domain.kernel import Actor, ActorKind, ChannelId, WarehouseId
from potok.domain.validation import Problems

LOCK_AFTER_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12


class NotAuthenticated(Unauthenticated):
    code = "not-authenticated"
    title = "Authentication required"
    template = "Send an API key (Authorization: Bearer ...) or sign in; this route is not public."


class BadCredentials(Unauthenticated):
    code = "bad-credentials"
    title = "Wrong user name, password or key"
    template = "The credentials were not accepted."


class AccountLocked(Forbidden):
    code = "account-locked"
    title = "The account is locked"
    template = "Too many failed sign-ins; try again after {until} or ask an administrator."


class NotPermitted(Forbidden):
    code = "forbidden"
    title = "Not allowed"
    template = "{who} may not do this: it needs '{permission}'."


class OutOfScope(Forbidden):
    code = "out-of-scope"
    title = "Outside the caller's scope"
    template = "{who} {why}."


class OutOfReach(NotFound):
    code = "out-of-reach"
    title = "Not found"
    template = (
        "{who} works for some channels or warehouses only, and this spans them all: "
        "ask a caller without such limits."
    )


class CsrfFailed(Forbidden):
    code = "csrf-failed"
    title = "Missing or wrong CSRF token"
    template = (
        "A signed-in browser session must send its CSRF token in the X-CSRF-Token header "
        "with every change."
    )


class PasswordChangeRequired(Forbidden):
    code = "password-change-required"
    title = "Change the one-time password first"
    template = "Set a password of your own (POST /api/v1/me/password) before anything else."


class RateLimited(TooManyRequests):
    code = "rate-limited"
    title = "Too many requests"
    template = "Key '{key}' may make {limit} requests a minute; retry in {retry_after} s."


class UserNotFound(NotFound):
    code = "user-not-found"
    title = "User not found"
    template = "There is no user '{username}'."


class UsernameTaken(Conflict):
    code = "username-taken"
    title = "The user name is taken"
    template = "A user named '{username}' already exists."


class ApiKeyNotFound(NotFound):
    code = "api-key-not-found"
    title = "API key not found"
    template = "There is no API key {key_id}."


def check_password(password: str, field: str = "password") -> None:
    """A password must be long enough to resist guessing; length is what matters most."""
    problems = Problems()
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.add(field, f"must be at least {MIN_PASSWORD_LENGTH} characters", "too-short")
    elif len(password) > 256:
        problems.add(field, "must be at most 256 characters", "too-long")
    elif len(set(password)) < 4:
        problems.add(field, "must not repeat one or two characters", "too-simple")
    if problems:
        raise InvalidInput(problems.errors)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    warehouses: tuple[str, ...]
    failed_logins: int
    locked_until: datetime | None
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    prefix: str
    scopes: tuple[Permission, ...]
    channel: str | None
    rate_limit_per_minute: int
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: a signed-in user or an API key, with what they may do."""

    kind: ActorKind
    name: str
    permissions: frozenset[Permission]
    role: Role | None = None
    user_id: int | None = None
    key_id: int | None = None
    warehouses: frozenset[WarehouseId] | None = None  # None: every warehouse
    warehouse_codes: tuple[str, ...] = ()
    channel: str | None = None  # an API key bound to one channel
    channel_id: ChannelId | None = None
    must_change_password: bool = False
    session_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        return Actor(self.kind, self.name)

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def sees_personal_data(self) -> bool:
        return Permission.PERSONAL_DATA in self.permissions

    @classmethod
    def for_user(
        cls, user: User, warehouse_ids: frozenset[WarehouseId] | None, session_id: str | None = None
    ) -> Principal:
        return cls(
            kind=ActorKind.USER,
            name=user.username,
            permissions=ROLE_PERMISSIONS[user.role],
            role=user.role,
            user_id=user.id,
            warehouses=warehouse_ids if user.role is Role.WAREHOUSE else None,
            warehouse_codes=user.warehouses,
            must_change_password=user.must_change_password,
            session_id=session_id,
        )

    @classmethod
    def for_key(cls, key: ApiKey, channel_id: ChannelId | None) -> Principal:
        return cls(
            kind=ActorKind.API_KEY,
            name=key.name,
            permissions=frozenset(key.scopes),
            key_id=key.id,
            channel=key.channel,
            channel_id=channel_id,
        )
