"""Reconciliation: every paid or refunded order set against its gateway records and its
fiscal receipts, and the differences an accountant must look at, each named by a code.

Pure: the facts are gathered by the store, the rules are here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal("0.00")
PAID = frozenset({"paid", "partially_refunded", "refunded"})


class Difference(StrEnum):
    """What does not match, by code (stable: scripts and the CSV read it)."""

    GATEWAY_SUCCEEDED_NOT_PAID = "gateway_succeeded_not_paid"  # money taken, Potok unpaid
    PAID_NOT_CAPTURED = "paid_not_captured"  # Potok paid, the gateway never took the money
    CAPTURED_DIFFERS = "captured_differs"  # captured is not what the order owes
    REFUND_NOT_AT_GATEWAY = "refund_not_at_gateway"  # refund paid in Potok, not at the gateway
    GATEWAY_REFUND_NOT_PAID = "gateway_refund_not_paid"  # refunded at the gateway, not in Potok
    REFUND_AMOUNT_DIFFERS = "refund_amount_differs"  # the two refunds of a return differ
    PAID_WITHOUT_RECEIPT = "paid_without_receipt"
    RECEIPT_AMOUNT_DIFFERS = "receipt_amount_differs"  # sale receipts ≠ what was paid
    REFUND_WITHOUT_RECEIPT = "refund_without_receipt"  # a refund paid, no refund receipt
    REFUND_RECEIPT_DIFFERS = "refund_receipt_differs"  # refund receipt ≠ the refund
    RECEIPT_FAILED = "receipt_failed"  # a receipt the provider refused or could not take
    MARKETPLACE_RECEIPT = "marketplace_receipt"  # Potok printed for a marketplace's sale


@dataclass(frozen=True, slots=True)
class GatewayFacts:
    status: str
    captured: Decimal
    refunded: Decimal  # refunds that succeeded
    refunds: Mapping[str, tuple[str, Decimal]]  # return number -> (status, amount)


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """The order's fiscal receipts, summed: what was sold and refunded by receipts that
    count (queued, sent, waiting or done), those that failed, and whether the order's
    receipts are the marketplace's (skipped)."""

    sold: Decimal = ZERO
    refunded: Mapping[str, Decimal] = field(default_factory=dict)  # return number -> amount
    failed: Sequence[str] = ()  # why, per failed receipt
    skipped: bool = False
    count: int = 0


@dataclass(frozen=True, slots=True)
class OrderFacts:
    order_id: int
    channel: str
    marketplace: bool
    payment_status: str
    payment_method: str | None
    total: Decimal  # what the order owes
    currency: str
    refunds: Mapping[str, Decimal]  # return number -> amount, refunds paid in Potok
    gateway: GatewayFacts | None = None
    receipts: ReceiptFacts | None = None  # None: receipts are not kept (fiscal off)


@dataclass(frozen=True, slots=True)
class Found:
    code: Difference
    detail: str


@dataclass(frozen=True, slots=True)
class Reconciled:
    """One order's line of the report."""

    facts: OrderFacts
    differences: tuple[Found, ...]

    @property
    def paid(self) -> Decimal:
        return self.facts.total if self.facts.payment_status in PAID else ZERO

    @property
    def refunded(self) -> Decimal:
        return sum(self.facts.refunds.values(), ZERO)


def reconcile(facts: OrderFacts) -> Reconciled:
    """The differences of one order, each said in a sentence."""
    found: list[Found] = []
    paid = facts.payment_status in PAID
    money = f"{facts.currency}"
    gateway = facts.gateway
    if gateway is not None:
        if gateway.status == "succeeded" and not paid:
            found.append(
                Found(
                    Difference.GATEWAY_SUCCEEDED_NOT_PAID,
                    f"the gateway captured {gateway.captured} {money}; Potok's payment is "
                    f"{facts.payment_status}",
                )
            )
        if paid and gateway.status != "succeeded":
            found.append(
                Found(
                    Difference.PAID_NOT_CAPTURED,
                    f"Potok's payment is {facts.payment_status}; the gateway's payment is "
                    f"{gateway.status}",
                )
            )
        if gateway.status == "succeeded" and gateway.captured != facts.total:
            found.append(
                Found(
                    Difference.CAPTURED_DIFFERS,
                    f"captured {gateway.captured} {money}, the order owes {facts.total} {money}",
                )
            )
        found += _refunds_against_gateway(facts, gateway)
    if facts.receipts is not None:
        found += _receipts(facts, facts.receipts)
    return Reconciled(facts, tuple(found))


def _refunds_against_gateway(facts: OrderFacts, gateway: GatewayFacts) -> list[Found]:
    found: list[Found] = []
    if gateway.status != "succeeded":
        return found
    for number, amount in sorted(facts.refunds.items()):
        at_gateway = gateway.refunds.get(number)
        if at_gateway is None or at_gateway[0] != "succeeded":
            state = at_gateway[0] if at_gateway else "not asked"
            found.append(
                Found(
                    Difference.REFUND_NOT_AT_GATEWAY,
                    f"return {number}: {amount} {facts.currency} paid in Potok, at the "
                    f"gateway {state}",
                )
            )
        elif at_gateway[1] != amount:
            found.append(
                Found(
                    Difference.REFUND_AMOUNT_DIFFERS,
                    f"return {number}: {amount} {facts.currency} in Potok, {at_gateway[1]} "
                    "at the gateway",
                )
            )
    for number, (state, amount) in sorted(gateway.refunds.items()):
        if state == "succeeded" and number not in facts.refunds:
            found.append(
                Found(
                    Difference.GATEWAY_REFUND_NOT_PAID,
                    f"return {number}: {amount} {facts.currency} refunded at the gateway, "
                    "not paid in Potok",
                )
            )
    return found


def _receipts(facts: OrderFacts, receipts: ReceiptFacts) -> list[Found]:
    found = [Found(Difference.RECEIPT_FAILED, why) for why in receipts.failed]
    if facts.marketplace or receipts.skipped:
        if facts.marketplace and receipts.count and not receipts.skipped:
            found.append(
                Found(
                    Difference.MARKETPLACE_RECEIPT,
                    "a receipt of Potok's for an order the marketplace fiscalises",
                )
            )
        return found
    paid = facts.payment_status in PAID
    if paid and receipts.sold == ZERO and not receipts.failed:
        found.append(
            Found(
                Difference.PAID_WITHOUT_RECEIPT,
                f"paid {facts.total} {facts.currency}, no sale receipt",
            )
        )
    elif paid and receipts.sold not in (ZERO, facts.total):
        found.append(
            Found(
                Difference.RECEIPT_AMOUNT_DIFFERS,
                f"sale receipts {receipts.sold} {facts.currency}, paid {facts.total} "
                f"{facts.currency}",
            )
        )
    for number, amount in sorted(facts.refunds.items()):
        printed = receipts.refunded.get(number)
        if printed is None:
            found.append(
                Found(
                    Difference.REFUND_WITHOUT_RECEIPT,
                    f"return {number}: {amount} {facts.currency} refunded, no refund receipt",
                )
            )
        elif printed != amount:
            found.append(
                Found(
                    Difference.REFUND_RECEIPT_DIFFERS,
                    f"return {number}: refund {amount} {facts.currency}, refund receipt "
                    f"{printed} {facts.currency}",
                )
            )
    return found
