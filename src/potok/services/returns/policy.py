"""The returns policy in force: the reasons a line may give and when the delivery fee is
refunded, built from the settings by the entry points."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from potok.domain.returns import ShippingRefund
from potok.domain.returns.refunds import policy_for

UNCLAIMED = "unclaimed"
"""The reason of a return made for a parcel that came back undelivered."""

DEFAULT_REASONS = (
    "changed_mind",
    "wrong_size",
    "defective",
    "damaged_in_transit",
    "not_as_described",
    "wrong_item",
)


@dataclass(frozen=True, slots=True)
class ReturnPolicy:
    """What the shop accepts as reasons, and its delivery-fee rule (per channel)."""

    reasons: tuple[str, ...] = DEFAULT_REASONS
    shipping: ShippingRefund = ShippingRefund.FULL_RETURN
    by_channel: Mapping[str, ShippingRefund] = field(default_factory=dict)

    @classmethod
    def of(cls, reasons: list[str], shipping: str, by_channel: Mapping[str, str]) -> ReturnPolicy:
        return cls(
            tuple(reasons),
            ShippingRefund(shipping),
            {code: ShippingRefund(p) for code, p in by_channel.items()},
        )

    def shipping_for(self, channel: str) -> ShippingRefund:
        return policy_for(channel, self.shipping, self.by_channel)


DEFAULT_POLICY = ReturnPolicy()
