"""Sourcing set-up and explanations: shipping tariffs, routing rules per channel and order
type (each change a new version, who made it kept), and a dry run of the engine on an
existing order that reserves nothing.

Intake still sources with ``plan``; the dry run shows what ``decide`` would choose today.
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from potok.domain.channels import ChannelNotFound, ChannelType
from potok.domain.errors import FieldError, InvalidInput, NotFound
from potok.domain.kernel import Actor, ChannelId, Clock, StockId, utc_now
from potok.domain.orders import HistoryEntry, Order
from potok.domain.orders.errors import OrderNotFound
from potok.domain.orders.model import ReservationStatus
from potok.domain.sourcing import (
    Decision,
    Need,
    OrderType,
    RoutingRules,
    Shortfall,
    SourcingOrder,
    SourcingRecord,
    SplitPolicy,
    Tariff,
    TariffTable,
    Weights,
    decide,
)
from potok.domain.sourcing.events import SourcingRulesChanged, SourcingTariffsImported
from potok.domain.sourcing.rules import InvalidRules
from potok.domain.sourcing.tariffs import ANY_WAREHOUSE
from potok.services.ports import RulesVersion, TariffVersion
from potok.services.tariff_files import TariffFileError, TariffProblem, parse_tariffs
from potok.services.unit_of_work import UnitOfWork, atomically, reading

DEFAULT_CHANNEL = "default"
"""The channel name that stands for the whole network's default rules."""
ANY_ORDER_TYPE = "*"
MAX_REGION = 120
EXPRESS_PRIORITY = 5
"""Orders of this priority (0-9) or higher are sourced as express: the fastest option wins."""
KINDS = frozenset({"warehouse", "store", "pickup_point", "dark_store"})
ORDER_TYPES = frozenset({*(t.value for t in OrderType), ANY_ORDER_TYPE})


class RoutingRulesNotFound(NotFound):
    code = "routing-rules-not-found"
    title = "Routing rules not found"
    template = "Channel '{channel}' has no version {version} of its {order_type} routing rules."


# ---------------------------------------------------------------------- tariffs


def import_tariffs(
    uow: UnitOfWork, text: str, actor: Actor, *, source: str = "", clock: Clock = utc_now
) -> TariffVersion:
    """Replace the tariff table with the one a CSV file describes, as a new version; a file
    with any bad row changes nothing and every problem is reported."""

    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise TariffFileError([TariffProblem(line, None, "contains a NUL character")])

    def work(uow: UnitOfWork) -> TariffVersion:
        known = {w.code: w.id for w in uow.warehouses.list()}
        problems = _unknown_warehouses(text, known)
        table: TariffTable | None = None
        try:
            table = parse_tariffs(text)
        except TariffFileError as error:
            problems.extend(error.problems)
        if problems or table is None:
            raise TariffFileError(sorted(problems, key=lambda p: (p.line, p.column or "")))
        at = clock()
        version = uow.sourcing.add_tariffs(
            table.tariffs, known, source=source, created_by=str(actor), at=at
        )
        uow.record(
            SourcingTariffsImported(
                occurred_at=at, version=version.version, tariffs=version.tariffs, source=source
            )
        )
        return version

    return atomically(uow, work)


def _unknown_warehouses(text: str, known: Mapping[str, object]) -> list[TariffProblem]:
    """Rows naming a warehouse that does not exist, or a region too long to keep."""
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower().lstrip("\ufeff") for h in next(reader, [])]
    problems = []
    for record in reader:
        cells = dict(zip(header, (c.strip() for c in record), strict=False))
        code = cells.get("warehouse", "")
        if code and code != ANY_WAREHOUSE and code not in known:
            problems.append(
                TariffProblem(reader.line_num, "warehouse", f"there is no warehouse '{code}'")
            )
        if len(cells.get("region", "")) > MAX_REGION:
            problems.append(
                TariffProblem(reader.line_num, "region", f"is longer than {MAX_REGION} characters")
            )
    return problems


def list_tariffs(uow: UnitOfWork) -> tuple[TariffVersion | None, list[Tariff]]:
    """The tariff table in force and its version (None before the first import)."""

    def work(uow: UnitOfWork) -> tuple[TariffVersion | None, list[Tariff]]:
        version = uow.sourcing.tariff_version()
        if version is None:
            return None, []
        return version, uow.sourcing.tariffs(version.version)

    return reading(uow, work)


# ---------------------------------------------------------------------- rules


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
    return {
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


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and abs(value) < 1e12


def _is_name(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 120 and "\x00" not in value


def _check_order_type(order_type: str) -> None:
    if order_type not in ORDER_TYPES:
        types = ", ".join(sorted(ORDER_TYPES))
        raise InvalidInput([FieldError("order_type", f"must be one of {types}", "unknown")])


def _channel_id(uow: UnitOfWork, channel: str) -> ChannelId | None:
    if channel == DEFAULT_CHANNEL:
        return None
    found = uow.channels.get_by_code(channel)
    if found is None:
        raise ChannelNotFound(channel=channel)
    return found.id


def set_rules(
    uow: UnitOfWork,
    channel: str,
    data: Mapping[str, Any],
    actor: Actor,
    *,
    order_type: str = ANY_ORDER_TYPE,
    clock: Clock = utc_now,
) -> RulesVersion:
    """Give a channel (``default``: the network) new routing rules, as a new version; the
    old versions stay readable."""
    _check_order_type(order_type)
    rules = rules_to_data(rules_from_data(data))

    def work(uow: UnitOfWork) -> RulesVersion:
        channel_id = _channel_id(uow, channel)
        before = uow.sourcing.rules(channel_id, order_type)
        at = clock()
        after = uow.sourcing.add_rules(channel_id, order_type, rules, created_by=str(actor), at=at)
        uow.record(
            SourcingRulesChanged(
                occurred_at=at,
                channel=channel,
                order_type=order_type,
                version=after.version,
                before=before.rules if before else None,
                after=rules,
            )
        )
        return after

    return atomically(uow, work)


def get_rules(
    uow: UnitOfWork,
    channel: str,
    *,
    order_type: str = ANY_ORDER_TYPE,
    version: int | None = None,
) -> RulesVersion:
    """A channel's routing rules: the current version, or an older one asked for. Without
    rules of its own a channel follows the network default, and that the built-in rules."""
    _check_order_type(order_type)

    def work(uow: UnitOfWork) -> RulesVersion:
        channel_id = _channel_id(uow, channel)
        if version is not None:
            found = uow.sourcing.rules(channel_id, order_type, version)
            if found is None:
                raise RoutingRulesNotFound(channel=channel, order_type=order_type, version=version)
            return found
        return _effective(uow, channel_id, order_type)

    return reading(uow, work)


def rule_versions(
    uow: UnitOfWork, channel: str, *, order_type: str = ANY_ORDER_TYPE
) -> list[RulesVersion]:
    """Every stored version of a channel's routing rules, newest first."""
    _check_order_type(order_type)

    def work(uow: UnitOfWork) -> list[RulesVersion]:
        return uow.sourcing.rule_versions(_channel_id(uow, channel), order_type)

    return reading(uow, work)


BUILT_IN = RulesVersion(
    None,
    ANY_ORDER_TYPE,
    0,
    rules_to_data(RoutingRules()),
    "system:potok",
    datetime(2026, 1, 1, tzinfo=UTC),
)
"""The rules in force before anyone sets any: version 0."""


def _effective(uow: UnitOfWork, channel_id: ChannelId | None, order_type: str) -> RulesVersion:
    scopes: list[tuple[ChannelId | None, str]] = []
    for owner in (channel_id, None) if channel_id is not None else (None,):
        scopes.append((owner, order_type))
        if order_type != ANY_ORDER_TYPE:
            scopes.append((owner, ANY_ORDER_TYPE))
    for owner, kind in scopes:
        found = uow.sourcing.rules(owner, kind)
        if found is not None:
            return found
    return BUILT_IN


def _label(found: RulesVersion) -> str:
    if found.version == 0:
        return "built-in"
    scope = found.channel or DEFAULT_CHANNEL
    if found.order_type != ANY_ORDER_TYPE:
        scope += f"/{found.order_type}"
    return f"{scope} v{found.version}"


# ---------------------------------------------------------------------- explanations


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A sourcing decision as the order's history keeps it."""

    occurred_at: datetime
    actor: str
    action: str
    explanation: str


@dataclass(frozen=True, slots=True)
class OrderSourcing:
    """What was decided for an order, and what the engine would decide now."""

    order_id: int
    stored: list[StoredDecision]
    outcome: str  # "decision" or "shortfall"
    warehouses: tuple[str, ...]
    record: SourcingRecord | None
    explanation: str


def explain_order(
    uow: UnitOfWork, order_id: int, *, today: date | None = None, clock: Clock = utc_now
) -> OrderSourcing:
    """The decisions stored on the order, and a dry run of the engine on it now (with the
    order's own reservations counted as free): nothing is reserved."""

    def work(uow: UnitOfWork) -> OrderSourcing:
        order = uow.orders.get(order_id)
        if order is None:
            raise OrderNotFound(order_id=order_id)
        history = uow.orders.history(order_id)
        result = dry_run(uow, order, today=today or clock().date())
        if isinstance(result, Decision):
            return OrderSourcing(
                order_id,
                _stored(history),
                "decision",
                result.warehouses,
                result.record,
                result.explanation,
            )
        short = "; ".join(f"{s.sku}: {s.available} of {s.requested}" for s in result.lines)
        text = result.record.summary if result.record else ""
        return OrderSourcing(
            order_id,
            _stored(history),
            "shortfall",
            (),
            result.record,
            text or f"The network lacks units: {short}",
        )

    return reading(uow, work)


def _stored(history: list[HistoryEntry]) -> list[StoredDecision]:
    return [
        StoredDecision(h.occurred_at, h.actor, h.action, h.reason or "")
        for h in history
        if h.action in ("reserved", "backordered")
    ]


def dry_run(uow: UnitOfWork, order: Order, *, today: date) -> Decision | Shortfall:
    """What the engine decides for the order now, by the channel's rules and the tariffs."""
    needs = tuple(Need(li.line_no, li.product_id, li.sku, li.quantity) for li in order.lines)
    product_ids = {n.product_id for n in needs}
    candidates, positions = uow.stock.candidates(product_ids, order.channel_id, today=today)
    own: dict[StockId, int] = {}
    for r in order.reservations:
        if r.status is ReservationStatus.OPEN:
            own[r.stock_id] = own.get(r.stock_id, 0) + r.quantity
    if own:
        positions = [
            dataclasses.replace(p, available=p.available + own[p.stock_id])
            if p.stock_id in own
            else p
            for p in positions
        ]
    kinds = uow.sourcing.warehouse_kinds()
    candidates = [
        dataclasses.replace(c, kind=kinds.get(c.warehouse_id, c.kind)) for c in candidates
    ]
    weights = {
        p: grams / 1000 for p, grams in uow.sourcing.weights_g(product_ids).items() if grams > 0
    }
    channel = uow.channels.get(order.channel_id)
    order_type = order.delivery.method.value
    if channel is not None and channel.type is ChannelType.MARKETPLACE:
        order_type = OrderType.MARKETPLACE.value
    found = _effective(uow, order.channel_id, order_type)
    rules = dataclasses.replace(rules_from_data(found.rules), version=_label(found))
    version = uow.sourcing.tariff_version()
    tariffs = (
        TariffTable(uow.sourcing.tariffs(version.version), version=str(version.version))
        if version is not None
        else TariffTable((), version="none")
    )
    address = order.delivery.address
    region = address.region if address is not None and address.region else None
    sourcing_order = SourcingOrder(
        needs,
        order.delivery.destination,
        region=region,
        order_type=order_type,
        express=order.priority >= EXPRESS_PRIORITY,
        promised_on=order.promised_at.date() if order.promised_at else None,
        unit_weight_kg=weights,
        reference=str(order.id),
    )
    return decide(sourcing_order, candidates, positions, tariffs=tariffs, rules=rules, today=today)
