"""Releasing orders to a warehouse for picking: one pending shipment per order and parcel
group, on their own or together as a wave."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from potok.domain.errors import FieldError, InvalidInput
from potok.domain.fulfilment import Shipment, ShipmentStatus
from potok.domain.fulfilment.errors import NothingToPick, OrderNotReleasable
from potok.domain.fulfilment.events import WaveCreated
from potok.domain.fulfilment.picking import merge
from potok.domain.fulfilment.states import WaveStatus
from potok.domain.fulfilment.waves import MAX_WAVE_ORDERS, Wave
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.network import Warehouse, WarehouseNotFound
from potok.domain.orders import Order
from potok.services.fulfilment.common import order_of
from potok.services.fulfilment.reads import WaveView, wave_slots
from potok.services.idempotency import Once, atomically_once
from potok.services.ports import Releasable
from potok.services.unit_of_work import UnitOfWork


def warehouse_of(uow: UnitOfWork, code: str) -> Warehouse:
    site = uow.warehouses.get_by_code(code)
    if site is None:
        raise WarehouseNotFound(warehouse=code)
    return site


def _check_limit(limit: int) -> None:
    if isinstance(limit, bool) or not 1 <= limit <= MAX_WAVE_ORDERS:
        raise InvalidInput(
            [FieldError("max_orders", f"must be from 1 to {MAX_WAVE_ORDERS}", "out-of-range")]
        )


def release(
    uow: UnitOfWork,
    site: Warehouse,
    ready: Sequence[Releasable],
    at: datetime,
    actor: str,
    wave: Wave | None = None,
) -> list[Shipment]:
    """Pending shipments for these orders (their parcel groups) at the warehouse, in the
    order given; the orders are locked in id order first and noted in their history."""
    orders = {o.id: o for o in uow.orders.get_many([r.order_id for r in ready], lock=True)}
    made: list[Shipment] = []
    for item in ready:
        order = orders.get(item.order_id)
        if order is None:
            continue
        shipment = Shipment(
            id=None,
            order_id=item.order_id,
            seq=uow.shipments.next_seq(item.order_id),
            warehouse_id=site.id,
            warehouse_code=site.code,
            status=ShipmentStatus.PENDING,
            created_at=at,
            updated_at=at,
            parcel_group=item.parcel_group,
            wave_id=wave.id if wave is not None else None,
            wave=wave.number if wave is not None else None,
            promised_on=order.promised_at.date() if order.promised_at else None,
        )
        uow.shipments.add(shipment)
        shipment.released(at, actor)
        planned = sourcing_carrier(uow, item.order_id, site.code)
        if planned is not None:
            carrier, words = planned
            shipment.plan_carrier(carrier, at, actor, words, by="sourcing")
        uow.shipments.save(shipment)
        _note(order, shipment, at, actor)
        made.append(shipment)
    for order in orders.values():
        uow.orders.save(order)
    return made


def sourcing_carrier(uow: UnitOfWork, order_id: int, warehouse: str) -> tuple[str, str] | None:
    """The carrier the order's last sourcing chose for its parcel from this warehouse, and
    the words of that choice (its price and where it came from); None when the routing
    rules keep to the tariff table."""
    for decision in reversed(uow.sourcing.decisions(order_id)):
        if decision.outcome != "reserved":
            continue
        for note in decision.record.shipments:
            if note.code == warehouse and note.carrier:
                source = f", {note.price_source} price" if note.price_source else ""
                return note.carrier, (
                    f"chosen by sourcing: {note.carrier} from {warehouse}, "
                    f"{note.cost} ₽, {note.days} d{source}"
                )
        return None
    return None


def _note(order: Order, shipment: Shipment, at: datetime, actor: str) -> None:
    where = f" in wave {shipment.wave}" if shipment.wave else ""
    order.track_fulfilment(
        order.fulfilment,
        at,
        actor,
        "shipment_released",
        f"released to {shipment.warehouse_code} for picking as shipment {shipment.number}{where}",
        shipment_id=shipment.id,
        warehouse=shipment.warehouse_code,
    )


def release_order(
    uow: UnitOfWork,
    order_id: int,
    warehouse: str,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[list[Shipment]] | None = None,
) -> list[Shipment]:
    """Send one order to a warehouse for picking on its own (its pick list); returns its
    pending shipments there (one per parcel group), made now or before."""

    def work(uow: UnitOfWork) -> list[Shipment]:
        at = clock()
        site = warehouse_of(uow, warehouse)
        order_of(uow, order_id, lock=False)
        ready = uow.shipments.releasable(site.id, order_ids=[order_id], limit=50)
        if not ready:
            why = uow.shipments.why_not_releasable(order_id)
            if why is not None:
                raise OrderNotReleasable(order_id=order_id, why=why)
            pending = [
                s
                for s in uow.shipments.for_order(order_id)
                if s.warehouse_id == site.id and s.status is ShipmentStatus.PENDING
            ]
            if pending:
                return pending
            raise NothingToPick(order_id=order_id, warehouse=site.code)
        return release(uow, site, ready, at, str(actor))

    return atomically_once(uow, once, work)


def create_wave(
    uow: UnitOfWork,
    warehouse: str,
    actor: Actor,
    *,
    max_orders: int = 50,
    order_ids: Sequence[int] | None = None,
    cutoff: datetime | None = None,
    clock: Clock = utc_now,
    once: Once[WaveView] | None = None,
) -> WaveView:
    """A wave of the most urgent orders ready at the warehouse (or of these orders; with a
    ``cutoff``, of those placed before it): a pending shipment each, picked together and
    sorted into their slots in this order."""
    _check_limit(max_orders)
    if order_ids is not None and len(order_ids) > MAX_WAVE_ORDERS:
        raise InvalidInput([FieldError("orders", f"at most {MAX_WAVE_ORDERS} orders", "too-many")])

    def work(uow: UnitOfWork) -> WaveView:
        at = clock()
        who = str(actor)
        site = warehouse_of(uow, warehouse)
        ready = uow.shipments.releasable(
            site.id, order_ids=order_ids, limit=max_orders, cutoff=cutoff
        )
        if order_ids is not None:
            missing = sorted(set(order_ids) - {r.order_id for r in ready})
            for order_id in missing:
                why = uow.shipments.why_not_releasable(order_id) or (
                    f"nothing it holds at {site.code} waits to be picked"
                )
                raise OrderNotReleasable(order_id=order_id, why=why)
        if not ready:
            raise InvalidInput(
                [FieldError("warehouse", f"no order waits to be picked at {site.code}", "empty")]
            )
        wave = Wave(None, "", site.id, site.code, WaveStatus.OPEN, at, at, who)
        uow.waves.add(wave)
        made = release(uow, site, ready, at, who, wave)
        wave.shipment_ids = [s.id for s in made if s.id is not None]
        uow.record(
            WaveCreated(
                occurred_at=at,
                wave=wave.number,
                warehouse=site.code,
                shipments=list(wave.shipment_ids),
                orders=[s.order_id for s in made],
            )
        )
        for shipment in made:
            shipment.items = uow.shipments.open_items(
                shipment.order_id, shipment.warehouse_id, shipment.parcel_group
            )
        return WaveView(wave, made, merge(wave_slots(wave, made)))

    return atomically_once(uow, once, work)
