"""Polling a marketplace: its new orders become Potok orders exactly once, what cannot be
imported waits in the connection's journal, and the statuses of imported orders are
followed (a cancellation on the marketplace cancels the Potok order, giving its stock back).

The marketplace is never called inside a transaction: connection and credentials are read
first, the connector is called, and each order is then imported in a transaction of its
own together with its link to the marketplace order. Two pollers racing on the same order
make one Potok order: the orders' unique (channel, external id) refuses the second insert,
the loser's transaction runs again and finds the link the winner committed.
"""

from __future__ import annotations

from potok.connectors.marketplaces import (
    READS_CATALOGUE,
    CredentialsRefused,
    IncomingLine,
    IncomingOrder,
    Malformed,
    MarketplaceClient,
    MarketplaceClients,
    MarketplaceError,
    MarketplaceNotSupported,
    MarketplaceState,
    StatusSeen,
)
from potok.connectors.marketplaces.retailcrm import RetailCrm
from potok.connectors.marketplaces.yandex_market import YandexMarket
from potok.domain.errors import InvalidInput, PotokError, TransientConflict
from potok.domain.kernel import Actor, ActorKind, Clock, utc_now
from potok.domain.marketplaces import (
    Connection,
    ConnectionNotFound,
    Credentials,
    JournalKind,
)
from potok.domain.orders import Address, DeliveryMethod, OrderState, PaymentStatus
from potok.domain.orders.commands import CancelOrder, DeliveryRequest, LineRequest, PlaceOrder
from potok.services.intake import place_within
from potok.services.marketplace_ports import LinkedOrder, PollRecord
from potok.services.marketplaces.catalogue import map_from_catalogue
from potok.services.marketplaces.crm_changes import apply_crm_changes
from potok.services.marketplaces.items import alert_unmapped_item
from potok.services.marketplaces.journal import keep_aside
from potok.services.marketplaces.market_returns import poll_returns
from potok.services.marketplaces.outcome import PollOutcome
from potok.services.marketplaces.pushing import push_progress
from potok.services.orders import cancel_order
from potok.services.unit_of_work import UnitOfWork, atomically, reading

FOLLOWED_AT_ONCE = 10_000
"""The most open orders whose statuses one poll asks about."""

NAMES = {
    "wildberries": "Wildberries",
    "ozon": "Ozon",
    "retailcrm": "RetailCRM",
    "yandex_market": "Yandex Market",
    "avito": "Avito",
}
PENDING_AT_ONCE = 1000
"""The most orders kept aside that one poll offers again to a connector with a cursor."""
_WAITING_KINDS = frozenset(
    {
        JournalKind.UNKNOWN_SKU,
        JournalKind.UNKNOWN_WAREHOUSE,
        JournalKind.REFUSED,
        JournalKind.MALFORMED,
    }
)
_CLOSING = {MarketplaceState.CANCELLED, MarketplaceState.DELIVERED, MarketplaceState.RETURNED}


class _KeepAside(Exception):
    """This order goes to the journal instead of becoming a Potok order."""

    def __init__(self, kind: JournalKind, detail: str, item: str | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.item = item  # the marketplace item no SKU is mapped to


def actor_of(connection: Connection) -> Actor:
    return Actor(ActorKind.SYSTEM, f"marketplace/{connection.code}")


def poll_marketplace(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    *,
    clock: Clock = utc_now,
    batch: int = 1000,
) -> PollOutcome:
    """Import the connection's new orders and follow its open ones; the poll's result
    (success, or the marketplace's error and whether it refused the token) goes to the
    connection's health."""

    def read(uow: UnitOfWork) -> tuple[Connection, Credentials]:
        connection = uow.marketplaces.get_by_code(code)
        if connection is None:
            raise ConnectionNotFound(connection=code)
        return connection, uow.marketplaces.credentials(connection.id)

    connection, credentials = reading(uow, read)
    outcome = PollOutcome(connection.code)
    first = None
    if connection.last_poll_at is None and connection.marketplace in READS_CATALOGUE:
        # a new connection: its item map is filled before its first orders come in
        first = map_from_catalogue(uow, clients, code, actor_of(connection), clock=clock)
        outcome.catalogue_mapped = first.mapped
    try:
        client = clients.build(connection, credentials)
    except MarketplaceNotSupported as error:
        outcome.error = error.detail
    else:
        try:
            _poll(uow, connection, client, outcome, clock, batch)
        finally:
            client.close()
        stats = client.stats
        outcome.requests = stats.requests
        outcome.rate_limit_waits = stats.rate_limit_waits
        outcome.waited_s = round(stats.waited_s, 3)
    if first is not None:  # the catalogue's requests are the poll's too
        outcome.requests += first.requests
        outcome.rate_limit_waits += first.rate_limit_waits
        outcome.waited_s = round(outcome.waited_s + first.waited_s, 3)
    record = PollRecord(
        at=clock(),
        error=outcome.error,
        refused=outcome.refused,
        rate_limit_waits=outcome.rate_limit_waits,
        rate_limit_wait_s=outcome.waited_s,
        imported=len(outcome.imported),
        cursor=outcome.cursor,
    )
    atomically(uow, lambda uow: uow.marketplaces.record_poll(connection.id, record))
    return outcome


def _poll(
    uow: UnitOfWork,
    connection: Connection,
    client: MarketplaceClient,
    outcome: PollOutcome,
    clock: Clock,
    batch: int,
) -> None:
    try:
        client.resume(connection.cursor, _waiting(uow, connection))
        incoming = client.new_orders()
        outcome.seen = len(incoming)
        fresh = not_yet_imported(uow, connection, incoming, outcome)
        for item in fresh[:batch]:
            take(uow, connection, item, outcome, clock)
        if isinstance(client, RetailCrm):  # changes made there to orders Potok has
            apply_crm_changes(uow, connection, client, outcome, actor_of(connection), clock)
        if len(fresh) <= batch:  # every order the cursor passed is imported or kept aside
            outcome.cursor = client.cursor
        _follow(uow, connection, client, outcome, clock)
        push_progress(uow, connection, client, outcome, clock)
        if isinstance(client, YandexMarket):
            poll_returns(uow, connection, client, outcome, clock=clock)
    except CredentialsRefused as error:
        outcome.error, outcome.refused = error.detail, True
    except MarketplaceError as error:
        outcome.error = str(error)


def _waiting(uow: UnitOfWork, connection: Connection) -> list[str]:
    """Orders kept aside that may be imported now (a SKU mapped since, a warehouse added)."""
    entries = reading(
        uow, lambda uow: uow.marketplaces.journal(connection.id, limit=PENDING_AT_ONCE)
    )
    return [e.external_id for e in entries if e.kind in _WAITING_KINDS]


def not_yet_imported(
    uow: UnitOfWork,
    connection: Connection,
    incoming: list[IncomingOrder | Malformed],
    outcome: PollOutcome,
) -> list[IncomingOrder | Malformed]:
    """What the marketplace sent that Potok has not imported, each once; the rest (sent
    again, as marketplaces do until the order moves on) is counted as repeated."""
    ids = [item.external_id for item in incoming]
    known = reading(uow, lambda uow: uow.marketplaces.linked_ids(connection.id, ids))
    fresh: dict[str, IncomingOrder | Malformed] = {}
    for item in incoming:
        if item.external_id in known or item.external_id in fresh:
            outcome.repeated += 1
        else:
            fresh[item.external_id] = item
    return list(fresh.values())


def poll_due(
    uow: UnitOfWork, clients: MarketplaceClients, *, clock: Clock = utc_now, batch: int = 1000
) -> list[PollOutcome]:
    """Poll every active connection whose schedule says so."""
    now = clock()
    due = [c.code for c in reading(uow, lambda uow: uow.marketplaces.list()) if c.due(now)]
    return [poll_marketplace(uow, clients, code, clock=clock, batch=batch) for code in due]


# ---------------------------------------------------------------------- import


def take(
    uow: UnitOfWork,
    connection: Connection,
    item: IncomingOrder | Malformed,
    outcome: PollOutcome,
    clock: Clock,
) -> None:
    if isinstance(item, Malformed):
        keep_aside(
            uow, connection, item.external_id, JournalKind.MALFORMED, item.reason, item.raw, clock
        )
        outcome.kept_aside.append(item.external_id)
        return
    try:
        order_id, created = atomically(uow, lambda uow: _import(uow, connection, item, clock))
    except _KeepAside as aside:
        keep_aside(uow, connection, item.external_id, aside.kind, aside.detail, item.raw, clock)
        outcome.kept_aside.append(item.external_id)
        if aside.item is not None:
            alert_unmapped_item(uow, connection, aside.item, aside.detail, clock=clock)
        return
    except TransientConflict:
        raise
    except InvalidInput as refused:
        detail = "; ".join(f"{e.field}: {e.message}" for e in refused.errors) or refused.detail
        keep_aside(uow, connection, item.external_id, JournalKind.REFUSED, detail, item.raw, clock)
        outcome.kept_aside.append(item.external_id)
        return
    except PotokError as refused:
        keep_aside(
            uow, connection, item.external_id, JournalKind.REFUSED, refused.detail, item.raw, clock
        )
        outcome.kept_aside.append(item.external_id)
        return
    if created:
        outcome.imported.append(order_id)
    else:
        outcome.repeated += 1


def _import(
    uow: UnitOfWork, connection: Connection, order: IncomingOrder, clock: Clock
) -> tuple[int, bool]:
    """One marketplace order as a Potok order with its link, in the caller's transaction;
    (order id, whether it was created now)."""
    linked = uow.marketplaces.linked(connection.id, order.external_id)
    if linked is not None:
        return linked.order_id, False
    name = NAMES.get(connection.marketplace.value, connection.marketplace.value)
    if order.warehouse and order.warehouse not in connection.warehouses:
        raise _KeepAside(
            JournalKind.UNKNOWN_WAREHOUSE,
            f"{name} warehouse {order.warehouse} is not mapped to a Potok location "
            f"(mapped: {', '.join(sorted(connection.warehouses)) or 'none'})",
        )
    lines = [
        LineRequest(
            sku=_sku_of(uow, connection, line, name),
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for line in order.lines
    ]
    at = clock()
    words = f"{name} {order.external_id}"
    if order.group:
        words += f", basket {order.group}"
    if order.comment:
        words += f": {order.comment}"
    command = PlaceOrder(
        channel=connection.channel_code,
        lines=lines,
        delivery=DeliveryRequest(method=DeliveryMethod.COURIER, address=_address(order, name)),
        currency=order.currency,
        external_id=order.external_id,
        promised_at=order.ship_by,
        payment_status=PaymentStatus.NOT_REQUIRED,  # the customer paid the marketplace
        comment=words[:2000],
        # FBS: from where it was sent to; a CRM order without a store is sourced as any other
        ship_from=connection.warehouses[order.warehouse] if order.warehouse else None,
    )
    placement = place_within(uow, command, actor_of(connection), at)
    order_id = placement.order.id
    assert order_id is not None  # stored by intake
    uow.marketplaces.link(
        connection.id,
        order.external_id,
        order_id,
        basket=order.group,
        warehouse=order.warehouse,
        state=order.state.value,
        status=order.status,
        items=[
            {
                "line_no": number,
                "item": line.marketplace_sku,
                "article": line.article,
                **({"meta": dict(order.meta)} if order.meta and number == 1 else {}),
            }
            for number, line in enumerate(order.lines, start=1)
        ],
        at=at,
    )
    uow.marketplaces.resolve(connection.id, order.external_id, at)
    return order_id, placement.created


def _sku_of(uow: UnitOfWork, connection: Connection, line: IncomingLine, marketplace: str) -> str:
    """The Potok SKU of a marketplace line: by the connection's item map (WB chrtId, Ozon
    sku), else by any of its barcodes, else by the seller's article being the SKU."""
    if line.marketplace_sku:
        mapped = uow.marketplace_items.by_item(connection.id, [line.marketplace_sku])
        if line.marketplace_sku in mapped:
            return mapped[line.marketplace_sku]
    if line.barcodes:
        owners = uow.products.owners_of(list(line.barcodes))
        for barcode in line.barcodes:
            if barcode in owners:
                return owners[barcode]
    if line.article and uow.products.get_by_sku(line.article) is not None:
        return line.article
    raise _KeepAside(
        JournalKind.UNKNOWN_SKU,
        f"no product has barcode {', '.join(line.barcodes) or '(none)'} or SKU "
        f"'{line.article}' ({marketplace} item {line.marketplace_sku or '?'}): map the item "
        "to a SKU (potok marketplaces map) or add the barcode to the product, and the order "
        "is imported at the next poll",
        item=line.marketplace_sku or line.article or None,
    )


def _address(order: IncomingOrder, marketplace: str) -> Address:
    """The customer's address when the marketplace gives one; else the marketplace's
    warehouse the parcel is handed to."""
    if order.address is not None:
        return Address(
            city=order.address.city,
            line1=order.address.line,
            latitude=order.address.latitude,
            longitude=order.address.longitude,
        )
    return Address(city=marketplace, line1=f"{marketplace} FBS, warehouse {order.warehouse}")


# ---------------------------------------------------------------------- statuses


def _follow(
    uow: UnitOfWork,
    connection: Connection,
    client: MarketplaceClient,
    outcome: PollOutcome,
    clock: Clock,
) -> None:
    open_links = reading(
        uow, lambda uow: uow.marketplaces.open_links(connection.id, FOLLOWED_AT_ONCE)
    )
    if not open_links:
        return
    known = {link.external_id: link for link in open_links}
    seen = client.statuses(list(known), changed_since=connection.last_success_at)
    for status in seen:
        link = known.get(status.external_id)
        if link is not None:
            follow_one(uow, connection, link, status, outcome, clock)


def follow_one(
    uow: UnitOfWork,
    connection: Connection,
    link: LinkedOrder,
    status: StatusSeen,
    outcome: PollOutcome,
    clock: Clock,
) -> None:
    """What the marketplace now says about one imported order: recorded when it changed,
    and a cancellation cancels the Potok order (its stock goes back)."""
    if link.state == status.state.value and link.status == status.status:
        return
    if status.state is MarketplaceState.CANCELLED and _cancel(
        uow, connection, link.order_id, status.status
    ):
        outcome.cancelled.append(link.order_id)
    closed = status.state in _CLOSING
    atomically(
        uow,
        lambda uow: uow.marketplaces.follow(
            connection.id,
            status.external_id,
            state=status.state.value,
            status=status.status,
            closed=closed,
            at=clock(),
        ),
    )
    outcome.followed += 1


def _cancel(uow: UnitOfWork, connection: Connection, order_id: int, status: str) -> bool:
    """Cancel the Potok order the marketplace cancelled; False when it already is, or can
    no longer be (what was handed over comes back as a return)."""
    name = NAMES.get(connection.marketplace.value, connection.marketplace.value)
    try:
        view = cancel_order(
            uow,
            CancelOrder(order_id=order_id, reason=f"cancelled on {name} ({status})"),
            actor_of(connection),
        )
    except TransientConflict:
        raise
    except PotokError:
        return False
    return view.order.state is OrderState.CANCELLED
