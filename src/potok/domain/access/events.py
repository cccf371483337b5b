"""What happens to users and API keys, for the audit trail and the outbox."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class UserEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "user"
    username: str

    def aggregate_id(self) -> str:
        return self.username


@dataclass(frozen=True, slots=True, kw_only=True)
class UserCreated(UserEvent):
    role: str
    warehouses: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class UserChanged(UserEvent):
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class UserPasswordReset(UserEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class UserPasswordChanged(UserEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class UserSignedIn(UserEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class UserSignInFailed(UserEvent):
    failures: int
    locked: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class UserSignedOut(UserEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "api_key"
    name: str

    @classmethod
    def event_type(cls) -> str:
        """``ApiKeyCreated`` becomes ``api_key.created``, not ``api.key_created``."""
        return "api_key." + re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__[6:]).lower()

    def aggregate_id(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyCreated(ApiKeyEvent):
    scopes: list[str]
    channel: str | None
    rate_limit_per_minute: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyRevoked(ApiKeyEvent):
    pass
