"""Versions of what sourcing decides by: the shipping tariff table and the routing rules,
as stored (each import or edit is a new version)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class TariffVersion:
    """One import of the shipping tariff table: how many tariffs, from where, by whom."""

    version: int
    tariffs: int
    source: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RulesVersion:
    """One version of a channel's routing rules (channel None: the network default)."""

    channel: str | None
    order_type: str
    version: int
    rules: dict[str, Any]
    created_by: str
    created_at: datetime
