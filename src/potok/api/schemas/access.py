"""Bodies of sign-in, users, API keys and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, SecretStr

from potok.api.schemas.common import JSON_INTEGER, Code, Flag, Out, Page, Patch, Schema
from potok.domain.access import Permission, Role

RateLimitPerMinute = Annotated[int, Field(ge=1, le=100_000), JSON_INTEGER]


class SignInIn(Schema):
    username: str = Field(max_length=64, examples=["ivanova"])
    password: SecretStr = Field(max_length=256)


class UserOut(Out):
    username: str
    display_name: str
    role: Role
    active: bool
    warehouses: list[str]
    must_change_password: bool
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None


class SessionOut(Out):
    user: UserOut
    csrf_token: str = Field(description="Send it back in X-CSRF-Token with every change.")
    expires_at: datetime
    password_change_required: bool


class MeOut(Out):
    kind: str
    name: str
    role: Role | None
    permissions: list[Permission]
    warehouses: list[str]
    channel: str | None
    password_change_required: bool


class PasswordChangeIn(Schema):
    current_password: SecretStr = Field(max_length=256)
    new_password: SecretStr = Field(max_length=256, description="At least 12 characters.")


class UserIn(Schema):
    username: str = Field(max_length=64, examples=["ivanova"])
    role: Role
    display_name: str = Field(default="", max_length=255, examples=["Анна Иванова"])
    warehouses: list[Code] = Field(
        default_factory=list, max_length=1000, description="For warehouse staff only."
    )


class UserPatch(Patch):
    role: Role | None = None
    display_name: str | None = Field(default=None, max_length=255)
    active: Flag | None = None
    warehouses: list[Code] | None = Field(default=None, max_length=1000)


class NewUserOut(Out):
    user: UserOut
    one_time_password: str = Field(description="Shown once; must be changed at first sign-in.")


class OneTimePasswordOut(Out):
    one_time_password: str


class ApiKeyIn(Schema):
    name: str = Field(max_length=64, examples=["ozon-connector"])
    scopes: list[Permission] = Field(max_length=100, examples=[["orders:write", "orders:read"]])
    channel: Code | None = Field(
        default=None, description="Bind the key to one channel: it may take only its orders."
    )
    rate_limit_per_minute: RateLimitPerMinute | None = Field(
        default=None,
        description="Requests a minute; by default `security.key_rate_limit_per_minute` (600).",
    )


class ApiKeyOut(Out):
    name: str
    prefix: str
    scopes: list[Permission]
    channel: str | None
    rate_limit_per_minute: int
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewApiKeyOut(Out):
    key: ApiKeyOut
    secret: str = Field(
        description="The whole key, shown once: send it as 'Authorization: Bearer <secret>'."
    )


class AuditEntryOut(Out):
    id: int
    occurred_at: datetime
    actor: str
    via: str
    ip: str | None
    request_id: str | None
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any


class AuditPageOut(Page):
    items: list[AuditEntryOut]
