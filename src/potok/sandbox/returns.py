"""The sandbox's returns: a few delivered orders come back in every state - asked for,
approved, declined, received at another warehouse, inspected, refunded and closed, and one
exchanged - beside the parcels the sandbox carrier brought back unclaimed (those became
returns by themselves)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

from potok.bootstrap import Potok
from potok.domain.errors import PotokError
from potok.domain.kernel import Actor, ActorKind
from potok.domain.orders import OrderStatus, PaymentStatus
from potok.domain.returns import Decision, Outcome, RefundStatus
from potok.services.returns import exchanges, handling, requests
from potok.services.returns.requests import RequestReturn, ReturnLineRequest

SUPPORT = Actor(ActorKind.USER, "sidorova")
REASONS = ("wrong_size", "defective", "changed_mind", "not_as_described", "damaged_in_transit")
STAGES = ("requested", "approved", "declined", "received", "inspected", "closed", "exchanged")


def take_back(
    potok: Potok, orders: Sequence[int], clock: Callable[[], datetime]
) -> tuple[Counter[str], list[int]]:
    """One return per stage from the delivered ones among ``orders``: the returns made per
    stage, and the replacement orders placed for exchanges."""
    made: Counter[str] = Counter()
    replacements: list[int] = []
    delivered = []
    with potok.uow().read() as uow:
        for order_id in orders:
            order = uow.orders.get(order_id)
            if order is not None and order.status is OrderStatus.DELIVERED:
                delivered.append(order)
            if len(delivered) == len(STAGES):
                break
    for index, (stage, order) in enumerate(zip(STAGES, delivered, strict=False)):
        assert order.id is not None
        line = order.lines[0]
        try:
            ret = requests.request_return(
                potok.uow(),
                RequestReturn(
                    order.id,
                    [ReturnLineRequest(line.line_no, 1, REASONS[index % len(REASONS)])],
                    comment="by phone",
                ),
                SUPPORT,
                clock=clock,
            )
            number = ret.number
            if stage == "declined":
                requests.decline_return(potok.uow(), number, SUPPORT, reason="used", clock=clock)
            elif stage != "requested":
                requests.approve_return(potok.uow(), number, SUPPORT, clock=clock)
            if stage == "exchanged":
                swap = exchanges.exchange_return(potok.uow(), number, SUPPORT, clock=clock)
                replacements.append(swap.order.id or 0)
            if stage in ("received", "inspected", "closed"):
                handling.receive_return(potok.uow(), number, "SPB-1", SUPPORT, clock=clock)
            if stage in ("inspected", "closed"):
                handling.inspect_return(
                    potok.uow(), number, [Decision(1, Outcome.RESTOCK, 1)], SUPPORT, clock=clock
                )
            if stage == "closed":
                if order.payment_status is PaymentStatus.PAID:
                    requests.settle_refund(
                        potok.uow(), number, RefundStatus.PAID, SUPPORT, clock=clock
                    )
                requests.close_return(potok.uow(), number, SUPPORT, clock=clock)
            made[stage] += 1
        except PotokError:
            continue  # the sandbox's own stories may have left this order otherwise
    return made, replacements
