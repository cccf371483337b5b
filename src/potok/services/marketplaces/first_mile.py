"""Yandex Market's first-mile shipments (отгрузки), as the people who hand parcels to Market
use them: which shipments are planned for which days with which orders, confirming one when
its cutoff has come, printing its acceptance act and transport waybill, and moving orders
that cannot be packed in time to the next shipment.

Market keeps the shipments; Potok reads them when asked and keeps nothing of them but the
history of its own orders: a transfer leaves a note on each Potok order it moved (when, who,
from which shipment), since the order now leaves on a later day. Market is called outside
any transaction, as every connector is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

from potok.connectors.marketplaces import MarketplaceClients
from potok.connectors.marketplaces.yandex_market import YandexMarket
from potok.connectors.marketplaces.yandex_market_first_mile import FirstMileShipment
from potok.domain.errors import FieldError, InvalidInput, Rejected
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.marketplaces import Connection, ConnectionNotFound, Credentials, Marketplace
from potok.services.unit_of_work import UnitOfWork, atomically, reading

T = TypeVar("T")
LONGEST_SPAN_DAYS = 31
"""The most days one listing of shipments covers."""
TRANSFER_AT_ONCE = 500
"""Orders one transfer names at most (Market's limit)."""


class FirstMileNotOffered(Rejected):
    code = "first-mile-not-offered"
    title = "This marketplace has no first-mile shipments in Potok"
    template = (
        "Connection '{connection}' is to {marketplace}: first-mile shipments are Yandex "
        "Market's (its FBS campaigns)."
    )


class CampaignNotConnected(Rejected):
    code = "campaign-not-connected"
    title = "The campaign is not one of the connection's"
    template = (
        "Campaign {campaign} is not mapped on connection '{connection}' (mapped: {mapped}); "
        "map it to a location first (PATCH the connection's warehouses)."
    )


def _market(uow: UnitOfWork, code: str) -> tuple[Connection, Credentials]:
    def read(uow: UnitOfWork) -> tuple[Connection, Credentials]:
        connection = uow.marketplaces.get_by_code(code)
        if connection is None:
            raise ConnectionNotFound(connection=code)
        if connection.marketplace is not Marketplace.YANDEX_MARKET:
            raise FirstMileNotOffered(connection=code, marketplace=connection.marketplace.value)
        return connection, uow.marketplaces.credentials(connection.id)

    return reading(uow, read)


def _campaign(connection: Connection, campaign: str) -> str:
    if campaign not in connection.warehouses:
        raise CampaignNotConnected(
            campaign=campaign,
            connection=connection.code,
            mapped=", ".join(sorted(connection.warehouses)) or "none",
        )
    return campaign


def _with_market(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    work: Callable[[Connection, YandexMarket], T],
) -> T:
    connection, credentials = _market(uow, code)
    client = clients.build(connection, credentials)
    try:
        assert isinstance(client, YandexMarket)  # a Market connection builds this client
        return work(connection, client)
    finally:
        client.close()


def list_first_mile(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    since: date,
    until: date,
    *,
    campaign: str | None = None,
) -> list[FirstMileShipment]:
    """The shipments planned from ``since`` to ``until`` (both included) of every campaign
    the connection maps, or of one, earliest first."""
    if until < since or (until - since).days >= LONGEST_SPAN_DAYS:
        raise InvalidInput(
            [
                FieldError(
                    "until",
                    f"from 'since' to at most {LONGEST_SPAN_DAYS - 1} days after it",
                    "out-of-range",
                )
            ]
        )

    def work(connection: Connection, market: YandexMarket) -> list[FirstMileShipment]:
        chosen = [_campaign(connection, campaign)] if campaign else sorted(connection.warehouses)
        found = [s for c in chosen for s in market.first_mile.shipments(c, since, until)]
        return sorted(found, key=lambda s: (s.plan_from, s.id))

    return _with_market(uow, clients, code, work)


def get_first_mile(
    uow: UnitOfWork, clients: MarketplaceClients, code: str, campaign: str, shipment: int
) -> FirstMileShipment:
    """One shipment, with what may be done with it now."""
    return _with_market(
        uow,
        clients,
        code,
        lambda c, market: market.first_mile.shipment(_campaign(c, campaign), shipment),
    )


def confirm_first_mile(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    campaign: str,
    shipment: int,
    *,
    external_id: str = "",
    signatory: str = "",
) -> FirstMileShipment:
    """Confirm the shipment to Market, and read it back (its act can be printed now)."""

    def work(connection: Connection, market: YandexMarket) -> FirstMileShipment:
        chosen = _campaign(connection, campaign)
        market.first_mile.confirm(chosen, shipment, external_id=external_id, signatory=signatory)
        return market.first_mile.shipment(chosen, shipment)

    return _with_market(uow, clients, code, work)


def first_mile_document(
    uow: UnitOfWork, clients: MarketplaceClients, code: str, campaign: str, shipment: int, kind: str
) -> bytes:
    """The shipment's acceptance act (``act``, a PDF) or transport waybill (``waybill``, an
    Excel file), as Market makes it now."""

    def work(connection: Connection, market: YandexMarket) -> bytes:
        chosen = _campaign(connection, campaign)
        if kind == "act":
            return market.first_mile.act(chosen, shipment)
        return market.first_mile.waybill(chosen, shipment)

    return _with_market(uow, clients, code, work)


def transfer_first_mile(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    campaign: str,
    shipment: int,
    orders: Sequence[str],
    actor: Actor,
    *,
    clock: Clock = utc_now,
) -> list[int]:
    """Move Market's orders ``orders`` from the shipment to the next one; the Potok orders
    they were imported as (returned) each get a note in their history."""
    wanted = list(dict.fromkeys(orders))
    if not wanted or len(wanted) > TRANSFER_AT_ONCE or not all(o.isdigit() for o in wanted):
        raise InvalidInput(
            [
                FieldError(
                    "orders",
                    f"name 1 to {TRANSFER_AT_ONCE} of Market's order numbers",
                    "out-of-range",
                )
            ]
        )

    def work(connection: Connection, market: YandexMarket) -> Connection:
        market.first_mile.transfer(_campaign(connection, campaign), shipment, wanted)
        return connection

    connection = _with_market(uow, clients, code, work)

    def note(uow: UnitOfWork) -> list[int]:
        at, moved = clock(), []
        for number in wanted:
            link = uow.marketplaces.linked(connection.id, number)
            order = uow.orders.get(link.order_id, lock=True) if link is not None else None
            if order is None:
                continue
            order.add_note(
                f"moved to the next Yandex Market shipment (from shipment {shipment})",
                at,
                str(actor),
                marketplace_shipment=shipment,
            )
            uow.orders.save(order)
            moved.append(link.order_id if link is not None else 0)
        return moved

    return atomically(uow, note)
