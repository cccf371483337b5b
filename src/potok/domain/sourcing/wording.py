"""The sentences of a sourcing decision: what was chosen and why, what the best plan of the
other kind would have been, which candidates were not considered and which left out stock
an order now waits beside. Claims are checked against every plan before they are made."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from potok.domain.kernel import ProductId, WarehouseId
from potok.domain.sourcing.explanation import PARTS, CandidateNote
from potok.domain.sourcing.planner import Position
from potok.domain.sourcing.rules import RoutingRules, SplitPolicy
from potok.domain.sourcing.why_not import TIE, days, rub

if TYPE_CHECKING:
    from potok.domain.sourcing.engine import SourcingOrder, _Option, _Plan


def summary(
    best: _Plan,
    runner_up: _Plan | None,
    order: SourcingOrder,
    rules: RoutingRules,
    notes: Mapping[WarehouseId, CandidateNote],
    alternative: str = "",
    *,
    singles: Sequence[_Plan] = (),
    partial: bool = False,
) -> str:
    """The sentence for one shipment or a split. ``singles``: every plan of one shipment
    that covers the order; ``partial``: some allowed warehouse covers only part of it (so
    a superlative holds among those that have every line only)."""
    cost = sum(best.costs)
    when = f"{best.days} day{'s' if best.days != 1 else ''}"
    if order.promised_on is not None:
        when += (
            f", on time for {order.promised_on.isoformat()}"
            if best.late == 0
            else f", {best.late} day(s) after the promised {order.promised_on.isoformat()}"
        )
    places = ", ".join(place(o) for o, _ in best.shipments)
    if len(best.shipments) == 1:
        text = f"{places} ships the whole order for {rub(cost)} in {when}"
    else:
        text = (
            f"Split into {len(best.shipments)} shipments from {places} for {rub(cost)} "
            f"in all, the last arriving in {when}"
        )
        if runner_up is not None:
            single = f"the best single shipment ({rub(sum(runner_up.costs))}, {runner_up.days} d)"
            if sum(best.costs) < sum(runner_up.costs) - TIE:
                text += f"; cheaper than {single}"
            else:
                behind = runner_up.score - best.score
                text += f"; {rub(behind)} better on the rules' scale than {single}"
        else:
            text += "; no single warehouse has every line"
    if runner_up is not None and len(best.shipments) == 1:
        text += chosen_because(best, runner_up, singles, order, partial=partial)
    if runner_up is None and len(best.shipments) == 1:
        text += "; the only allowed warehouse that has every line"
    if alternative:
        text += f"; {alternative}"
    return text + not_considered(notes, order)


def chosen_because(
    best: _Plan, runner_up: _Plan, singles: Sequence[_Plan], order: SourcingOrder, *, partial: bool
) -> str:
    """'; chosen because it is the cheapest to ship (next best ...)': a superlative only when
    it holds against every plan of one shipment, else a comparison with the next best."""
    other = runner_up.shipments[0][0].candidate.code
    behind = runner_up.score - best.score
    tail = f" (next best {other}: {rub(sum(runner_up.costs))}, {runner_up.days} d"
    if behind <= TIE:
        return f"; chosen over {other} on a tie on the rules' scale, the first by code{tail})"
    tail += f", {rub(behind)} worse on the rules' scale)"
    gains = [(r - b, name) for name, r, b in zip(PARTS, runner_up.parts, best.parts, strict=False)]
    part = max(gains, key=lambda g: g[0])[1]
    rivals = [p for p in singles if p is not best]
    among = " of the warehouses that have every line" if partial else ""
    if part == "cost":
        cheapest = all(sum(best.costs) <= sum(p.costs) + TIE for p in rivals)
        why = f"it is the cheapest to ship{among}" if cheapest else f"it costs less than {other}"
    elif part == "distance":
        km = best.shipments[0][0].km
        nearest = all(km <= p.shipments[0][0].km for p in rivals)
        why = f"it is the nearest{among}" if nearest else f"it is nearer than {other}"
    elif part == "time":
        if best.late < runner_up.late:
            why = "it keeps the promised date" if not best.late else f"it is less late than {other}"
        elif all(best.days <= p.days for p in rivals):
            why = f"it arrives soonest{among}"
        else:
            why = f"it arrives sooner than {other}"
        if order.express:
            why += ", and the order is express"
    elif part == "last_units":
        why = (
            "it does not take the last units a store keeps for its own customers"
            if best.parts[3] <= TIE
            else f"it takes fewer of the last units a store keeps than {other}"
        )
    elif part == "needed_later":
        why = (
            f"the orders still to come need its units less: taking them costs those orders "
            f"{rub(best.parts[5])}, against {rub(runner_up.parts[5])} at {other}"
        )
    else:
        why = f"it has a higher priority than {other}"
    return f"; chosen because {why}{tail}"


def brought(plan: _Plan, skus: Mapping[ProductId, str]) -> str:
    """'2 units of SKU-9 come by transfer from SPB-1 (1 200.00 ₽, 2 d)'."""
    parts = []
    for leg in plan.legs:
        units = sum(leg.load.values())
        what = ", ".join(skus[p] for p in sorted(leg.load))
        parts.append(
            f"{units} unit{'s' if units != 1 else ''} of {what} from "
            f"{leg.source.candidate.code} ({rub(leg.cost)}, {leg.tariff.days} d)"
        )
    return "; ".join(parts)


def hub_summary(
    best: _Plan,
    split: _Plan | None,
    single: _Plan | None,
    order: SourcingOrder,
    rules: RoutingRules,
    skus: Mapping[ProductId, str],
) -> str:
    hub = best.shipments[0][0]
    when = days(best.days)
    if order.promised_on is not None:
        when += (
            f", on time for {order.promised_on.isoformat()}"
            if best.late == 0
            else f", {best.late} day(s) after the promised {order.promised_on.isoformat()}"
        )
    text = (
        f"Consolidated at {place(hub)}: {brought(best, skus)} come by transfer; then one "
        f"shipment for {rub(best.costs[0])} ({rub(sum(best.costs))} with the transfers), "
        f"arriving in {when}"
    )
    if split is not None:
        n = len(split.shipments)
        codes = ", ".join(o.candidate.code for o, _ in split.shipments)
        word = "cheaper" if sum(best.costs) <= sum(split.costs) else "better on the rules' scale"
        text += (
            f"; {word} than {n} shipments from {codes} ({rub(sum(split.costs))}, "
            f"{days(split.days)}, {rub(split.score - best.score)} worse on the rules' scale)"
        )
    elif single is not None:
        other = single.shipments[0][0].candidate.code
        text += f"; better than one shipment from {other} ({rub(sum(single.costs))})"
    elif rules.split is SplitPolicy.NEVER:
        text += "; no single warehouse has every line and the rules do not allow a split"
    else:
        text += "; no single warehouse has every line"
    return text


def alternative(plan: _Plan, skus: Mapping[ProductId, str]) -> str:
    """The best plan of the other kind, as a runner-up in words."""
    cost = rub(sum(plan.costs))
    if plan.legs:
        hub = plan.shipments[0][0].candidate.code
        return (
            f"consolidating at {hub} ({brought(plan, skus)} by transfer) would cost {cost} "
            f"and take {days(plan.days)}"
        )
    codes = ", ".join(o.candidate.code for o, _ in plan.shipments)
    return (
        f"{len(plan.shipments)} shipments from {codes} would cost {cost} and take {days(plan.days)}"
    )


def not_considered(notes: Mapping[WarehouseId, CandidateNote], order: SourcingOrder) -> str:
    """'; not considered: 17 hold none of its products, 5 stores (marketplace order)'."""
    counts: dict[str, int] = {}
    for n in notes.values():
        reason = n.excluded
        if reason is None:
            continue
        if reason.startswith("a "):
            key = f"{n.kind.replace('_', ' ')}@ (not for {order.order_type} orders)"
        elif reason.startswith("region"):
            key = "in an excluded region"
        elif reason.startswith("holds none"):
            key = "hold none of its products"
        elif reason.startswith("no shipping"):
            key = "no tariff to the destination"
        else:
            key = "beyond the distance limit"
        counts[key] = counts.get(key, 0) + 1
    if not counts:
        return ""
    listed = (f"{q} {k.replace('@', 's' if q > 1 else '')}" for k, q in counts.items())
    return "; not considered: " + ", ".join(listed)


def estimated(plan: _Plan) -> str:
    """'; the cost from VLG-1 is an estimate: no tariff for it, built-in distance bands'."""
    codes = [o.candidate.code for o, _ in plan.shipments if o.tariff.estimate]
    codes += [leg.source.candidate.code for leg in plan.legs if leg.tariff.estimate]
    if not codes:
        return ""
    named = ", ".join(dict.fromkeys(codes))
    return (
        f"; the cost from {named} is an estimate: the tariff table has no row for "
        f"{'it' if len(codes) == 1 else 'them'}, the built-in distance bands price it"
    )


def opportunity(plan: _Plan) -> str:
    """'; the stock it takes is worth 40.00 ₽ to the orders still to come (its opportunity
    cost, weighed with the shipping)': said whenever some warehouse's units of the order
    had a price for later orders, so the roubles the choice counted are on the record."""
    return (
        f"; the stock it takes is worth {rub(plan.parts[5])} to the orders still to come "
        "(its opportunity cost, weighed with the shipping)"
    )


def carried(plan: _Plan) -> str:
    """'; MSK-1 ships by cdek tariff 136 (Посылка), live price': the carrier the rules
    chose for each shipment and where its price came from."""
    said = [
        f"{o.candidate.code} ships by {o.tariff.label}"
        for o, _ in plan.shipments
        if o.tariff.carrier
    ]
    return "; " + "; ".join(said) if said else ""


def place(option: _Option) -> str:
    c = option.candidate
    return f"{c.code} ({c.city}, {option.km:.0f} km)"


def sent_by_transfer(plan: _Plan, skus: Mapping[ProductId, str]) -> dict[str, str]:
    """'sends 2 units of MUG to MSK by transfer', per source of a consolidation."""
    if not plan.legs:
        return {}
    hub = plan.shipments[0][0].candidate.code
    sent = {}
    for leg in plan.legs:
        units = sum(leg.load.values())
        what = ", ".join(skus[p] for p in sorted(leg.load))
        sent[leg.source.candidate.code] = (
            f"sends {units} unit{'s' if units != 1 else ''} of {what} to {hub} by transfer"
        )
    return sent


def left_out_holding(
    order: SourcingOrder,
    products: set[ProductId],
    notes: Mapping[WarehouseId, CandidateNote],
    held: Mapping[WarehouseId, Mapping[ProductId, list[Position]]],
) -> str:
    """'; left out although they hold units: VLG-1 (5 KET; no shipping tariff reaches the
    destination)' - the real reason an order waits beside stock."""
    skus = {n.product_id: n.sku for n in order.needs}
    found = []
    for wid, note in notes.items():
        if note.excluded is None:
            continue
        stock = held.get(wid)
        if not stock:
            continue
        units = [
            f"{sum(x.available for x in stock[p])} {skus[p]}"
            for p in sorted(products)
            if p in stock
        ]
        if units:
            found.append(f"{note.code} ({', '.join(units)}: {note.excluded})")
    if not found:
        return ""
    return "; left out although they hold units: " + ", ".join(found)
