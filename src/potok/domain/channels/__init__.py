"""Sales channels: the own site, marketplaces, apps, stores' tills, and their policies."""

from potok.domain.channels.model import (
    PAYMENT_DEADLINE_MAX_MINUTES,
    BackorderPolicy,
    Channel,
    ChannelDraft,
    ChannelNotFound,
    ChannelType,
    ConfirmationPolicy,
)

__all__ = [
    "PAYMENT_DEADLINE_MAX_MINUTES",
    "BackorderPolicy",
    "Channel",
    "ChannelDraft",
    "ChannelNotFound",
    "ChannelType",
    "ConfirmationPolicy",
]
