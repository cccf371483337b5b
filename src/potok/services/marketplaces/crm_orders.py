"""Telling a CRM (RetailCRM) Potok's orders of the other channels - web shop, phone,
marketplaces - so that its managers see every order, its status and its payment.

An outbox consumer per connection (``crm-orders/<code>``), run by the dispatcher after
commit: it reads the order events committed since its cursor, gathers the orders they
touched (an order changed five times in the window is told once) and tells the CRM each
one whole, as it is now - new ones (an ``order.created`` in the window) created, the
others brought up to date. Telling an order twice leaves the CRM as right as once, so
the cursor moves only after the CRM answered: a CRM that cannot be reached keeps the
cursor where it was and is tried again after a growing pause. An order the CRM refuses
(an unknown status code, a bad phone) goes to the connection's journal
(``push-failed``, ``potok/<order id>``) and is told again with every later push until
the CRM takes it, which closes its journal entry. Orders of the CRM's own channel are
not told back: they came from it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast

from potok.connectors.marketplaces import (
    MIRRORS_ORDERS,
    CredentialsRefused,
    MarketplaceClients,
    MarketplaceError,
    MarketplaceNotSupported,
    MirroredLine,
    MirroredOrder,
    OrderMirror,
)
from potok.domain.kernel import Clock, utc_now
from potok.domain.marketplaces import Connection, Credentials, JournalKind
from potok.domain.orders import DeliveryMethod, Order
from potok.domain.webhooks import StoredEvent, retry_delay
from potok.services.marketplaces.journal import keep_aside
from potok.services.marketplaces.stock import BACKOFF_MAX_S, BACKOFF_S, move_cursor
from potok.services.unit_of_work import UnitOfWork, atomically

JOURNAL_PREFIX = "potok/"
"""How a Potok order the CRM refused is named in the connection's journal (the CRM's own
orders are there by their CRM id)."""
RETRIED_AT_ONCE = 500
"""Refused orders told again with one push, at most."""


def consumer_name(code: str) -> str:
    """The outbox cursor of one connection's order push."""
    return f"crm-orders/{code}"


@dataclass
class CrmPush:
    """What one push of orders to a CRM did."""

    connection: str
    events: int = 0
    created: list[str] = field(default_factory=list)  # Potok order ids
    updated: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Claimed:
    position: int
    attempts: int
    events: list[StoredEvent] | None  # None: not due yet
    last: int  # how far the read went (the end of the outbox when not due)


def push_order_changes(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    worker: str,
    *,
    every_s: float = 10.0,
    batch: int = 2000,
    lease: timedelta = timedelta(seconds=60),
    clock: Clock = utc_now,
) -> CrmPush | None:
    """Tell the CRM the orders whose events committed since this connection's cursor (and
    those it refused before), at most once per ``every_s``; None when there was nothing to
    do, the connection is no CRM, or another worker holds the cursor."""
    name = consumer_name(code)
    at = clock()

    def claim(uow: UnitOfWork) -> _Claimed | None:
        connection = uow.marketplaces.get_by_code(code)
        if connection is None or not connection.active:
            return None
        if connection.marketplace not in MIRRORS_ORDERS:
            return None
        last = uow.event_log.last_position()
        uow.consumers.ensure(name, last, at)  # a new connection starts with what comes next
        if not uow.consumers.claim(name, worker, at, lease):
            return None
        state = uow.consumers.state(name)
        assert state is not None
        position, attempts, next_at = state
        if next_at is not None and next_at > at:
            return _Claimed(position, attempts, None, last)
        read = uow.event_log.after(position, batch, prefixes=("order.",))
        return _Claimed(position, attempts, read.events, read.through)

    got = atomically(uow, claim)
    if got is None:
        return None
    try:
        if got.events is None:
            return None
        through = got.last
        outcome = push_orders(uow, clients, code, got.events, clock=clock)
        if outcome is None:
            if through > got.position:
                move_cursor(uow, name, worker, got.position, through, 0, None, at, lease)
            return None
        if outcome.error is not None:
            tries = got.attempts + 1
            pause = retry_delay(tries, BACKOFF_S, BACKOFF_MAX_S, random.random)
            retry_at = clock() + timedelta(seconds=pause)
            move_cursor(
                uow, name, worker, got.position, got.position, tries, retry_at, clock(), lease
            )
        else:
            due = clock() + timedelta(seconds=every_s) if every_s else None
            move_cursor(uow, name, worker, got.position, through, 0, due, clock(), lease)
        return outcome
    finally:
        atomically(uow, lambda uow: uow.consumers.release(name, worker))


@dataclass(frozen=True, slots=True)
class _Plan:
    connection: Connection
    credentials: Credentials
    new: list[MirroredOrder]
    changed: list[MirroredOrder]
    held: dict[str, str]  # journal names of orders refused before -> what was said


def push_orders(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    events: Sequence[StoredEvent],
    *,
    clock: Clock = utc_now,
) -> CrmPush | None:
    """Tell the CRM the orders these events touched, and those it refused before, as they
    are now; None when there is none to tell."""
    plan = atomically(uow, lambda uow: _plan(uow, code, events))
    if not plan.new and not plan.changed:
        return None
    outcome = CrmPush(plan.connection.code, events=len(events))
    try:
        client = clients.build(plan.connection, plan.credentials)
    except MarketplaceNotSupported as error:
        outcome.error = error.detail
        return outcome
    try:
        told = cast(OrderMirror, client).mirror_orders(plan.new, plan.changed)
    except (CredentialsRefused, MarketplaceError) as error:
        outcome.error = str(error)
        return outcome
    finally:
        client.close()
    outcome.created, outcome.updated = told.created, told.updated
    outcome.refused, outcome.requests = told.refused, told.requests
    _note(uow, plan, outcome, clock)
    return outcome


def _plan(uow: UnitOfWork, code: str, events: Sequence[StoredEvent]) -> _Plan:
    connection = uow.marketplaces.get_by_code(code)
    assert connection is not None
    credentials = uow.marketplaces.credentials(connection.id)
    created: set[int] = set()
    touched: dict[int, None] = {}
    for event in events:
        order_id = event.payload.get("order_id")
        if isinstance(order_id, int):
            touched[order_id] = None
            if event.type == "order.created":
                created.add(order_id)
    held: dict[str, str] = {}
    for entry in uow.marketplaces.journal(connection.id, limit=RETRIED_AT_ONCE * 4):
        number = entry.external_id.removeprefix(JOURNAL_PREFIX)
        if entry.kind is JournalKind.PUSH_FAILED and number != entry.external_id:
            held[entry.external_id] = entry.detail
            if number.isdigit() and len(held) <= RETRIED_AT_ONCE:
                touched.setdefault(int(number), None)
    new: list[MirroredOrder] = []
    changed: list[MirroredOrder] = []
    for order in uow.orders.get_many(list(touched)):
        if order.channel_code == connection.channel_code or order.id is None:
            continue  # the CRM's own orders: it has them
        told = mirrored(order)
        (new if order.id in created else changed).append(told)
    return _Plan(connection, credentials, new, changed, held)


def mirrored(order: Order, *, customer: str | None = None) -> MirroredOrder:
    """An order as a CRM is told it (``customer``: the CRM customer it belongs to, when
    the CRM was told the customer)."""
    assert order.id is not None
    delivery = order.delivery
    address = delivery.address
    city: str | None = None
    line: str | None = None
    if delivery.method is DeliveryMethod.PICKUP:
        line = f"pickup point {delivery.pickup_point_code or ''}".strip()
    else:
        city = address.city if address else None
        line = ", ".join(p for p in (address.line1, address.line2) if p) if address else None
    return MirroredOrder(
        external_id=str(order.id),
        number=f"{order.channel_code}-{order.external_id or order.id}"[:64],
        channel=order.channel_code,
        created_at=order.created_at,
        status=order.status.value,
        payment_status=order.payment_status.value,
        total=order.total.amount,
        customer_name=order.contact.name,
        phone=order.contact.phone,
        email=order.contact.email,
        city=city,
        address=line,
        delivery_price=delivery.price,
        lines=tuple(
            MirroredLine(str(ln.line_no), ln.sku, ln.name, ln.quantity, ln.unit_price, ln.vat_rate)
            for ln in order.lines
        ),
        customer=customer,
    )


def _note(uow: UnitOfWork, plan: _Plan, outcome: CrmPush, clock: Clock) -> None:
    """Refusals into the journal (an order's entry written again only when the CRM's
    words change); orders the CRM took close theirs."""
    by_id = {o.external_id: o for o in (*plan.new, *plan.changed)}
    for external_id, reason in outcome.refused.items():
        name = JOURNAL_PREFIX + external_id
        detail = f"the CRM refused Potok's order {external_id}: {reason}"
        if plan.held.get(name) == detail:
            continue  # told again, refused again for the same reason: known already
        order = by_id.get(external_id)
        payload = {"order_id": int(external_id), "number": order.number if order else ""}
        keep_aside(uow, plan.connection, name, JournalKind.PUSH_FAILED, detail, payload, clock)
    taken = [
        JOURNAL_PREFIX + i
        for i in (*outcome.created, *outcome.updated)
        if JOURNAL_PREFIX + i in plan.held
    ]
    told = [int(i) for i in (*outcome.created, *outcome.updated) if i.isdigit()]
    if taken or told:
        at = clock()

        def close(uow: UnitOfWork) -> None:
            for name in taken:
                uow.marketplaces.resolve(plan.connection.id, name, at)
            # the CRM has these from Potok: changes made there to them are taken back
            uow.crm_sync.note_told(plan.connection.id, told, at)

        atomically(uow, close)
