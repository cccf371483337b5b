"""What the sourcing engine decides by: the tariff table in force and the routing rules of
every channel and order type, read once and kept per process until either changes; and
an order as the engine sees it.

Routing rules are stored as JSON; ``rules_from_data`` and ``rules_to_data`` convert them,
reporting every bad field at once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import ChannelId, ProductId, WarehouseId
from potok.domain.orders import Order
from potok.domain.orders.model import Delivery
from potok.domain.sourcing import (
    Candidate,
    Decision,
    Need,
    OrderType,
    Position,
    RoutingRules,
    Shortfall,
    SourcingOrder,
    SplitPolicy,
    Tariff,
    TariffTable,
    Weights,
    decide,
)
from potok.domain.sourcing.carriers import (
    SOURCE_WORDS,
    WEIGHT_STEP_G,
    CarrierChoice,
    Destination,
    Lane,
    PriceLookup,
    PriceSource,
    choice_from_data,
    choice_to_data,
    lanes,
    part_weights,
    weight_band_g,
)
from potok.domain.sourcing.rules import InvalidRules
from potok.domain.sourcing.tariffs import built_in_tariffs
from potok.domain.sourcing.versions import RulesVersion, TariffVersion

MAX_BANDS = 200
"""The lightest parcels of an order priced by a carrier's bands: up to 100 kg in 500 g."""

DEFAULT_CHANNEL = "default"
"""The channel name that stands for the whole network's default rules."""
ANY_ORDER_TYPE = "*"
MAX_REGION = 120
EXPRESS_PRIORITY = 5
"""Orders of this priority (0-9) or higher are sourced as express: the fastest option wins."""
KINDS = frozenset({"warehouse", "store", "pickup_point", "dark_store"})
ORDER_TYPES = frozenset({*(t.value for t in OrderType), ANY_ORDER_TYPE})


def rules_from_data(data: Mapping[str, Any]) -> RoutingRules:
    """Routing rules from their JSON form; every bad field is reported at once."""
    errors: list[FieldError] = []
    known = {f.name for f in dataclasses.fields(RoutingRules)} - {"version"}
    for name in data:
        if name not in known:
            errors.append(FieldError(name, "is not a routing rule setting", "unknown"))
    values: dict[str, Any] = {}
    kinds = data.get("kinds_by_order_type")
    if kinds is not None:
        if not isinstance(kinds, Mapping):
            errors.append(FieldError("kinds_by_order_type", "must map order types to kinds"))
        else:
            parsed: dict[str, frozenset[str]] = {}
            for order_type, names in kinds.items():
                where = f"kinds_by_order_type.{order_type}"
                if order_type not in ORDER_TYPES - {ANY_ORDER_TYPE}:
                    errors.append(FieldError(where, "is not an order type", "unknown"))
                elif not isinstance(names, list) or not all(
                    isinstance(n, str) and n in KINDS for n in names
                ):
                    errors.append(FieldError(where, f"must list location kinds of {sorted(KINDS)}"))
                else:
                    parsed[order_type] = frozenset(names)
            values["kinds_by_order_type"] = parsed
    for name in ("excluded_regions", "keep_last_units_kinds"):
        if name in data:
            items = data[name]
            if not isinstance(items, list) or not all(_is_name(i) for i in items):
                errors.append(FieldError(name, "must be a list of names (up to 120 characters)"))
            else:
                values[name] = frozenset(items)
    for name in ("max_distance_km", "default_unit_weight_kg"):
        if name in data:
            number = data[name]
            if number is not None and not _is_number(number):
                errors.append(FieldError(name, "must be a number"))
            else:
                values[name] = None if number is None else float(number)
    for name in ("max_shipments", "keep_last_units"):
        if name in data:
            number = data[name]
            if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 1000:
                errors.append(FieldError(name, "must be a whole number from 0 to 1000"))
            else:
                values[name] = data[name]
    if "transfers" in data:
        if not isinstance(data["transfers"], bool):
            errors.append(FieldError("transfers", "must be true or false"))
        else:
            values["transfers"] = data["transfers"]
    if "transfer_handling_days" in data:
        number = data["transfer_handling_days"]
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 366:
            errors.append(
                FieldError("transfer_handling_days", "must be a whole number from 0 to 366")
            )
        else:
            values["transfer_handling_days"] = number
    if "carriers" in data:
        choice = choice_from_data(data["carriers"], errors)
        if choice is not None:
            values["carriers"] = choice
    if "split" in data:
        try:
            values["split"] = SplitPolicy(data["split"])
        except ValueError:
            policies = ", ".join(p.value for p in SplitPolicy)
            errors.append(FieldError("split", f"must be one of {policies}"))
    weights = data.get("weights")
    if weights is not None:
        known_weights = {f.name for f in dataclasses.fields(Weights)}
        if not isinstance(weights, Mapping):
            errors.append(FieldError("weights", "must map criteria to roubles"))
        else:
            for name, value in weights.items():
                if name not in known_weights:
                    errors.append(FieldError(f"weights.{name}", "is not a criterion", "unknown"))
                elif not _is_number(value) or value < 0:
                    errors.append(FieldError(f"weights.{name}", "must be 0 or more roubles"))
            if not any(e.field.startswith("weights") for e in errors):
                values["weights"] = Weights(**{k: float(v) for k, v in weights.items()})
    if errors:
        raise InvalidInput(errors)
    try:
        return RoutingRules(**values)
    except InvalidRules as error:
        raise InvalidInput([FieldError("rules", str(error))]) from None


def rules_to_data(rules: RoutingRules) -> dict[str, Any]:
    """Routing rules in their JSON form."""
    data: dict[str, Any] = {
        "kinds_by_order_type": {t: sorted(k) for t, k in sorted(rules.kinds_by_order_type.items())},
        "max_distance_km": rules.max_distance_km,
        "excluded_regions": sorted(rules.excluded_regions),
        "weights": dataclasses.asdict(rules.weights),
        "split": rules.split.value,
        "max_shipments": rules.max_shipments,
        "keep_last_units": rules.keep_last_units,
        "keep_last_units_kinds": sorted(rules.keep_last_units_kinds),
        "default_unit_weight_kg": rules.default_unit_weight_kg,
        "transfers": rules.transfers,
        "transfer_handling_days": rules.transfer_handling_days,
    }
    if rules.carriers is not None:
        data["carriers"] = choice_to_data(rules.carriers)
    return data


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and abs(value) < 1e12


def _is_name(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 120 and "\x00" not in value


BUILT_IN = RulesVersion(
    None,
    ANY_ORDER_TYPE,
    0,
    rules_to_data(RoutingRules()),
    "system:potok",
    datetime(2026, 1, 1, tzinfo=UTC),
)
"""The rules in force before anyone sets any: version 0."""


def label(found: RulesVersion) -> str:
    if found.version == 0:
        return "built-in"
    scope = found.channel or DEFAULT_CHANNEL
    if found.order_type != ANY_ORDER_TYPE:
        scope += f"/{found.order_type}"
    return f"{scope} v{found.version}"


@dataclass(frozen=True, slots=True)
class SourcingSetup:
    """The tariffs and every channel's current routing rules, as the engine takes them."""

    tariffs: TariffTable
    rules: Mapping[tuple[ChannelId | None, str], RulesVersion]
    marketplaces: frozenset[ChannelId] = frozenset()
    parsed: dict[tuple[ChannelId | None, str], RoutingRules] = field(
        default_factory=dict, compare=False
    )
    prices: PriceLookup | None = field(default=None, compare=False)  # carriers' remembered
    stock_values: Mapping[tuple[WarehouseId, ProductId], float] = field(
        default_factory=dict, compare=False
    )  # what a unit is worth to the orders still to come (the pricing job's latest run)

    def chooses_carriers(self) -> bool:
        """Some channel's rules price parcels by carriers' tariffs."""
        return any("carriers" in found.rules for found in self.rules.values())

    def effective(self, channel_id: ChannelId | None, order_type: str) -> RulesVersion:
        """The rules in force: the channel's for this order type, else its rules for every
        type, else the network default's (same order), else the built-in rules."""
        owners = (channel_id, None) if channel_id is not None else (None,)
        for owner in owners:
            found = self.rules.get((owner, order_type))
            if found is None and order_type != ANY_ORDER_TYPE:
                found = self.rules.get((owner, ANY_ORDER_TYPE))
            if found is not None:
                return found
        return BUILT_IN

    def rules_for(self, channel_id: ChannelId | None, order_type: str) -> RoutingRules:
        """The effective rules, parsed once per process, labelled with their version."""
        key = (channel_id, order_type)
        rules = self.parsed.get(key)
        if rules is None:
            found = self.effective(channel_id, order_type)
            rules = dataclasses.replace(rules_from_data(found.rules), version=label(found))
            self.parsed[key] = rules
        return rules

    def decide(
        self,
        order: Order,
        weights_kg: Mapping[ProductId, float],
        candidates: Iterable[Candidate],
        positions: Iterable[Position],
        *,
        today: date,
        uncovered: bool = False,
        whole: bool = False,
    ) -> Decision | Shortfall:
        """The engine's decision for the order by its channel's rules and the tariffs.
        ``uncovered``: only for the units nothing holds yet (an edit added them), without
        transfers - what the order holds stays where it is. ``whole``: for every unit, as
        if the order came in now (a dry run of an order already on its way)."""
        order_type = self.order_type(order)
        rules = self.rules_for(order.channel_id, order_type)
        if uncovered:
            rules = dataclasses.replace(rules, transfers=False)
        wanted = sourcing_order(order, order_type, weights_kg, uncovered=uncovered, whole=whole)
        shipping = None
        if rules.carriers is not None:
            shipping = _by_carrier(
                rules.carriers,
                self.tariffs,
                self.prices,
                destination_of(order),
                _weight_kg(order, weights_kg, rules),
            )
        return decide(
            wanted,
            candidates,
            positions,
            tariffs=self.tariffs,
            rules=rules,
            today=today,
            shipping=shipping,
            stock_values=self.stock_values or None,
        )

    def carrier_lanes(
        self,
        order: Order,
        weights_kg: Mapping[ProductId, float],
        origins: Mapping[str, tuple[float, float]],
        *,
        held: Mapping[str, Mapping[ProductId, int]] | None = None,
    ) -> list[Lane]:
        """The lanes a decision on the order would price by carriers (none when its rules
        keep to the tariff table): what to ask the carriers before deciding."""
        rules = self.rules_for(order.channel_id, self.order_type(order))
        if rules.carriers is None:
            return []
        units = [(li.product_id, li.quantity) for li in order.lines]
        return self.lanes_for(
            order.channel_id, order.delivery, units, weights_kg, origins, held=held
        )

    def lanes_for(
        self,
        channel_id: ChannelId,
        delivery: Delivery,
        units: Iterable[tuple[ProductId, int]],
        weights_kg: Mapping[ProductId, float],
        origins: Mapping[str, tuple[float, float]],
        *,
        held: Mapping[str, Mapping[ProductId, int]] | None = None,
    ) -> list[Lane]:
        """The carrier lanes of an order not placed yet: its channel, delivery, units; with
        what each warehouse ``held``, also the lanes of the parcels a split would send."""
        order_type = (
            OrderType.MARKETPLACE.value
            if channel_id in self.marketplaces
            else delivery.method.value
        )
        rules = self.rules_for(channel_id, order_type)
        if rules.carriers is None:
            return []
        demand: dict[ProductId, int] = {}
        for p, q in units:
            demand[p] = demand.get(p, 0) + q
        unit_kg = {p: weights_kg.get(p, rules.default_unit_weight_kg) for p in demand}
        kg = sum(q * unit_kg[p] for p, q in demand.items())
        to = _destination(delivery)
        found = lanes(rules.carriers, origins, to, kg)
        parts = part_weights(demand, held or {}, unit_kg)
        for code, weights in sorted(parts.items()):
            if code in origins:
                for part in sorted(weights):
                    found += lanes(rules.carriers, {code: origins[code]}, to, part)
        return list(dict.fromkeys(found))

    def order_type(self, order: Order) -> str:
        """Marketplace orders are their own type; others go by the delivery method."""
        if order.channel_id in self.marketplaces:
            return OrderType.MARKETPLACE.value
        return order.delivery.method.value


def build_setup(
    version: TariffVersion | None,
    tariffs: Iterable[Tariff],
    rules: Iterable[tuple[ChannelId | None, RulesVersion]],
    marketplaces: Iterable[ChannelId] = (),
    prices: PriceLookup | None = None,
    stock_values: Mapping[tuple[WarehouseId, ProductId], float] | None = None,
) -> SourcingSetup:
    """The setup from what the database holds: the latest tariff import (the built-in
    distance bands before any) and the latest rules version of each channel and order
    type; ``prices``: the carriers' prices this process remembers."""
    table = (
        TariffTable(tuple(tariffs), version=str(version.version))
        if version is not None
        else built_in_tariffs()
    )
    return SourcingSetup(
        table,
        {(owner, r.order_type): r for owner, r in rules},
        frozenset(marketplaces),
        prices=prices,
        stock_values=dict(stock_values or {}),
    )


def sourcing_order(
    order: Order,
    order_type: str,
    weights_kg: Mapping[ProductId, float],
    *,
    uncovered: bool = False,
    whole: bool = False,
) -> SourcingOrder:
    """The order as the engine sees it: lines, destination, region, promise, weights.
    Units a started shipment holds (being picked, or shipped) are settled: the engine
    decides about the rest only."""
    address = order.delivery.address
    region = address.region if address is not None and address.region else None
    needs = (
        Need(
            li.line_no,
            li.product_id,
            li.sku,
            li.quantity
            if whole
            else order.uncovered_quantity(li.line_no)
            if uncovered
            else li.quantity - order.settled_quantity(li.line_no),
        )
        for li in order.lines
    )
    return SourcingOrder(
        tuple(n for n in needs if n.quantity > 0),
        order.delivery.destination,
        region=region,
        order_type=order_type,
        express=order.priority >= EXPRESS_PRIORITY,
        promised_on=order.promised_at.astimezone(UTC).date() if order.promised_at else None,
        unit_weight_kg=weights_kg,
        reference=str(order.id),
        pickup_at=order.delivery.pickup_point_code,
    )


def destination_of(order: Order) -> Destination:
    """Where the order's parcel goes, as carriers price it."""
    return _destination(order.delivery)


def _destination(delivery: Delivery) -> Destination:
    address = delivery.address
    carrier_point = delivery.pickup_point_code if delivery.pickup_point_id is None else None
    return Destination(
        delivery.destination,
        city=address.city or None if address is not None else None,
        region=address.region or None if address is not None else None,
        postal_code=address.postal_code or None if address is not None else None,
        pickup_point=carrier_point or None,
    )


def _weight_kg(order: Order, weights: Mapping[ProductId, float], rules: RoutingRules) -> float:
    """The whole order's weight: what a carrier's price for its parcel is asked for."""
    return sum(
        li.quantity * weights.get(li.product_id, rules.default_unit_weight_kg) for li in order.lines
    )


def _by_carrier(
    choice: CarrierChoice,
    table: TariffTable,
    prices: PriceLookup | None,
    to: Destination,
    weight_kg: float,
) -> Callable[[Candidate, float], Tariff | None]:
    """The price of the order's parcel from a candidate by the carrier the rules pick: the
    best known carrier price (live or cached), else Potok's table named as the fallback."""
    grams = weight_band_g(weight_kg)
    bands = range(WEIGHT_STEP_G, grams, WEIGHT_STEP_G)[-MAX_BANDS:]  # lighter parcels
    key = to.key()
    carriers = choice.carriers_for(to.region)

    def shipping(candidate: Candidate, km: float) -> Tariff | None:
        origin = (candidate.latitude, candidate.longitude)
        known = []
        for carrier in carriers:
            lane = Lane(carrier, candidate.code, key, grams, origin)
            found = prices.look(lane) if prices is not None else None
            if found is not None:
                known.append(found)
        if known:
            best = choice.best(known)
            lighter = [  # the same carrier's prices for a part of the order, where known
                (band, found.price)
                for band in bands
                if prices is not None
                and (found := prices.look(Lane(best.carrier, candidate.code, key, band, origin)))
                is not None
            ]
            return Tariff(
                candidate.code,
                best.price,
                Decimal(0),
                Decimal(0),
                best.days,
                label=best.words(),
                carrier=best.carrier,
                source=best.source.value,
                by_band=(*lighter, (grams, best.price)) if lighter else (),
            )
        fallback = table.find_or_estimate(candidate.code, km=km, region=to.region)
        if fallback is None:
            return None
        carrier = carriers[0]
        return dataclasses.replace(
            fallback,
            label=f"{carrier}: {fallback.describe()}, {SOURCE_WORDS[PriceSource.FALLBACK]}",
            carrier=carrier,
            source=PriceSource.FALLBACK.value,
        )

    return shipping
