"""What a return owes the customer: its lines at the prices paid (VAT kept per line), and
the delivery fee when the channel's policy says so - in Decimal, to the kopeck."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from potok.domain.kernel import round_money, vat_included

ZERO = Decimal("0.00")


class ShippingRefund(StrEnum):
    """When the delivery fee is paid back."""

    NEVER = "never"  # the customer keeps paying for the delivery
    FULL_RETURN = "full_return"  # with the return that brings the last shipped unit back


@dataclass(frozen=True, slots=True)
class PricedUnits:
    """Units of one order line at the price and VAT rate the customer paid."""

    quantity: int
    unit_price: Decimal
    vat_rate: Decimal

    @property
    def amount(self) -> Decimal:
        return round_money(self.unit_price * self.quantity)

    @property
    def vat(self) -> Decimal:
        return vat_included(self.amount, self.vat_rate)


def lines_amount(lines: Iterable[PricedUnits]) -> Decimal:
    """What the units cost the customer, VAT included."""
    return sum((line.amount for line in lines), ZERO)


def lines_vat(lines: Iterable[PricedUnits]) -> Decimal:
    """The VAT inside that amount, line by line (each line at its own rate)."""
    return sum((line.vat for line in lines), ZERO)


def shipping_refund(
    policy: ShippingRefund, delivery_price: Decimal, *, last_units: bool
) -> Decimal:
    """The delivery fee owed back with this return: only under ``full_return``, and only by
    the return that completes the order's way back."""
    if policy is ShippingRefund.FULL_RETURN and last_units:
        return round_money(delivery_price)
    return ZERO


def policy_for(
    channel: str, default: ShippingRefund, per_channel: Mapping[str, ShippingRefund]
) -> ShippingRefund:
    """The channel's shipping-refund policy, or the default one."""
    return per_channel.get(channel, default)
