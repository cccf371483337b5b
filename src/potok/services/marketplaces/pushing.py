"""Telling the marketplace what happened in Potok: an imported order packed (WB: added to
the open supply with its marking codes, IMEI and UIN; Ozon: collected and read back), handed
over (WB: its supply goes to delivery once every order in it has left), cancelled in Potok
(cancelled there too, Ozon with a reason from its list); the sticker of each order told
'packed' is fetched once and kept (WB's assembly task sticker).

What was told is kept on the order's link (``pushed``), so each step is sent once and a
step the marketplace refused is tried again at the next poll, its reason in the journal.
Potok's state is compared with the link's at every poll; nothing here waits for events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from potok.connectors.marketplaces import (
    ANSWERS_CANCELLATIONS,
    CONFIRMS_ORDERS,
    PRINTS_STICKERS,
    TELLS_TRACKING,
    CredentialsRefused,
    MarketplaceClient,
    MarketplaceRefused,
    MarketplaceState,
    Packed,
    PackedItem,
)
from potok.domain.fulfilment import Shipment, ShipmentStatus
from potok.domain.fulfilment.identifiers import UnitCode, UnitIdentifier
from potok.domain.kernel import Clock
from potok.domain.marketplaces import Connection, JournalKind
from potok.services.marketplace_ports import LinkedOrder
from potok.services.marketplaces.journal import keep_aside
from potok.services.marketplaces.outcome import PollOutcome
from potok.services.marketplaces.refusals import alert_update_refused
from potok.services.unit_of_work import UnitOfWork, atomically, reading

PUSHED_AT_ONCE = 10_000
STICKERS_AT_ONCE = 1_000

_CANCELLABLE_THERE = {MarketplaceState.NEW.value, MarketplaceState.IN_WORK.value}


@dataclass
class _Plan:
    cancel: list[str] = field(default_factory=list)
    pack: list[Packed] = field(default_factory=list)
    hand_over: list[LinkedOrder] = field(default_factory=list)
    left_after_packing: set[str] = field(default_factory=set)


def push_progress(
    uow: UnitOfWork,
    connection: Connection,
    client: MarketplaceClient,
    outcome: PollOutcome,
    clock: Clock,
) -> None:
    """Send the marketplace every step Potok took since the last poll."""
    answered = _answer_cancellations(uow, connection, client, outcome, clock)
    _confirm(uow, connection, client, outcome, clock)
    plan = reading(uow, lambda uow: _plan(uow, connection))
    for external_id in plan.cancel:
        if external_id in answered:
            continue  # the customer's request accepted: Market cancels it itself
        try:
            client.cancel(external_id)
        except MarketplaceRefused as refused:
            _failed(uow, connection, external_id, "cancel", refused.detail, outcome, clock)
            continue
        _record(uow, connection, [external_id], "cancelled", clock)
        outcome.cancelled_there.append(external_id)
    if plan.pack:
        batch = reading(uow, lambda uow: uow.marketplaces.open_supply(connection.id))
        packed = client.pack(plan.pack, batch)
        for external_id, reason in packed.failed.items():
            _failed(uow, connection, external_id, "pack", reason, outcome, clock)
        outcome.waiting.extend(packed.waiting)
        done = [
            p.external_id
            for p in plan.pack
            if p.external_id not in packed.failed and p.external_id not in packed.waiting
        ]
        if done:
            _record(uow, connection, done, "packed", clock, supply=packed.batch)
            outcome.packed.extend(done)
        left = [i for i in done if i in plan.left_after_packing]
        if left:
            links = reading(
                uow,
                lambda uow: [uow.marketplaces.linked(connection.id, i) for i in left],
            )
            plan.hand_over.extend(link for link in links if link is not None)
    _hand_over(uow, connection, client, plan.hand_over, outcome, clock)
    _fetch_stickers(uow, connection, client, outcome, clock)


WAITING_CONFIRMATION = "on_confirmation"
"""Avito's status of an order the seller has not confirmed yet."""


def _confirm(
    uow: UnitOfWork,
    connection: Connection,
    client: MarketplaceClient,
    outcome: PollOutcome,
    clock: Clock,
) -> None:
    """Confirm on the marketplace each imported order it still waits to be confirmed (Avito:
    the seller takes it, within its ``confirmTill``); an order Potok cancelled meanwhile is
    cancelled there instead, by the plan. The next poll reads the new status back."""
    if connection.marketplace not in CONFIRMS_ORDERS:
        return
    confirm = getattr(client, "confirm", None)
    progress = reading(uow, lambda uow: uow.marketplaces.progress(connection.id, PUSHED_AT_ONCE))
    for item in progress:
        link = item.link
        if item.cancelled or link.status != WAITING_CONFIRMATION or confirm is None:
            continue
        try:
            confirm(link.external_id)
        except CredentialsRefused:
            raise
        except MarketplaceRefused as refused:
            _failed(uow, connection, link.external_id, "confirm", refused.detail, outcome, clock)
            continue
        outcome.confirmed.append(link.external_id)


CANCEL_REQUESTED = "/cancel-requested"
"""How a marketplace's status words say a customer asked to cancel (Market's
``cancelRequested``)."""


def _answer_cancellations(
    uow: UnitOfWork,
    connection: Connection,
    client: MarketplaceClient,
    outcome: PollOutcome,
    clock: Clock,
) -> set[str]:
    """Answer each customer's request to cancel by where the Potok order stands: while no
    parcel of it has left, the Potok order is cancelled (its stock goes back) and the
    request accepted; once one has left, the request is refused (``ORDER_IN_DELIVERY``).
    Returns the orders whose request was accepted."""
    if connection.marketplace not in ANSWERS_CANCELLATIONS:
        return set()
    answer = getattr(client, "answer_cancellation", None)
    links = reading(uow, lambda uow: uow.marketplaces.open_links(connection.id, PUSHED_AT_ONCE))
    asked = [link for link in links if link.status.endswith(CANCEL_REQUESTED)]
    accepted: set[str] = set()
    if answer is None or not asked:
        return accepted
    for link in asked:
        left = reading(uow, partial(_left, order_id=link.order_id))
        agree = not left and _cancelled_here(uow, connection, link.order_id)
        try:
            if agree:
                answer(link.external_id, accepted=True)
            else:
                answer(link.external_id, accepted=False, reason="ORDER_IN_DELIVERY")
        except CredentialsRefused:
            raise
        except MarketplaceRefused as refused:
            step = "accept cancellation" if agree else "refuse cancellation"
            _failed(uow, connection, link.external_id, step, refused.detail, outcome, clock)
            continue
        if agree:
            _record(uow, connection, [link.external_id], "cancelled", clock)
            accepted.add(link.external_id)
            outcome.cancelled_there.append(link.external_id)
    return accepted


def _left(uow: UnitOfWork, *, order_id: int) -> bool:
    """Whether a parcel of the order has left the warehouse."""
    return any(s.status.value in _LEFT for s in uow.shipments.for_order(order_id))


def _cancelled_here(uow: UnitOfWork, connection: Connection, order_id: int) -> bool:
    """Cancel the Potok order at the customer's request; whether it is cancelled now."""
    from potok.domain.errors import PotokError, TransientConflict
    from potok.domain.orders import OrderState
    from potok.domain.orders.commands import CancelOrder
    from potok.services.marketplaces.polling import actor_of
    from potok.services.orders import cancel_order, get_order

    if get_order(uow, order_id).order.state is OrderState.CANCELLED:
        return True
    try:
        view = cancel_order(
            uow,
            CancelOrder(order_id=order_id, reason="the customer asked Market to cancel"),
            actor_of(connection),
        )
    except TransientConflict:
        raise
    except PotokError:
        return False
    return view.order.state is OrderState.CANCELLED


_LEFT = {
    "handed_over",
    "in_transit",
    "ready_for_pickup",
    "delivered",
    "failed_delivery",
    "returning",
    "returned_to_sender",
}


def _fetch_stickers(
    uow: UnitOfWork,
    connection: Connection,
    client: MarketplaceClient,
    outcome: PollOutcome,
    clock: Clock,
) -> None:
    """The marketplace's sticker of every order told 'packed' (or further) whose sticker is
    not kept yet: fetched once and kept; one the marketplace refused or left out is asked
    for again at the next poll."""
    if connection.marketplace not in PRINTS_STICKERS:
        return
    wanted = reading(
        uow, lambda uow: uow.marketplaces.without_sticker(connection.id, STICKERS_AT_ONCE)
    )
    if not wanted:
        return
    try:
        stickers = client.stickers(wanted)
    except CredentialsRefused:
        raise  # the connection turns red, not each order
    except MarketplaceRefused as refused:
        for external_id in wanted:
            _failed(uow, connection, external_id, "stickers", refused.detail, outcome, clock)
        return
    asked = set(wanted)
    stickers = [s for s in stickers if s.external_id in asked]
    if not stickers:
        return

    def keep(uow: UnitOfWork) -> None:
        at = clock()
        uow.marketplaces.keep_stickers(connection.id, stickers, at)
        for sticker in stickers:  # a refusal of an earlier poll is over
            uow.marketplaces.resolve(connection.id, sticker.external_id, at)

    atomically(uow, keep)
    outcome.stickers.extend(s.external_id for s in stickers)


def _plan(uow: UnitOfWork, connection: Connection) -> _Plan:
    plan = _Plan()
    for progress in uow.marketplaces.progress(connection.id, PUSHED_AT_ONCE):
        link = progress.link
        if progress.cancelled:
            if link.state in _CANCELLABLE_THERE:
                plan.cancel.append(link.external_id)
            continue
        if not progress.shipments or progress.packed < progress.shipments:
            continue
        left = progress.left == progress.shipments
        if link.pushed is None:
            shipments = [
                s
                for s in uow.shipments.for_order(link.order_id)
                if s.status is not ShipmentStatus.CANCELLED
            ]
            plan.pack.append(_packed(link, shipments))
            if left:
                plan.left_after_packing.add(link.external_id)
        elif link.pushed == "packed" and left:
            plan.hand_over.append(link)
    return plan


def _packed(link: LinkedOrder, shipments: Sequence[Shipment]) -> Packed:
    """The order's items by the marketplace's ids, and its units' codes."""
    item_of = {int(i["line_no"]): str(i.get("item") or "") for i in link.items}
    quantities: dict[str, int] = {}
    unit_codes: dict[str, list[UnitCode]] = {}
    for shipment in shipments:
        key_of = {item.item_no: item_of.get(item.line_no, "") for item in shipment.items}
        for item in shipment.items:
            key = key_of[item.item_no]
            quantities[key] = quantities.get(key, 0) + item.packed
        for packed in shipment.codes:
            unit_codes.setdefault(key_of.get(packed.item_no, ""), []).append(packed.code)
    codes = [c.code for s in shipments for c in s.codes]

    def of(item: str, kind: UnitIdentifier) -> tuple[str, ...]:
        return tuple(c.value for c in unit_codes.get(item, ()) if c.kind is kind)

    return Packed(
        external_id=link.external_id,
        items=[
            PackedItem(
                item,
                quantity,
                marking_codes=of(item, UnitIdentifier.MARKING),
                imeis=of(item, UnitIdentifier.IMEI),
                uins=of(item, UnitIdentifier.UIN),
            )
            for item, quantity in quantities.items()
            if quantity
        ],
        marking_codes=tuple(c.value for c in codes if c.kind is UnitIdentifier.MARKING),
        imeis=tuple(c.value for c in codes if c.kind is UnitIdentifier.IMEI),
        uins=tuple(c.value for c in codes if c.kind is UnitIdentifier.UIN),
        meta={
            str(k): str(v)
            for i in link.items
            if isinstance(i.get("meta"), dict)
            for k, v in i["meta"].items()
        },
    )


def _hand_over(
    uow: UnitOfWork,
    connection: Connection,
    client: MarketplaceClient,
    links: Sequence[LinkedOrder],
    outcome: PollOutcome,
    clock: Clock,
) -> None:
    """Orders that left, a batch (WB supply) at a time: a supply goes once all its orders
    have left."""
    refused = _tell_tracking(uow, connection, client, links, outcome, clock)
    by_batch: dict[str | None, list[str]] = {}
    for link in (link for link in links if link.external_id not in refused):
        by_batch.setdefault(link.supply, []).append(link.external_id)
    for batch, external_ids in by_batch.items():
        if batch is not None:
            waiting = _in_supply(uow, connection, batch)
            if waiting - set(external_ids):
                continue  # some of the supply is still in the warehouse
        try:
            client.hand_over(batch, external_ids)
        except MarketplaceRefused as refused:
            for external_id in external_ids:
                _failed(uow, connection, external_id, "hand over", refused.detail, outcome, clock)
            continue
        _record(uow, connection, external_ids, "shipped", clock)
        outcome.handed_over.extend(external_ids)


def _tell_tracking(
    uow: UnitOfWork,
    connection: Connection,
    client: MarketplaceClient,
    links: Sequence[LinkedOrder],
    outcome: PollOutcome,
    clock: Clock,
) -> set[str]:
    """The tracking number of each order's parcel, where the marketplace wants it (Avito's
    DBS orders); an order whose number was refused is not told handed over either, and is
    tried again at the next poll (Avito then asks to fix it)."""
    tell = getattr(client, "tell_tracking", None)
    if connection.marketplace not in TELLS_TRACKING or tell is None or not links:
        return set()

    def numbers(uow: UnitOfWork) -> dict[str, str]:
        found: dict[str, str] = {}
        for link in links:
            shipments = uow.shipments.for_order(link.order_id)
            tracked = [
                s.tracking_number
                for s in shipments
                if s.tracking_number and s.status is not ShipmentStatus.CANCELLED
            ]
            if tracked:
                found[link.external_id] = tracked[0]
        return found

    refused: dict[str, str] = tell(reading(uow, numbers))
    for external_id, reason in refused.items():
        _failed(uow, connection, external_id, "tracking number", reason, outcome, clock)
    return set(refused)


def _in_supply(uow: UnitOfWork, connection: Connection, supply: str) -> set[str]:
    """The orders of a supply not yet handed over."""

    def work(uow: UnitOfWork) -> set[str]:
        return {link.external_id for link in uow.marketplaces.in_supply(connection.id, supply)}

    return reading(uow, work)


def _record(
    uow: UnitOfWork,
    connection: Connection,
    external_ids: Sequence[str],
    step: str,
    clock: Clock,
    *,
    supply: str | None = None,
) -> None:
    def work(uow: UnitOfWork) -> None:
        at = clock()
        uow.marketplaces.pushed(connection.id, external_ids, step, at, supply=supply)
        for external_id in external_ids:
            uow.marketplaces.resolve(connection.id, external_id, at)

    atomically(uow, work)


def _failed(
    uow: UnitOfWork,
    connection: Connection,
    external_id: str,
    step: str,
    reason: str,
    outcome: PollOutcome,
    clock: Clock,
) -> None:
    detail = f"telling the marketplace '{step}' was refused: {reason}"
    keep_aside(uow, connection, external_id, JournalKind.PUSH_FAILED, detail, {}, clock)
    alert_update_refused(uow, connection, external_id, step, reason, clock)
    outcome.push_failed.append(external_id)
