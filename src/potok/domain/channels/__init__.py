"""Sales channels: the own site, marketplaces, apps, stores' tills, and their policies."""

from potok.domain.channels.model import (
    EVERY_PAYMENT_METHOD,
    PAYMENT_DEADLINE_MAX_MINUTES,
    BackorderPolicy,
    Channel,
    ChannelDraft,
    ChannelNotFound,
    ChannelType,
    ConfirmationPolicy,
)

__all__ = [
    "EVERY_PAYMENT_METHOD",
    "PAYMENT_DEADLINE_MAX_MINUTES",
    "BackorderPolicy",
    "Channel",
    "ChannelDraft",
    "ChannelNotFound",
    "ChannelType",
    "ConfirmationPolicy",
]
