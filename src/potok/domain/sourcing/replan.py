"""The batch re-plan in an order's terms: what a shipment costs by the tariffs, which
positions a plan's units come from, and the record and sentence that say what changed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.sourcing.engine import SourcingOrder
from potok.domain.sourcing.explanation import CandidateNote, ShipmentNote, SourcingRecord
from potok.domain.sourcing.geo import distance_km
from potok.domain.sourcing.planner import Allocation, Candidate, Need, Position
from potok.domain.sourcing.tariffs import TariffTable

TRIGGER = "batch re-plan"
"""What the stored decisions of a re-plan say made the order be sourced again."""
HELD_TRIGGER = "re-plan of held orders"
"""The trigger of a decision the re-plan of held orders made (see ``held``)."""


@dataclass(frozen=True, slots=True)
class Priced:
    """One shipment of an order from one location, priced by the tariffs in force."""

    candidate: Candidate
    units: tuple[tuple[ProductId, int], ...]
    km: float | None
    weight_kg: float
    cost: Decimal | None  # None: no tariff reaches the destination from here
    days: int | None
    tariff: str
    estimate: bool = False  # priced by the built-in bands: no tariff for this location

    @property
    def code(self) -> str:
        return self.candidate.code


def price(
    order: SourcingOrder,
    candidate: Candidate,
    units: Mapping[ProductId, int],
    tariffs: TariffTable,
    default_kg: float,
) -> Priced:
    """What shipping these units of the order from the candidate costs, and how long."""
    km = (
        distance_km(order.destination, (candidate.latitude, candidate.longitude))
        if order.destination is not None
        else None
    )
    kg = sum(q * order.unit_weight_kg.get(p, default_kg) for p, q in units.items())
    tariff = tariffs.find_or_estimate(candidate.code, km=km or 0.0, region=order.region)
    listed = tuple(sorted((p, q) for p, q in units.items() if q > 0))
    if tariff is None:
        return Priced(candidate, listed, km, kg, None, None, "")
    return Priced(
        candidate,
        listed,
        km,
        kg,
        tariff.cost(kg, km or 0.0),
        tariff.days,
        tariff.describe(),
        tariff.estimate,
    )


def place_units(
    needs: Sequence[Need],
    shipments: Iterable[tuple[WarehouseId, Iterable[tuple[ProductId, int]]]],
    positions: Iterable[Position],
) -> tuple[Allocation, ...] | None:
    """The plan's units taken from each warehouse's positions in pick order and shared out
    over the order's lines; None when the positions no longer hold them."""
    stocked: dict[tuple[WarehouseId, ProductId], list[Position]] = {}
    for position in positions:
        if position.available > 0:
            stocked.setdefault((position.warehouse_id, position.product_id), []).append(position)
    for found in stocked.values():
        found.sort(key=Position.pick_key)
    ordered = sorted(needs, key=lambda n: n.line_no)
    wanted = {n.line_no: n.quantity for n in needs}
    left: dict[int, int] = {}
    allocations: list[Allocation] = []
    for warehouse_id, units in shipments:
        for product_id, quantity in units:
            lines = [n for n in ordered if n.product_id == product_id]
            here = stocked.get((warehouse_id, product_id), [])
            for need in lines:
                take_for_line = min(quantity, wanted[need.line_no])
                for position in here:
                    if take_for_line == 0:
                        break
                    free = left.setdefault(position.stock_id, position.available)
                    take = min(free, take_for_line)
                    if take <= 0:
                        continue
                    left[position.stock_id] = free - take
                    take_for_line -= take
                    quantity -= take
                    wanted[need.line_no] -= take
                    allocations.append(position.take(need.line_no, take))
                if take_for_line:
                    return None  # the positions here hold fewer units than planned
            if quantity:
                return None
    if any(wanted.values()):
        return None
    allocations.sort(key=lambda a: (a.line_no, a.stock_id))
    return tuple(allocations)


def rub(amount: Decimal) -> str:
    """Roubles as an operator reads them: 1 234.50 ₽."""
    return f"{amount:,.2f} ₽".replace(",", " ")


def total(shipments: Iterable[Priced]) -> Decimal:
    return sum((s.cost or Decimal(0) for s in shipments), Decimal(0))


def _codes(shipments: Sequence[Priced]) -> str:
    codes = list(dict.fromkeys(s.code for s in shipments))
    return codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " and " + codes[-1]


def _days(shipments: Sequence[Priced]) -> int:
    return max((s.days or 0 for s in shipments), default=0)


def _promise(order: SourcingOrder, after: Sequence[Priced], today: date) -> str:
    if order.promised_on is None:
        return "no promised date"
    if _arrives(today, _days(after)) <= order.promised_on:
        return f"promised date {order.promised_on.isoformat()} kept"
    return f"arriving no later than before (promised {order.promised_on.isoformat()})"


def moved_sentence(
    order: SourcingOrder, before: Sequence[Priced], after: Sequence[Priced], today: date
) -> str:
    """'Re-planned by the batch optimiser: from MSK to SPB and KZN, shipping 512.00 ₽ →
    430.00 ₽, promised date 2026-12-01 kept'."""
    return (
        f"Re-planned by the batch optimiser: from {_codes(before)} to {_codes(after)}, "
        f"shipping {rub(total(before))} → {rub(total(after))}, {_promise(order, after, today)}"
    )


def held_sentence(
    order: SourcingOrder,
    before: Sequence[Priced],
    after: Sequence[Priced],
    today: date,
    *,
    worth_before: Decimal,
    worth_after: Decimal,
    trade_orders: int,
    trade_saving: Decimal,
) -> str:
    """'Re-planned with the orders held for release: from MSK to SPB, shipping 300.00 ₽ →
    350.00 ₽, its stock worth 120.00 ₽ → 0.00 ₽ to the orders still to come, 70.00 ₽ saved
    on this order; with 1 other held order 150.00 ₽ saved in all; promised date 2026-03-03
    kept'. An order made dearer says so, and what the orders planned with it save."""
    mine = (total(before) + worth_before) - (total(after) + worth_after)
    own = f"{rub(mine)} saved on this order" if mine >= 0 else f"{rub(-mine)} dearer for this order"
    text = (
        f"Re-planned with the orders held for release: from {_codes(before)} to {_codes(after)}, "
        f"shipping {rub(total(before))} → {rub(total(after))}"
    )
    if worth_before or worth_after:
        text += (
            f", its stock worth {rub(worth_before)} → {rub(worth_after)} to the orders still "
            "to come"
        )
    text += f", {own}"
    others = trade_orders - 1
    if others > 0:
        text += (
            f"; with {others} other held order{'s' if others != 1 else ''} "
            f"{rub(trade_saving)} saved in all"
        )
    return f"{text}; {_promise(order, after, today)}"


def covered_sentence(order: SourcingOrder, after: Sequence[Priced]) -> str:
    """'Reserved by the batch optimiser: SPB ships the order for 324.00 ₽ in 3 days, ...'."""
    days = _days(after)
    verb = "ships" if len(after) == 1 else "ship"
    text = (
        f"Reserved by the batch optimiser: {_codes(after)} {verb} the order for "
        f"{rub(total(after))} in {days} day{'s' if days != 1 else ''}"
    )
    if order.promised_on is not None:
        text += f", promised date {order.promised_on.isoformat()}"
    return text


def record_of(
    order: SourcingOrder,
    before: Sequence[Priced],
    after: Sequence[Priced],
    *,
    rules_version: str,
    tariffs_version: str,
    today: date,
    summary: str,
    why_left: str = "the plan before the re-plan, which ships the order for less",
) -> SourcingRecord:
    """The stored decision of a re-plan: the plan left and the plan taken as candidates,
    the new shipments with their costs, and the sentence."""
    notes: dict[str, CandidateNote] = {}
    chosen = {s.code for s in after}
    for s in (*after, *before):
        if s.code in notes:
            continue
        notes[s.code] = CandidateNote(
            s.code,
            s.candidate.city,
            s.candidate.kind,
            s.km,
            covers=False,
            cost_rub=None if s.cost is None else float(s.cost),
            days=s.days,
            chosen=s.code in chosen,
            estimate=s.estimate,
            why_not=None if s.code in chosen else why_left,
        )
    days = _days(after)
    on_time = None if order.promised_on is None else _arrives(today, days) <= order.promised_on
    return SourcingRecord(
        rules_version,
        tariffs_version,
        today,
        order.order_type,
        order.express,
        order.promised_on,
        tuple(notes.values()),
        tuple(
            ShipmentNote(
                s.code,
                s.cost or Decimal(0),
                s.days or 0,
                round(s.weight_kg, 3),
                sum(q for _, q in s.units),
                s.tariff,
                s.estimate,
            )
            for s in after
        ),
        total(after),
        days,
        on_time,
        summary,
    )


def _arrives(today: date, days: int) -> date:
    return date.fromordinal(today.toordinal() + days)
