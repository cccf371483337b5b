"""Avito's delivery choices the seller makes for one order, as its order-management API
allows them: when Avito's courier comes for the parcel (``getCourierDeliveryRange``, then
``setCourierDeliveryRange``: an offered interval, or as soon as possible; again to change it
before the courier came), and where and how long a click-and-collect order waits for its
customer (``cncSetDetails``). Tracking numbers of parcels the seller's own partner carries
(DBS) need no one: they go with the hand-over (``pushing``).

Only orders the connection imported are reached; each choice leaves a note in the Potok
order's history. Avito is called outside any transaction, as every connector is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from potok.connectors.marketplaces import MarketplaceClients, MarketplaceUnavailable
from potok.connectors.marketplaces.avito import Avito
from potok.domain.errors import NotFound, Rejected
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.marketplaces import Connection, ConnectionNotFound, Credentials, Marketplace
from potok.services.marketplace_ports import LinkedOrder
from potok.services.unit_of_work import UnitOfWork, atomically, reading

T = TypeVar("T")
INTERVALS = ("fixed", "asap")


class AvitoOnly(Rejected):
    code = "avito-only"
    title = "Only Avito's orders have this"
    template = "Connection '{connection}' is to {marketplace}: {what} are Avito's."


class MarketplaceOrderNotImported(NotFound):
    code = "marketplace-order-not-imported"
    title = "The connection imported no such order"
    template = "Connection '{connection}' imported no order '{external_id}'."


@dataclass(frozen=True, slots=True)
class CourierInterval:
    start: datetime
    end: datetime
    title: str
    kind: str


@dataclass(frozen=True, slots=True)
class CourierIntervals:
    """What Avito offers for the courier's visit, and the seller's details it holds."""

    address: str
    name: str
    phone: str
    intervals: list[CourierInterval]


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def read_intervals(result: Mapping[str, Any]) -> CourierIntervals:
    """Avito's ``getDeliveryCourierConfirmationResponse.result``, each interval once."""
    found: list[CourierInterval] = []
    for option in result.get("dateOptions") or ():
        if not isinstance(option, Mapping):
            continue
        for interval in option.get("timeIntervals") or ():
            if not isinstance(interval, Mapping):
                continue
            start, end = _time(interval.get("startDate")), _time(interval.get("endDate"))
            if start is None or end is None:
                raise MarketplaceUnavailable(
                    marketplace="Avito", reason="an interval without its dates"
                )
            found.append(
                CourierInterval(
                    start, end, str(interval.get("title") or ""), str(interval.get("type") or "")
                )
            )
    return CourierIntervals(
        address=str(result.get("address") or ""),
        name=str(result.get("name") or ""),
        phone=str(result.get("phone") or ""),
        intervals=found,
    )


def _with_avito(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    external_id: str,
    what: str,
    work: Callable[[Avito], T],
) -> tuple[T, LinkedOrder]:
    def read(uow: UnitOfWork) -> tuple[Connection, Credentials, LinkedOrder]:
        connection = uow.marketplaces.get_by_code(code)
        if connection is None:
            raise ConnectionNotFound(connection=code)
        if connection.marketplace is not Marketplace.AVITO:
            raise AvitoOnly(connection=code, marketplace=connection.marketplace.value, what=what)
        link = uow.marketplaces.linked(connection.id, external_id)
        if link is None:
            raise MarketplaceOrderNotImported(connection=code, external_id=external_id)
        return connection, uow.marketplaces.credentials(connection.id), link

    connection, credentials, link = reading(uow, read)
    client = clients.build(connection, credentials)
    try:
        assert isinstance(client, Avito)  # an Avito connection builds this client
        return work(client), link
    finally:
        client.close()


def _note(
    uow: UnitOfWork, order_id: int, text: str, actor: Actor, clock: Clock, **details: Any
) -> None:
    def work(uow: UnitOfWork) -> None:
        order = uow.orders.get(order_id, lock=True)
        if order is None:
            return
        order.add_note(text, clock(), str(actor), **details)
        uow.orders.save(order)

    atomically(uow, work)


def courier_intervals(
    uow: UnitOfWork, clients: MarketplaceClients, code: str, external_id: str, *, address: str = ""
) -> CourierIntervals:
    """When Avito's courier can come for the order's parcel (from ``address``, else the
    seller's address Avito holds)."""
    found, _ = _with_avito(
        uow,
        clients,
        code,
        external_id,
        "courier intervals",
        lambda avito: read_intervals(avito.courier_ranges(external_id, address)),
    )
    return found


def choose_courier_interval(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    external_id: str,
    *,
    start: datetime,
    end: datetime,
    interval: str,
    address: str,
    address_details: str,
    name: str,
    phone: str,
    actor: Actor,
    clock: Clock = utc_now,
) -> None:
    """Tell Avito when its courier is to come (an interval it offered, or ``asap``)."""

    def work(avito: Avito) -> None:
        avito.choose_courier_range(
            external_id,
            start=start,
            end=end,
            interval=interval,
            address=address,
            address_details=address_details,
            name=name,
            phone=phone,
        )

    _, link = _with_avito(uow, clients, code, external_id, "courier intervals", work)
    _note(
        uow,
        link.order_id,
        f"Avito's courier to come {start.isoformat()} - {end.isoformat()} ({interval})",
        actor,
        clock,
        courier_from=start.isoformat(),
        courier_to=end.isoformat(),
    )


def set_pickup_details(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    external_id: str,
    *,
    booking_days: int,
    address: str,
    details: str,
    actor: Actor,
    clock: Clock = utc_now,
) -> None:
    """Tell Avito the click-and-collect order is ready: where, kept how many days, a word
    for the customer."""
    _, link = _with_avito(
        uow,
        clients,
        code,
        external_id,
        "click-and-collect details",
        lambda avito: avito.set_pickup_details(
            external_id, booking_days=booking_days, address=address, details=details
        ),
    )
    _note(
        uow,
        link.order_id,
        f"Avito told: ready for collection at {address or 'the seller'}, kept {booking_days} days",
        actor,
        clock,
        booking_days=booking_days,
    )
