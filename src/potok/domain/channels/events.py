"""Changes to sales channels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from potok.domain.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEvent(DomainEvent):
    aggregate_type: ClassVar[str] = "channel"
    code: str

    def aggregate_id(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelCreated(ChannelEvent):
    channel: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelUpdated(ChannelEvent):
    channel: dict[str, Any]
    before: dict[str, Any]
    """The channel as it was, so that consumers and the audit trail see what changed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDeleted(ChannelEvent):
    pass
