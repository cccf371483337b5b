"""The re-plan of held orders: orders not yet released to a warehouse, planned again together
by the optimiser with the stock priced for the orders still to come.

Unlike the capped re-plan (each order cheaper or left alone), the held orders are planned as
one batch: an order may become dearer so that others become cheaper, as long as every
promise today's plan keeps stays kept (the optimiser offers such an order no slower option)
and the orders that trade stock pay less for it in all. The batch's changes fall into
*trades*: orders whose old or new plans touch the same stock (a warehouse's units of a
product) belong to one trade, and trades share no stock, so each can be applied - or left -
on its own. A trade is kept when its orders' shipping plus the stock value of the units they
take (what those units are worth to the orders still to come) falls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.sourcing.engine import SourcingOrder
from potok.domain.sourcing.optimiser import BatchResult, OpenOrder, OrderPlan, Shipment, optimise
from potok.domain.sourcing.planner import Candidate
from potok.domain.sourcing.rules import RoutingRules
from potok.domain.sourcing.tariffs import TariffTable

Spot = tuple[WarehouseId, ProductId]
SAVING_FLOOR = 0.005
"""Roubles a trade must save: less is rounding, not a saving."""


@dataclass(frozen=True, slots=True)
class Trade:
    """Held orders that change plans together, and what that does to their total."""

    keys: tuple[str, ...]
    before: float  # shipping plus stock value of today's plans
    after: float

    @property
    def saving(self) -> float:
        return self.before - self.after


@dataclass(frozen=True, slots=True)
class HeldPlan:
    """The optimiser's plan for the held orders, the trades it proposes and those kept."""

    batch: BatchResult
    trades: tuple[Trade, ...]  # every trade, kept or not
    covered: tuple[str, ...]  # orders without a plan (backorders) the plan reserves

    @property
    def kept(self) -> tuple[Trade, ...]:
        return tuple(t for t in self.trades if t.saving > SAVING_FLOOR)


def as_planned(order: SourcingOrder, current: Sequence[Shipment], today: date) -> SourcingOrder:
    """The order as a re-plan is to see it: an express order may not arrive later than
    today's plan brings it, promised date or not."""
    if not order.express or not current:
        return order
    now = today + timedelta(days=max(s.days for s in current))
    promise = now if order.promised_on is None else min(order.promised_on, now)
    return dataclasses.replace(order, promised_on=promise)


def worth(plan_taken: Mapping[Spot, int], stock_values: Mapping[Spot, float]) -> float:
    """What the units a plan takes are worth to the orders still to come, in roubles."""
    return sum(q * stock_values.get(k, 0.0) for k, q in plan_taken.items())


def replan_held(
    orders: Sequence[OpenOrder],
    candidates: Iterable[Candidate],
    stock: Mapping[Spot, int],
    *,
    tariffs: TariffTable,
    rules: RoutingRules,
    today: date,
    stock_values: Mapping[Spot, float],
    time_limit_s: float = 30.0,
    max_options: int | None = 8,
    use_solver: bool = True,
) -> HeldPlan:
    """Plan the held orders together (``stock``: the free stock, not counting what they
    hold), units priced by ``stock_values``, no order capped at its cost; split the changes
    into trades and say which lower the total. No transfers: the re-plan moves
    reservations only."""
    batch = optimise(
        orders,
        candidates,
        stock,
        tariffs=tariffs,
        rules=rules,
        today=today,
        time_limit_s=time_limit_s,
        max_options=max_options,
        use_solver=use_solver,
        transfers=False,
        stock_values=stock_values,
        capped=False,
    )
    current = {
        oo.key: OrderPlan(oo.current) for oo in orders if oo.current and oo.key in batch.plans
    }
    moved = [k for k in batch.changed if k in current]
    covered = tuple(k for k, p in batch.plans.items() if k not in current and p.shipments)
    trades = []
    for keys in _connected(moved, current, batch.plans):
        before = sum(_total(current[k], stock_values) for k in keys)
        after = sum(_total(batch.plans[k], stock_values) for k in keys)
        trades.append(Trade(tuple(keys), before, after))
    return HeldPlan(batch, tuple(trades), covered)


def _total(plan: OrderPlan, stock_values: Mapping[Spot, float]) -> float:
    return plan.cost + worth(plan.taken(), stock_values)


def _connected(
    keys: Sequence[str], before: Mapping[str, OrderPlan], after: Mapping[str, OrderPlan]
) -> list[list[str]]:
    """The changed orders grouped by the stock their old or new plans touch: two orders
    share a group when some warehouse's units of a product are in both."""
    parent = {k: k for k in keys}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first: dict[Spot, str] = {}
    for k in keys:
        for spot in {*before[k].taken(), *after[k].taken()}:
            other = first.setdefault(spot, k)
            a, b = root(other), root(k)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(root(k), []).append(k)
    return list(groups.values())
