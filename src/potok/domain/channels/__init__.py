"""Sales channels: the own site, marketplaces, apps, stores' tills, and their policies."""

from potok.domain.channels.model import (
    BackorderPolicy,
    Channel,
    ChannelDraft,
    ChannelNotFound,
    ChannelType,
    ConfirmationPolicy,
)

__all__ = [
    "BackorderPolicy",
    "Channel",
    "ChannelDraft",
    "ChannelNotFound",
    "ChannelType",
    "ConfirmationPolicy",
]
