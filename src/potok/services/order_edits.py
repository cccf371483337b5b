"""Order edits: lines, quantities and the delivery before picking starts, units of lines
cancelled while they are in no started shipment, a whole shipment cancelled before it
leaves. What may change in which status is the table in ``domain/orders/edits.py``.

Each edit is one transaction under the order's lock and its ``If-Match`` version, and moves
only the difference: fewer units give back exactly what they held (what waited for stock
first), more units are reserved where the order already is when it can be, elsewhere when
not, and refused with ``insufficient-stock`` when the network has none - nothing changes
then. The history says what was before and after.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from potok.domain.customers import normalise_email, normalise_phone
from potok.domain.errors import (
    FieldError,
    InvalidInput,
    StaleVersion,
    TransientConflict,
    VersionRequired,
)
from potok.domain.fulfilment.errors import ShipmentsLeftTheWarehouse
from potok.domain.fulfilment.states import CANCELLABLE, ShipmentStatus, roll_up
from potok.domain.inventory.events import StockReleased, StockReserved
from potok.domain.kernel import CENT, Actor, Clock, utc_now
from potok.domain.orders import (
    AllocationState,
    Order,
    OrderLine,
    OrderNotFound,
    OrderState,
    PaymentStatus,
    Reservation,
)
from potok.domain.orders.commands import DeliveryRequest
from potok.domain.orders.edits import Change, LineInFulfilment, OrderNotEditable, allows
from potok.domain.orders.errors import NetworkCannotCover
from potok.domain.orders.model import Contact
from potok.domain.sourcing import Decision
from potok.domain.triggers import StockFreed
from potok.domain.validation import Problems
from potok.services.allocation import (
    RESERVE_ATTEMPTS,
    allocate,
    reservations_for,
    where_it_may_ship,
)
from potok.services.fulfilment.cancelling import stop_fulfilment
from potok.services.fulfilment.common import shipment_of
from potok.services.intake import check_delivery, delivery_of
from potok.services.orders import OrderView, confirm_if_paid
from potok.services.reactions import react
from potok.services.unit_of_work import UnitOfWork, atomically

MAX_QUANTITY = 1_000_000_000
MAX_LINES = 500


@dataclass(frozen=True, slots=True)
class LineChange:
    """A line's new quantity (0 removes it), or a new line by SKU."""

    quantity: int
    line_no: int | None = None
    sku: str | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ContactChange:
    """The customer's contact on the order as it should read (the customer record it
    belongs to stays)."""

    name: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class EditOrder:
    order_id: int
    expected_version: int | None
    lines: tuple[LineChange, ...] = ()
    delivery: DeliveryRequest | None = None
    reason: str | None = None
    contact: ContactChange | None = None
    payment_status: PaymentStatus | None = None  # a new payment state, as the payment route


def _locked(uow: UnitOfWork, order_id: int, expected: int | None) -> Order:
    order = uow.orders.get(order_id, lock=True)
    if order is None:
        raise OrderNotFound(order_id=order_id)
    if expected is not None and expected != order.version:
        raise StaleVersion(expected=expected, actual=order.version)
    return order


def _require(order: Order, change: Change, what: str) -> None:
    if not allows(order.status, change):
        raise OrderNotEditable(order_id=order.id, order_status=order.status.value, change=what)


def _lines_view(lines: Sequence[OrderLine]) -> list[dict[str, Any]]:
    return [
        {
            "line_no": li.line_no,
            "sku": li.sku,
            "quantity": li.quantity,
            "unit_price": str(li.unit_price),
        }
        for li in lines
    ]


def _give_back(
    uow: UnitOfWork, order: Order, released: Sequence[Reservation], at: datetime, why: str
) -> None:
    """Released units back to stock (their serial numbers by name)."""
    if not released:
        return
    quantities: dict[Any, int] = {}
    for r in released:
        quantities[r.stock_id] = quantities.get(r.stock_id, 0) + r.quantity
    uow.stock.release(quantities, at)
    assert order.id is not None
    for r in released:
        if r.serials:
            uow.stock.free_named_serials(order.id, r.stock_id, r.serials, at)
    uow.record(
        StockReleased(
            occurred_at=at, order_id=order.id, items=[r.summary() for r in released], reason=why
        )
    )


def _shrink(order: Order, line_no: int, by: int, at: datetime) -> list[Reservation]:
    """Fewer units of a line: those waiting for stock go first, then reserved ones."""
    waiting = max(order.uncovered_quantity(line_no), 0)
    reserved = max(by - waiting, 0)
    return order.release_units(line_no, reserved, at) if reserved else []


# ---------------------------------------------------------------------- edits


def edit_order(
    uow: UnitOfWork, command: EditOrder, actor: Actor, *, clock: Clock = utc_now
) -> OrderView:
    """Change lines, quantities and the delivery of an order no shipment has started, the
    customer's contact on it until it is delivered, and its payment state as the payment
    state machine allows - all in one transaction under one version."""
    if command.expected_version is None:
        raise VersionRequired(what="order")
    if (
        not command.lines
        and command.delivery is None
        and command.contact is None
        and command.payment_status is None
    ):
        raise InvalidInput(
            [
                FieldError(
                    "body", "say what to change: lines, delivery, customer or payment", "empty"
                )
            ]
        )
    contact = _checked_contact(command.contact) if command.contact is not None else None
    if command.reason is not None and len(command.reason) > 500:
        raise InvalidInput([FieldError("reason", "must be at most 500 characters", "too-long")])

    def work(uow: UnitOfWork) -> OrderView:
        order = _locked(uow, command.order_id, command.expected_version)
        edit_loaded(uow, order, command, clock(), str(actor), contact=contact)
        return OrderView(order, uow.orders.history(command.order_id))

    return atomically(uow, work)


def edit_loaded(
    uow: UnitOfWork,
    order: Order,
    command: EditOrder,
    at: datetime,
    who: str,
    *,
    contact: Contact | None = None,
) -> None:
    """Edit an order loaded (and locked) in this unit of work, as :func:`edit_order` does;
    a change the order's status no longer allows is refused (``order-not-editable``) and
    the caller's transaction rolls back. ``contact``: the command's, checked already."""
    if contact is None and command.contact is not None:
        contact = _checked_contact(command.contact)
    details: dict[str, Any] = {}
    released: list[Reservation] = []
    reserved: list[Reservation] = []
    if command.lines:
        _require(order, Change.LINES, "lines")
        before = list(order.lines)
        new_lines, shrinks = _new_lines(uow, order, command.lines)
        for line_no, by in shrinks.items():
            released.extend(_shrink(order, line_no, by, at))
        order.replace_lines(new_lines)
        details["lines_before"] = _lines_view(before)
        details["lines_after"] = _lines_view(new_lines)
    if command.delivery is not None:
        _require(order, Change.DELIVERY, "delivery")
        details["delivery"] = _change_delivery(uow, order, command.delivery)
    if contact is not None and contact != order.contact:
        _require(order, Change.CONTACT, "contact")
        changed = [
            name
            for name in ("name", "phone", "email")
            if getattr(contact, name) != getattr(order.contact, name)
        ]
        order.contact = contact
        details["contact"] = changed  # which, never the personal data itself
    if command.lines:
        reserved = _cover(uow, order, at, who)
    order.settle_allocation()
    if released:
        details["released"] = [r.summary() for r in released]
    if reserved:
        details["reserved"] = [r.summary() for r in reserved]
    if details:
        order.note_edit(at, who, command.reason, **details)
    if command.payment_status is not None and command.payment_status != order.payment_status:
        order.record_payment(command.payment_status, at, who, command.reason)
        confirm_if_paid(uow, order, at, who)
    _give_back(uow, order, released, at, f"order {order.id} edited")
    uow.orders.save(order)
    if released:
        freed = {r.product_id for r in released}
        react(uow, StockFreed(at=at, product_ids=freed, actor=str(Actor.system("backorders"))))


def _new_lines(
    uow: UnitOfWork, order: Order, changes: Sequence[LineChange]
) -> tuple[list[OrderLine], dict[int, int]]:
    """The order's lines after the changes, and by how much each existing line shrinks."""
    problems = Problems()
    by_no = {li.line_no: li for li in order.lines}
    quantities = {li.line_no: li.quantity for li in order.lines}
    added: list[tuple[int, LineChange]] = []
    seen: set[int] = set()
    for index, change in enumerate(changes):
        where = f"lines[{index}]."
        if not 0 <= change.quantity <= MAX_QUANTITY:
            problems.add(where + "quantity", f"must be from 0 to {MAX_QUANTITY}", "out-of-range")
        if change.line_no is not None:
            if change.line_no not in by_no:
                problems.add(
                    where + "line_no", f"the order has no line {change.line_no}", "unknown"
                )
            elif change.line_no in seen:
                problems.add(where + "line_no", "the line is changed twice", "duplicate")
            else:
                seen.add(change.line_no)
                quantities[change.line_no] = change.quantity
        elif change.sku is not None:
            if change.quantity == 0:
                problems.add(where + "quantity", "a new line needs units", "not-positive")
            added.append((index, change))
        else:
            problems.add(where + "line_no", "name the line, or the SKU of a new one", "required")
    products = uow.products.get_many({c.sku for _, c in added if c.sku})
    lines = [
        OrderLine(
            li.line_no,
            li.product_id,
            li.sku,
            li.name,
            quantities[li.line_no],
            li.unit_price,
            li.vat_rate,
        )
        for li in order.lines
        if quantities[li.line_no] > 0
    ]
    next_no = max(by_no, default=0) + 1
    for index, change in added:
        product = products.get(change.sku or "")
        if product is None or not product.active:
            problems.add(
                f"lines[{index}].sku",
                f"there is no product on sale with SKU '{change.sku}'",
                "unknown-sku",
            )
            continue
        price = change.unit_price if change.unit_price is not None else product.price
        problems.money(f"lines[{index}].unit_price", price)
        lines.append(
            OrderLine(
                next_no,
                product.id,
                product.sku,
                product.name,
                change.quantity,
                price.quantize(CENT),
                product.vat_rate.quantize(CENT),
            )
        )
        next_no += 1
    if not lines:
        problems.add("lines", "an order keeps at least one line; cancel it instead", "empty")
    if len(lines) > MAX_LINES:
        problems.add("lines", f"at most {MAX_LINES} lines per order", "too-many")
    if problems:
        raise InvalidInput(problems.errors)
    shrinks = {
        no: by_no[no].quantity - quantities[no]
        for no in by_no
        if quantities[no] < by_no[no].quantity
    }
    return lines, shrinks


def _checked_contact(change: ContactChange) -> Contact:
    """The contact as intake would store it: phone digits, e-mail lower-cased."""
    problems = Problems()
    phone = normalise_phone(change.phone) if change.phone else None
    if change.phone and phone is None:
        problems.add(
            "customer.phone",
            "is not a phone number (7-15 digits, e.g. +7 916 123-45-67)",
            "bad-phone",
        )
    email = normalise_email(change.email) if change.email else None
    if change.email and email is None:
        problems.add("customer.email", "is not an e-mail address", "bad-email")
    problems.text("customer.name", change.name, required=False)
    if problems:
        raise InvalidInput(problems.errors)
    return Contact(change.name.strip(), phone, email)


def _change_delivery(uow: UnitOfWork, order: Order, request: DeliveryRequest) -> dict[str, Any]:
    problems = Problems()
    point = uow.warehouses.get_by_code(request.pickup_point) if request.pickup_point else None
    chosen = check_delivery(point, request, problems)
    if problems:
        raise InvalidInput(problems.errors)
    before = order.delivery
    order.change_delivery(delivery_of(request, chosen))
    return {
        "from": before.pickup_point_code or (before.address.city if before.address else None),
        "to": request.pickup_point or (request.address.city if request.address else None),
        "method": request.method.value,
    }


def _cover(uow: UnitOfWork, order: Order, at: datetime, actor: str) -> list[Reservation]:
    """Reserve the units an edit added: where the order already holds stock when those
    warehouses can take them, else anywhere; refused when the network has none. An order
    waiting for stock is simply sourced again."""
    if not any(order.uncovered_quantity(li.line_no) > 0 for li in order.lines):
        return []
    if order.allocation is not AllocationState.RESERVED:
        if (
            order.state is not OrderState.CANCELLED
            and order.allocation is not AllocationState.UNALLOCATED
        ):
            allocate(uow, order, at, actor, trigger="edited")
        return []
    assert order.id is not None
    setup = uow.sourcing_setup()
    product_ids = {li.product_id for li in order.lines}
    weights = uow.sourcing.weights_kg(product_ids)
    today = at.astimezone(UTC).date()
    held = {r.warehouse_id for r in order.free_reservations}
    for _ in range(RESERVE_ATTEMPTS):
        candidates, positions = where_it_may_ship(
            order, *uow.stock.candidates(product_ids, order.channel_id, today=today)
        )
        outcome = None
        if held:
            near = setup.decide(
                order,
                weights,
                [c for c in candidates if c.warehouse_id in held],
                [p for p in positions if p.warehouse_id in held],
                today=today,
                uncovered=True,
            )
            if isinstance(near, Decision) and not near.transfers:
                outcome = near
        if outcome is None:
            anywhere = setup.decide(
                order, weights, candidates, positions, today=today, uncovered=True
            )
            if not isinstance(anywhere, Decision):
                raise NetworkCannotCover(
                    short_lines=len(anywhere.lines),
                    summary=", ".join(
                        f"{s.sku} needs {s.requested} more, the network has {s.available}"
                        for s in anywhere.lines
                    ),
                )
            outcome = anywhere
        if uow.stock.reserve(outcome.quantities_by_stock(), at):
            codes = {c.warehouse_id: c.code for c in candidates}
            reservations = reservations_for(uow, order, outcome.allocations, codes, at)
            order.add_reservations(reservations)
            uow.record(
                StockReserved(
                    occurred_at=at, order_id=order.id, items=[r.summary() for r in reservations]
                )
            )
            return reservations
    raise TransientConflict(detail="stock kept changing while the edit was being reserved")


# ---------------------------------------------------------------------- cancelling units


@dataclass(frozen=True, slots=True)
class CancelLines:
    order_id: int
    quantities: Mapping[int, int]  # line number to units cancelled
    reason: str
    expected_version: int | None = None


def cancel_lines(
    uow: UnitOfWork, command: CancelLines, actor: Actor, *, clock: Clock = utc_now
) -> OrderView:
    """Cancel units of lines that no started shipment holds (waiting ones first, then
    reserved ones); a line with none left goes, an order with no lines left is cancelled."""
    problems = Problems()
    problems.text("reason", command.reason, max_length=500)
    if not command.quantities:
        problems.add("lines", "name the lines and units to cancel", "required")
    for line_no, units in command.quantities.items():
        if not 1 <= units <= MAX_QUANTITY:
            problems.add(
                f"lines[{line_no}].quantity", "must be a positive whole number", "out-of-range"
            )
    if problems:
        raise InvalidInput(problems.errors)

    def work(uow: UnitOfWork) -> OrderView:
        at = clock()
        who = str(actor)
        order = _locked(uow, command.order_id, command.expected_version)
        _require(order, Change.CANCEL_LINES, "lines")
        released: list[Reservation] = []
        quantities = {li.line_no: li.quantity for li in order.lines}
        for line_no, units in sorted(command.quantities.items()):
            if line_no not in quantities:
                raise InvalidInput(
                    [FieldError("line_no", f"the order has no line {line_no}", "unknown")]
                )
            free = order.unsettled_quantity(line_no)
            if units > free:
                line = order.line(line_no)
                raise LineInFulfilment(
                    order_id=order.id,
                    line_no=line_no,
                    sku=line.sku,
                    settled=order.settled_quantity(line_no),
                    free=free,
                )
            released.extend(_shrink(order, line_no, units, at))
            quantities[line_no] -= units
        cancelled = [{"line_no": no, "quantity": q} for no, q in sorted(command.quantities.items())]
        _finish(uow, order, quantities, released, at, who, command.reason, cancelled=cancelled)
        return OrderView(order, uow.orders.history(command.order_id))

    return atomically(uow, work)


def _finish(
    uow: UnitOfWork,
    order: Order,
    quantities: Mapping[int, int],
    released: list[Reservation],
    at: datetime,
    actor: str,
    reason: str,
    **details: Any,
) -> None:
    """Lines as they are now; an order with nothing left is cancelled, else its progress
    rolled up again (the units gone may have been all it waited for)."""
    settled = {li.line_no: order.settled_quantity(li.line_no) for li in order.lines}
    kept = [
        OrderLine(
            li.line_no,
            li.product_id,
            li.sku,
            li.name,
            quantities[li.line_no],
            li.unit_price,
            li.vat_rate,
        )
        for li in order.lines
        if quantities[li.line_no] > 0 or settled[li.line_no] > 0
    ]
    if released:
        details["released"] = [r.summary() for r in released]
    assert order.id is not None
    if not kept:
        order.note_edit(at, actor, reason, **details)
        stop_fulfilment(uow, order, at, actor, reason)
        released.extend(order.cancel(at, actor, reason))
        _give_back(uow, order, released, at, f"order {order.id} cancelled")
    else:
        order.replace_lines(kept)
        order.settle_allocation()
        order.fulfilment = roll_up(
            uow.shipments.statuses(order.id).values(), outstanding=order.outstanding
        )
        order.note_edit(at, actor, reason, **details)  # with the status it leads to
        _give_back(uow, order, released, at, f"units of order {order.id} cancelled")
    uow.orders.save(order)
    if released:
        freed = {r.product_id for r in released}
        react(uow, StockFreed(at=at, product_ids=freed, actor=str(Actor.system("backorders"))))


def cancel_shipment(
    uow: UnitOfWork, shipment_id: int, reason: str, actor: Actor, *, clock: Clock = utc_now
) -> OrderView:
    """Cancel a shipment before it leaves: its units go back on the shelf and leave the
    order (the customer will not get them); the rest of the order goes on."""
    problems = Problems()
    problems.text("reason", reason, max_length=500)
    if problems:
        raise InvalidInput(problems.errors)

    def work(uow: UnitOfWork) -> OrderView:
        at = clock()
        who = str(actor)
        peek = shipment_of(uow, shipment_id)
        order = _locked(uow, peek.order_id, None)
        shipment = shipment_of(uow, shipment_id, lock=True)
        assert order.id is not None
        if shipment.status not in CANCELLABLE:
            raise ShipmentsLeftTheWarehouse(
                order_id=order.id,
                why=f"shipment {shipment.number} is {shipment.status.value}, past cancelling",
            )
        _require(order, Change.CANCEL_SHIPMENT, "shipments")
        if shipment.status is ShipmentStatus.PENDING:
            items = uow.shipments.open_items(order.id, shipment.warehouse_id, shipment.parcel_group)
            keys = {(i.line_no, i.stock_id) for i in items}
            gone = [
                r
                for r in order.free_reservations
                if r.warehouse_id == shipment.warehouse_id and (r.line_no, r.stock_id) in keys
            ]
        else:
            gone = order.unclaim(shipment_id)
        released = order.release_reservations(gone, at)
        shipment.cancel(at, who, reason)
        uow.shipments.save(shipment)
        uow.shipments.release_codes(shipment_id)
        quantities = {li.line_no: li.quantity for li in order.lines}
        for r in released:
            quantities[r.line_no] -= r.quantity
        cancelled = [{"line_no": r.line_no, "sku": r.sku, "quantity": r.quantity} for r in released]
        _finish(
            uow,
            order,
            quantities,
            released,
            at,
            who,
            reason,
            cancelled=cancelled,
            shipment_id=shipment_id,
        )
        return OrderView(order, uow.orders.history(order.id))

    return atomically(uow, work)
