"""Administrators' on/off switches for customer notifications, one per topic and one per
sales channel: the newest change of a switch is in force, every change is kept. A switch
never changed leaves the deployment's settings (``POTOK_NOTIFICATIONS__TOPICS_OFF``,
``CHANNELS_OFF``) to decide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["NotificationSwitch", "SwitchKind"]


class SwitchKind(StrEnum):
    TOPIC = "topic"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class NotificationSwitch:
    """One change of one switch: what it turned on or off, who and when."""

    kind: SwitchKind
    code: str  # a topic (order_shipped) or a sales channel's code
    enabled: bool
    changed_at: datetime
    changed_by: str
