"""Intake: take an order from any channel, once, and reserve its stock in the same transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from potok.domain.catalogue import Product
from potok.domain.channels import BackorderPolicy, Channel, ChannelType, ConfirmationPolicy
from potok.domain.channels.model import ChannelInactive
from potok.domain.customers import normalise_email, normalise_phone
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import CENT, Actor, Clock, ProductId, WarehouseId, as_utc, utc_now
from potok.domain.network import Warehouse, WarehouseType
from potok.domain.orders import (
    AllocationState,
    Contact,
    Delivery,
    DeliveryMethod,
    HistoryEntry,
    Order,
    OrderLine,
    OrderState,
    PaymentMethod,
    PaymentStatus,
    Shortage,
)
from potok.domain.orders.commands import MAX_LINES, DeliveryRequest, PlaceOrder
from potok.domain.orders.errors import IdempotencyKeyReused, NetworkCannotCover
from potok.domain.orders.states import ON_DELIVERY, PAID_ENOUGH
from potok.domain.sourcing import Decision, Shortfall
from potok.domain.sourcing.planner import Candidate, Position
from potok.domain.validation import MAX_AMOUNT, Problems
from potok.services.allocation import allocate
from potok.services.ports import IntakeContext
from potok.services.unit_of_work import UnitOfWork, atomically, reading

if TYPE_CHECKING:
    from potok.domain.sourcing.carriers import Lane
    from potok.services.carrier_point_ports import DirectoryPoint
    from potok.services.carrier_prices import CarrierPrices

IDEMPOTENCY_SCOPE = "orders.create"


@dataclass(frozen=True, slots=True)
class Placement:
    """What intake did: the order, whether it is new, and the sourcing outcome."""

    order: Order
    created: bool
    history: list[HistoryEntry]
    explanation: str | None = None
    shortages: tuple[Shortage, ...] = ()


@dataclass(frozen=True, slots=True)
class Replay:
    """The stored answer to a request sent again with the same Idempotency-Key."""

    status_code: int
    body: Any


Responder = Callable[[Placement], tuple[int, Any]]


def place_order(
    uow: UnitOfWork,
    command: PlaceOrder,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    respond: Responder | None = None,
    prices: CarrierPrices | None = None,
) -> Placement | Replay:
    """Validate, deduplicate, reserve and confirm per channel policy, in one transaction.

    With an Idempotency-Key, ``respond`` renders the answer that is stored with the
    order, so that a replay returns exactly the first answer. With ``prices``, carriers
    the channel's routing rules choose among are asked for their prices first, outside
    the transaction (and only when some rules choose carriers).
    """
    if prices is not None and prices.wanted():
        prices.warm(reading(uow, lambda uow: carrier_lanes(uow, command, clock())))

    def work(uow: UnitOfWork) -> Placement | Replay:
        at = clock()
        key = command.idempotency_key
        context = _load(uow, command, at, (IDEMPOTENCY_SCOPE, key) if key is not None else None)
        stored = context.stored_answer
        if key is not None and stored is not None:
            if stored.request_hash != command.request_hash:
                raise IdempotencyKeyReused(key=key)
            return Replay(stored.status_code, stored.response)
        placement = _place(uow, command, actor, at, context, one_order=True)
        if key is not None and respond is not None:
            status_code, body = respond(placement)
            # kept with the order's own rows, in the commit's round trip where it can be
            uow.idempotency.stage(
                IDEMPOTENCY_SCOPE, key, command.request_hash or "", status_code, body, at
            )
        return placement

    return atomically(uow, work)


def carrier_lanes(uow: UnitOfWork, command: PlaceOrder, at: datetime) -> list[Lane]:
    """The lanes sourcing the order would price by carriers: every location that may
    ship it, to its destination, by each carrier its channel's rules name; none when the
    rules keep to the tariff table or the request is not good enough to price."""
    channel = uow.channels.get_by_code(command.channel)
    if channel is None or not command.lines:
        return []
    products = uow.products.get_many([line.sku for line in command.lines])
    units = [
        (products[line.sku].id, line.quantity) for line in command.lines if line.sku in products
    ]
    if not units:
        return []
    point: Warehouse | None = None
    code = command.delivery.pickup_point
    if command.delivery.method is DeliveryMethod.PICKUP and code:
        point = uow.warehouses.get_by_code(code)
        if point is None:
            point = directory_point(uow, code)
        if point is None:
            return []
    elif command.delivery.address is None:
        return []
    candidates, positions = uow.stock.candidates(
        {p for p, _ in units}, channel.id, today=at.astimezone(UTC).date()
    )
    weights = {p.id: p.weight_g / 1000 for p in products.values() if p.weight_g}
    return uow.sourcing_setup().lanes_for(
        channel.id,
        delivery_of(command.delivery, point),
        units,
        weights,
        {c.code: (c.latitude, c.longitude) for c in candidates},
        held=held_by_code(candidates, positions),
    )


def held_by_code(
    candidates: Iterable[Candidate], positions: Iterable[Position]
) -> dict[str, dict[ProductId, int]]:
    """What each candidate holds of the order's products: a split's parcels are priced by
    the part each may carry."""
    codes = {c.warehouse_id: c.code for c in candidates}
    held: dict[str, dict[ProductId, int]] = {}
    for position in positions:
        code = codes.get(position.warehouse_id)
        if code is not None and position.available > 0:
            have = held.setdefault(code, {})
            have[position.product_id] = have.get(position.product_id, 0) + position.available
    return held


def place_within(uow: UnitOfWork, command: PlaceOrder, actor: Actor, at: datetime) -> Placement:
    """Intake inside a transaction the caller holds (connectors record their link to the
    order in the same commit); a repeat of an order taken before answers with it."""
    return _place(uow, command, actor, at, _load(uow, command, at, None))


def _load(
    uow: UnitOfWork, command: PlaceOrder, at: datetime, idempotency: tuple[str, str] | None
) -> IntakeContext:
    phone = normalise_phone(command.customer_phone) if command.customer_phone else None
    email = normalise_email(command.customer_email) if command.customer_email else None
    pickup = command.delivery.pickup_point
    return uow.intake.load(
        channel=command.channel,
        skus=[line.sku for line in command.lines],
        external_id=command.external_id,
        customer=(command.customer_name.strip(), phone, email) if phone or email else None,
        pickup_point=pickup if command.delivery.method is DeliveryMethod.PICKUP else None,
        at=at,
        idempotency=idempotency,
    )


def _place(
    uow: UnitOfWork,
    command: PlaceOrder,
    actor: Actor,
    at: datetime,
    context: IntakeContext,
    *,
    one_order: bool = False,
) -> Placement:
    """``one_order``: the transaction takes this order alone, so its stock may be reserved
    by the commit itself (one round trip less, stock rows locked only while committing)."""
    phone = normalise_phone(command.customer_phone) if command.customer_phone else None
    email = normalise_email(command.customer_email) if command.customer_email else None
    name = command.customer_name.strip()
    pickup = command.delivery.pickup_point
    if pickup and context.pickup_point is None and command.delivery.method is DeliveryMethod.PICKUP:
        context = _with_directory_point(uow, context, pickup, command)
    if context.channel is not None and context.existing_order_id is not None:
        # a repeat of an order taken before is answered with it, whatever changed since
        existing = uow.orders.get(context.existing_order_id)
        assert existing is not None
        return Placement(
            existing, created=False, history=uow.orders.history(context.existing_order_id)
        )
    channel, lines, pickup_point = _validate(context, command)
    method = method_of(channel, command.payment_method)
    ship_from = ship_from_code = None
    if command.ship_from is not None:
        location = uow.warehouses.get_by_code(command.ship_from)
        if location is None:
            raise InvalidInput(
                [FieldError("ship_from", f"there is no location '{command.ship_from}'", "unknown")]
            )
        ship_from, ship_from_code = location.id, location.code

    order = Order(
        id=context.fresh_order_id,
        channel_id=channel.id,
        channel_code=channel.code,
        external_id=command.external_id,
        currency=channel.currency,
        contact=Contact(name, phone, email),
        delivery=delivery_of(command.delivery, pickup_point),
        lines=lines,
        state=OrderState.NEW,
        allocation=AllocationState.UNALLOCATED,
        payment_status=command.payment_status,
        payment_method=method,
        created_at=at,
        updated_at=at,
        customer_id=context.customer_id,
        priority=command.priority,
        promised_at=as_utc(command.promised_at) if command.promised_at else None,
        payment_due_at=_payment_due(channel, command.payment_status, method, at),
        comment=command.comment,
        ship_from=ship_from,
        ship_from_code=ship_from_code,
    )
    who = str(actor)
    paid_by = {"payment_method": method.value} if method else {}
    order.start_intake(who, channel=channel.code, external_id=command.external_id, **paid_by)
    _confirm_by_policy(order, channel, at, who)
    outcome = allocate(
        uow,
        order,
        at,
        who,
        first_read=(context.candidates, context.positions),
        trigger="intake",
        setup=context.sourcing,
        weights_kg={p.id: p.weight_g / 1000 for p in context.products.values() if p.weight_g},
        reserve_at_commit=one_order,
    )
    if isinstance(outcome, Shortfall) and channel.backorders is BackorderPolicy.REJECT:
        raise NetworkCannotCover(
            short_lines=len(outcome.lines),
            summary=", ".join(
                f"{s.sku} needs {s.requested}, the network has {s.available}" for s in outcome.lines
            ),
            shortages=[
                {
                    "line_no": s.line_no,
                    "sku": s.sku,
                    "requested": s.requested,
                    "available": s.available,
                }
                for s in outcome.lines
            ],
        )
    order.finish_intake(at)
    uow.orders.add(order)
    if isinstance(outcome, Decision):
        return Placement(
            order, created=True, history=order.history, explanation=outcome.explanation
        )
    return Placement(
        order,
        created=True,
        history=order.history,
        shortages=tuple(
            Shortage(s.line_no, s.sku, s.requested, s.available) for s in outcome.lines
        ),
    )


def _validate(
    context: IntakeContext, command: PlaceOrder
) -> tuple[Channel, list[OrderLine], Warehouse | None]:
    return validate_request(command, context.channel, context.products, context.pickup_point)


def validate_request(
    command: PlaceOrder,
    channel: Channel | None,
    products: Mapping[str, Product],
    point: Warehouse | None,
) -> tuple[Channel, list[OrderLine], Warehouse | None]:
    """Everything wrong with the request at once, each error naming its field; ``channel``,
    ``products`` and ``point`` are what its codes name (None, or left out, when unknown)."""
    problems = Problems()
    if channel is None:
        problems.add("channel", f"there is no channel '{command.channel}'", "unknown-channel")
    elif not channel.active:
        raise ChannelInactive(channel=channel.code)
    else:
        if command.currency is not None and command.currency != channel.currency:
            problems.add(
                "currency",
                f"must be {channel.currency}, the currency of channel '{channel.code}'",
                "currency-mismatch",
            )
        method = command.payment_method
        if method is not None and not channel.takes(method):
            taken = ", ".join(m.value for m in channel.payment_methods)
            problems.add(
                "payment_method",
                f"channel '{channel.code}' does not take {method.value} (it takes {taken})",
                "payment-method-not-taken",
            )
    if not command.lines:
        problems.add("lines", "an order needs at least one line", "required")
    elif len(command.lines) > MAX_LINES:
        problems.add("lines", f"at most {MAX_LINES} lines per order", "too-many")
    if command.external_id is not None and not 1 <= len(command.external_id) <= 128:
        problems.add("external_id", "must be 1-128 characters", "bad-length")
    if command.customer_phone and normalise_phone(command.customer_phone) is None:
        problems.add(
            "customer.phone",
            "is not a phone number (7-15 digits, e.g. +7 916 123-45-67)",
            "bad-phone",
        )
    if command.customer_email and normalise_email(command.customer_email) is None:
        problems.add("customer.email", "is not an e-mail address", "bad-email")
    problems.text("customer.name", command.customer_name, required=False)
    problems.text("comment", command.comment, max_length=2000, required=False)
    if not 0 <= command.priority <= 9:
        problems.add("priority", "must be from 0 (normal) to 9 (most urgent)", "out-of-range")

    lines: list[OrderLine] = []
    for index, request in enumerate(command.lines):
        field = f"lines[{index}]."
        product = products.get(request.sku)
        if request.quantity <= 0:
            problems.add(field + "quantity", "must be a positive whole number", "not-positive")
        if product is None:
            problems.add(
                field + "sku", f"there is no product with SKU '{request.sku}'", "unknown-sku"
            )
            continue
        if not product.active:
            problems.add(
                field + "sku", f"product '{request.sku}' is not on sale (inactive)", "inactive-sku"
            )
            continue
        unit_price = request.unit_price if request.unit_price is not None else product.price
        vat_rate = request.vat_rate if request.vat_rate is not None else product.vat_rate
        problems.money(field + "unit_price", unit_price)
        problems.vat_rate(field + "vat_rate", vat_rate)
        if problems:
            continue
        unit_price, vat_rate = unit_price.quantize(CENT), vat_rate.quantize(CENT)
        lines.append(
            OrderLine(
                line_no=index + 1,
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                quantity=request.quantity,
                unit_price=unit_price,
                vat_rate=vat_rate,
            )
        )

    pickup_point = check_delivery(point, command.delivery, problems)
    total = sum((line.unit_price * line.quantity for line in lines), command.delivery.price)
    if not problems and total >= MAX_AMOUNT:
        problems.add(
            "lines",
            f"the order's total {total:.2f} is more than Potok can store (under {MAX_AMOUNT:,})",
            "too-large",
        )
    if problems:
        raise InvalidInput(problems.errors)
    assert channel is not None
    return channel, lines, pickup_point


def check_delivery(
    point: Warehouse | None, delivery: DeliveryRequest, problems: Problems
) -> Warehouse | None:
    """A delivery's fields checked (``point``: the pickup point its code names, if any);
    returns the pickup point when it is one customers may collect from."""
    problems.money("delivery.price", delivery.price)
    problems.vat_rate("delivery.vat_rate", delivery.vat_rate)
    if delivery.method is DeliveryMethod.COURIER:
        address = delivery.address
        if address is None:
            problems.add("delivery.address", "a courier delivery needs an address", "required")
        else:
            problems.text("delivery.address.city", address.city, max_length=120)
            problems.text("delivery.address.line1", address.line1)
            problems.coordinates("delivery.address.", address.latitude, address.longitude)
        return None
    if not delivery.pickup_point:
        problems.add(
            "delivery.pickup_point", "a pickup delivery needs a pickup point code", "required"
        )
        return None
    if point is None:
        problems.add(
            "delivery.pickup_point",
            f"there is no pickup point '{delivery.pickup_point}'",
            "unknown-pickup-point",
        )
    elif not point.hands_over_to_customers:
        problems.add(
            "delivery.pickup_point",
            f"'{point.code}' is a {point.type.value}, not a store or pickup point",
            "not-a-pickup-point",
        )
    elif not point.active:
        problems.add(
            "delivery.pickup_point",
            f"pickup point '{point.code}' is closed (inactive)",
            "inactive-pickup-point",
        )
    else:
        return point
    return None


def _with_directory_point(
    uow: UnitOfWork, context: IntakeContext, code: str, command: PlaceOrder
) -> IntakeContext:
    """A pickup point that is no location of Potok's may be a carrier's point from the
    directory (``MSK123``, or ``cdek:MSK123`` when several carriers use the code); one
    that cannot take the order's weight is refused, naming its limit, and a locker none of
    whose cells holds one of the order's products (by the catalogue's dimensions)."""
    from potok.services.carrier_points import point_for_delivery

    found = point_for_delivery(uow, code)
    if found is None:
        return context
    refusal = _payment_refusal(found, command.payment_method)
    if refusal is not None:
        raise InvalidInput([FieldError("payment_method", *refusal)])
    limit = found.weight_max_g
    if limit is not None:
        weight = sum(
            (p.weight_g or 0) * line.quantity
            for line in command.lines
            if (p := context.products.get(line.sku)) is not None
        )
        if weight > limit:
            raise InvalidInput(
                [
                    FieldError(
                        "delivery.pickup_point",
                        f"{found.carrier} point {found.code} takes parcels up to "
                        f"{limit / 1000:g} kg; this order weighs {weight / 1000:g} kg: "
                        "choose another point or delivery by courier",
                        "over-weight-limit",
                    )
                ]
            )
    for line in command.lines:
        product = context.products.get(line.sku)
        sides = product.sides_mm if product is not None else None
        if sides is not None and not found.fits(*sides):
            cells = ", ".join("×".join(f"{s / 10:g}" for s in c) for c in found.cell_sizes())
            size = "×".join(f"{s / 10:g}" for s in sides)
            raise InvalidInput(
                [
                    FieldError(
                        "delivery.pickup_point",
                        f"{line.sku} ({size} cm) fits no cell of {found.carrier} locker "
                        f"{found.code} ({cells} cm): choose another point or delivery by "
                        "courier",
                        "does-not-fit-cells",
                    )
                ]
            )
    return replace(context, pickup_point=_as_location(found))


def _payment_refusal(point: DirectoryPoint, method: PaymentMethod | None) -> tuple[str, str] | None:
    """Why a carrier's point cannot take an order paid this way (message, code), if it
    cannot: one paid on delivery needs a point that collects cash on delivery, by card a
    point with a card terminal."""
    if method not in ON_DELIVERY:
        return None
    where = f"{point.carrier} point {point.code}"
    if not point.cash_on_delivery:
        return (
            f"{where} does not collect payment on delivery: choose another point, "
            "or have the order paid before it ships",
            "point-takes-no-cash-on-delivery",
        )
    if method is PaymentMethod.CARD_ON_DELIVERY and not point.cards:
        return (
            f"{where} takes no cards: choose another point, or cash on delivery",
            "point-takes-no-cards",
        )
    return None


def directory_point(uow: UnitOfWork, code: str) -> Warehouse | None:
    """A carrier's point from the directory, as the pickup point of an order."""
    from potok.services.carrier_points import point_for_delivery

    point = point_for_delivery(uow, code)
    return None if point is None else _as_location(point)


def _as_location(point: DirectoryPoint) -> Warehouse:
    return Warehouse(
        id=WarehouseId(0),  # not a location of Potok's: the order keeps no link to one
        code=point.code,
        name=point.name,
        type=WarehouseType.PICKUP_POINT,
        city=point.city,
        address=point.address,
        latitude=point.latitude,
        longitude=point.longitude,
        priority=0,
        active=point.active,
        channels=(),
        created_at=point.synced_at,
        updated_at=point.synced_at,
    )


def delivery_of(request: DeliveryRequest, pickup_point: Warehouse | None) -> Delivery:
    """The order's delivery from a checked request."""
    price, vat_rate = request.price.quantize(CENT), request.vat_rate.quantize(CENT)
    if pickup_point is not None:
        return Delivery(
            method=DeliveryMethod.PICKUP,
            pickup_point_id=pickup_point.id or None,  # 0: a carrier's point, not Potok's
            pickup_point_code=pickup_point.code,
            price=price,
            vat_rate=vat_rate,
            latitude=pickup_point.latitude,
            longitude=pickup_point.longitude,
        )
    address = request.address
    return Delivery(
        method=DeliveryMethod.COURIER,
        address=address,
        price=price,
        vat_rate=vat_rate,
        latitude=address.latitude if address else None,
        longitude=address.longitude if address else None,
    )


CHANNEL_METHODS = {
    ChannelType.MARKETPLACE: PaymentMethod.MARKETPLACE,  # the buyer paid the marketplace
    ChannelType.POS: PaymentMethod.IN_STORE,  # taken at the till, by card or in cash
}
"""How an order that does not say is paid, by its channel's type: lists and reports then
show marketplace and till orders paid their own way rather than unknown."""


def method_of(channel: Channel, given: PaymentMethod | None) -> PaymentMethod | None:
    """The order's payment method: the one it names, else its channel's own way (a
    marketplace's, a till's) when the channel takes it; None when neither says."""
    if given is not None:
        return given
    own = CHANNEL_METHODS.get(channel.type)
    return own if own is not None and channel.takes(own) else None


def _payment_due(
    channel: Channel, payment: PaymentStatus, method: PaymentMethod | None, at: datetime
) -> datetime | None:
    """When an unpaid order's reservations lapse; never for one paid on delivery."""
    if channel.payment_deadline_minutes is None or payment in PAID_ENOUGH:
        return None
    if method in ON_DELIVERY and payment is PaymentStatus.PENDING:
        return None
    return at + timedelta(minutes=channel.payment_deadline_minutes)


def _confirm_by_policy(order: Order, channel: Channel, at: datetime, actor: str) -> None:
    policy = channel.confirmation
    if policy is ConfirmationPolicy.AUTO or (
        policy is ConfirmationPolicy.WHEN_PAID and not order.waits_for_payment
    ):
        order.confirm(
            at,
            actor,
            automatically=True,
            reason=f"channel '{channel.code}' confirms {_policy_words(policy)}",
        )


def _policy_words(policy: ConfirmationPolicy) -> str:
    return "on arrival" if policy is ConfirmationPolicy.AUTO else "paid orders"
