"""Events that leave Potok: their envelope, webhook subscriptions, signatures, retries."""

from potok.domain.webhooks.model import (
    INTERNAL_AGGREGATES,
    ConsumerLag,
    Delivery,
    DeliveryOutcome,
    NothingToReplay,
    OutboxFigures,
    Replay,
    StoredEvent,
    Subscription,
    SubscriptionNotFound,
    cloud_event,
    replay_consumer_name,
    retry_at,
    retry_delay,
    should_pause,
    wants,
)
from potok.domain.webhooks.signing import new_secret, sign, signature_headers

__all__ = [
    "INTERNAL_AGGREGATES",
    "ConsumerLag",
    "Delivery",
    "DeliveryOutcome",
    "NothingToReplay",
    "OutboxFigures",
    "Replay",
    "StoredEvent",
    "Subscription",
    "SubscriptionNotFound",
    "cloud_event",
    "new_secret",
    "replay_consumer_name",
    "retry_at",
    "retry_delay",
    "should_pause",
    "sign",
    "signature_headers",
    "wants",
]
