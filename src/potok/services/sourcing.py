"""Sourcing set-up and explanations: shipping tariffs, routing rules per channel and order
type (each change a new version, who made it kept), and a dry run of the engine on an
existing order that reserves nothing.

Intake and re-sourcing decide with the same engine and setup (``services.allocation``).
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from potok.domain.channels import ChannelNotFound
from potok.domain.errors import FieldError, InvalidInput, NotFound
from potok.domain.kernel import Actor, ChannelId, Clock, StockId, utc_now
from potok.domain.orders import HistoryEntry, Order
from potok.domain.orders.errors import OrderNotFound
from potok.domain.orders.model import ReservationStatus
from potok.domain.sourcing import (
    Decision,
    Shortfall,
    SourcingRecord,
    Tariff,
    TariffTable,
)
from potok.domain.sourcing.events import SourcingRulesChanged, SourcingTariffsImported
from potok.domain.sourcing.setup import (
    ANY_ORDER_TYPE,
    DEFAULT_CHANNEL,
    MAX_REGION,
    ORDER_TYPES,
    rules_from_data,
    rules_to_data,
)
from potok.domain.sourcing.tariffs import ANY_WAREHOUSE
from potok.domain.sourcing.versions import RulesVersion, TariffVersion
from potok.services.allocation import where_it_may_ship
from potok.services.ports import StoredSourcing
from potok.services.tariff_files import TariffFileError, TariffProblem, parse_tariffs
from potok.services.unit_of_work import UnitOfWork, atomically, reading


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


def _effective(uow: UnitOfWork, channel_id: ChannelId | None, order_type: str) -> RulesVersion:
    return uow.sourcing_setup().effective(channel_id, order_type)


# ---------------------------------------------------------------------- explanations


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A sourcing decision kept for the order: what was done, why, and the engine's record
    (orders sourced before records were kept show their history entry only)."""

    occurred_at: datetime
    actor: str
    action: str  # reserved or backordered
    explanation: str
    trigger: str = ""
    warehouses: tuple[str, ...] = ()
    total_cost: Decimal | None = None
    record: SourcingRecord | None = None


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
        stored = _stored(uow.orders.history(order_id), uow.sourcing.decisions(order_id))
        result = dry_run(uow, order, today=today or clock().date())
        if isinstance(result, Decision):
            return OrderSourcing(
                order_id,
                stored,
                "decision",
                result.warehouses,
                result.record,
                result.explanation,
            )
        short = "; ".join(f"{s.sku}: {s.available} of {s.requested}" for s in result.lines)
        text = result.record.summary if result.record else ""
        return OrderSourcing(
            order_id,
            stored,
            "shortfall",
            (),
            result.record,
            text or f"The network lacks units: {short}",
        )

    return reading(uow, work)


def _stored(history: list[HistoryEntry], kept: list[StoredSourcing]) -> list[StoredDecision]:
    if kept:
        return [
            StoredDecision(
                k.decided_at,
                k.actor,
                k.outcome,
                k.record.summary,
                k.trigger,
                k.warehouses,
                k.total_cost,
                k.record,
            )
            for k in kept
        ]
    return [
        StoredDecision(h.occurred_at, h.actor, h.action, h.reason or "")
        for h in history
        if h.action in ("reserved", "backordered")
    ]


def dry_run(uow: UnitOfWork, order: Order, *, today: date) -> Decision | Shortfall:
    """What the engine decides for the order now, by the channel's rules and the tariffs:
    for the units no started shipment holds, or - when every unit is on its way - for the
    whole order, as if it came in now."""
    product_ids = {li.product_id for li in order.lines}
    own: dict[StockId, int] = {}
    for r in order.reservations:
        if r.status is ReservationStatus.OPEN:
            own[r.stock_id] = own.get(r.stock_id, 0) + r.quantity
    candidates, positions = where_it_may_ship(
        order,
        *uow.stock.candidates(product_ids, order.channel_id, today=today, held=own.keys()),
    )
    if own:
        positions = [
            dataclasses.replace(p, available=p.available + own[p.stock_id])
            if p.stock_id in own
            else p
            for p in positions
        ]
    weights = uow.sourcing.weights_kg(product_ids)
    return uow.sourcing_setup().decide(
        order, weights, candidates, positions, today=today, whole=not order.outstanding
    )
