"""Events that leave Potok: their envelope, webhook subscriptions, signatures, retries."""

from potok.domain.webhooks.model import (
    INTERNAL_AGGREGATES,
    ConsumerLag,
    Delivery,
    DeliveryOutcome,
    OutboxFigures,
    StoredEvent,
    Subscription,
    SubscriptionNotFound,
    cloud_event,
    retry_at,
    retry_delay,
    wants,
)
from potok.domain.webhooks.signing import new_secret, sign, signature_headers

__all__ = [
    "INTERNAL_AGGREGATES",
    "ConsumerLag",
    "Delivery",
    "DeliveryOutcome",
    "OutboxFigures",
    "StoredEvent",
    "Subscription",
    "SubscriptionNotFound",
    "cloud_event",
    "new_secret",
    "retry_at",
    "retry_delay",
    "sign",
    "signature_headers",
    "wants",
]
