"""Ozon's push notifications and Yandex Market's API notifications: the quick way new
orders and status changes reach Potok, with the poll as the safety net (Ozon warns that a
new-posting notification may come late, and stops sending when the seller's service fails
for long; Market may send one event more than once, and out of order).

A notification about a posting (an order) is a hint, never the truth: Potok reads it back
from the marketplace (outside any transaction) and takes what Ozon says the way a poll does - a new
posting is imported once (the order's link to the posting makes a second notification, or
the poll, find it imported), one that cannot be is kept in the journal, and an imported
one follows its status (a cancellation cancels the Potok order and gives its stock back).
A notification sent twice, late, out of order, or forged therefore changes nothing that
Ozon itself does not say now.
"""

from __future__ import annotations

from collections.abc import Callable

from potok.connectors.marketplaces import (
    CredentialsRefused,
    IncomingOrder,
    Malformed,
    MarketplaceClient,
    MarketplaceClients,
    MarketplaceError,
    MarketplaceState,
    StatusSeen,
)
from potok.connectors.marketplaces.ozon import Ozon
from potok.connectors.marketplaces.ozon_push import Notification
from potok.connectors.marketplaces.yandex_market import YandexMarket
from potok.connectors.marketplaces.yandex_market_push import Notification as MarketNotification
from potok.domain.kernel import Clock, utc_now
from potok.domain.marketplaces import Connection, ConnectionNotFound, Credentials, Marketplace
from potok.security.data import DataProtector
from potok.services.marketplaces.market_returns import read_return
from potok.services.marketplaces.outcome import PollOutcome
from potok.services.marketplaces.polling import follow_one, not_yet_imported, take
from potok.services.unit_of_work import UnitOfWork, reading

_IMPORTED_WHEN = {MarketplaceState.NEW, MarketplaceState.IN_WORK}


_PURPOSE = {
    Marketplace.OZON: "ozon push notifications",
    Marketplace.YANDEX_MARKET: "yandex market notifications",
}


def push_secret(
    protector: DataProtector, code: str, marketplace: Marketplace = Marketplace.OZON
) -> str:
    """The secret in the URL the marketplace is given for the connection ``code``: a keyed
    hash of its code (the deployment's index key), so nothing new is stored and nobody
    without the key can make it up."""
    digest = protector.index(f"{_PURPOSE[marketplace]}\x00{code}")
    assert digest is not None
    return digest[:32]


def push_path(
    protector: DataProtector, code: str, marketplace: Marketplace = Marketplace.OZON
) -> str:
    """Where the marketplace sends the connection's notifications, from the root of Potok's
    address (Market calls ``POST <URL>/notification``: its URL ends before that)."""
    secret = push_secret(protector, code, marketplace)
    if marketplace is Marketplace.YANDEX_MARKET:
        return f"/api/v1/marketplaces/{code}/yandex-market/{secret}"
    return f"/api/v1/marketplaces/{code}/ozon-notifications?secret={secret}"


def pushing_connection(
    uow: UnitOfWork, code: str, marketplace: Marketplace = Marketplace.OZON
) -> Connection:
    """The connection of that marketplace a notification is addressed to (404 for any
    other)."""
    connection = reading(uow, lambda uow: uow.marketplaces.get_by_code(code))
    if connection is None or connection.marketplace is not marketplace:
        raise ConnectionNotFound(connection=code)
    return connection


def ozon_connection(uow: UnitOfWork, code: str) -> Connection:
    """The Ozon connection a notification is addressed to (404 for any other)."""
    return pushing_connection(uow, code, Marketplace.OZON)


Found = tuple[IncomingOrder | Malformed | None, StatusSeen] | None
"""One order as the marketplace has it now: to import (None: not yet the seller's) and its
status; None when the marketplace does not know it."""


def take_ozon_notification(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    notification: Notification,
    *,
    clock: Clock = utc_now,
) -> PollOutcome:
    """Take one notification for the connection ``code``: a posting's is read back from
    Ozon and imported or followed; a ping, or a kind about something else (products,
    chats, stocks), does nothing. Ozon's failures are in the outcome's ``error``."""
    number = notification.posting_number
    if not notification.about_posting or number is None:
        number = None

    def fetch(client: MarketplaceClient, number: str) -> Found:
        assert isinstance(client, Ozon)  # an Ozon connection builds the Ozon client
        return client.posting(number)

    return _take(uow, clients, code, Marketplace.OZON, number, fetch, clock)


def take_market_notification(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    notification: MarketNotification,
    *,
    clock: Clock = utc_now,
) -> PollOutcome:
    """Take one Yandex Market notification for the connection ``code``: an order's (new,
    cancelled, its status changed, a cancellation requested, a return) is read back from
    Market and imported or followed; a ping, a chat, a review does nothing. Market's
    failures are in the outcome's ``error``."""
    number = notification.order_id if notification.about_order else None

    def fetch(client: MarketplaceClient, number: str) -> Found:
        assert isinstance(client, YandexMarket)  # a Market connection builds this client
        return client.one(number)

    outcome = _take(uow, clients, code, Marketplace.YANDEX_MARKET, number, fetch, clock)
    if notification.return_id is not None and outcome.error is None:
        _take_market_return(uow, clients, code, notification, outcome, clock)
    return outcome


def _take_market_return(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    notification: MarketNotification,
    outcome: PollOutcome,
    clock: Clock,
) -> None:
    """The return a notification names, read back from Market and taken as a poll would."""
    order, campaign, number = (
        notification.order_id,
        notification.campaign_id,
        notification.return_id,
    )
    if order is None or campaign is None or number is None:
        return
    connection, credentials = reading(uow, lambda uow: _connection(uow, code))
    if not connection.active:
        return
    client = clients.build(connection, credentials)
    try:
        assert isinstance(client, YandexMarket)  # a Market connection builds this client
        read_return(
            uow,
            connection,
            client,
            campaign,
            order,
            number,
            outcome,
            clock=clock,
        )
    except CredentialsRefused as error:
        outcome.error, outcome.refused = error.detail, True
    finally:
        client.close()
        outcome.requests += client.stats.requests


def _connection(uow: UnitOfWork, code: str) -> tuple[Connection, Credentials]:
    connection = uow.marketplaces.get_by_code(code)
    if connection is None or connection.marketplace is not Marketplace.YANDEX_MARKET:
        raise ConnectionNotFound(connection=code)
    return connection, uow.marketplaces.credentials(connection.id)


def _take(
    uow: UnitOfWork,
    clients: MarketplaceClients,
    code: str,
    marketplace: Marketplace,
    number: str | None,
    fetch: Callable[[MarketplaceClient, str], Found],
    clock: Clock,
) -> PollOutcome:
    def read(uow: UnitOfWork) -> tuple[Connection, Credentials]:
        connection = uow.marketplaces.get_by_code(code)
        if connection is None or connection.marketplace is not marketplace:
            raise ConnectionNotFound(connection=code)
        return connection, uow.marketplaces.credentials(connection.id)

    connection, credentials = reading(uow, read)
    outcome = PollOutcome(connection.code)
    if number is None or not connection.active:
        return outcome
    client = clients.build(connection, credentials)
    try:
        found = fetch(client, number)
    except CredentialsRefused as error:
        outcome.error, outcome.refused = error.detail, True
        return outcome
    except MarketplaceError as error:
        outcome.error = str(error)
        return outcome
    finally:
        client.close()
        outcome.requests = client.stats.requests
        outcome.rate_limit_waits = client.stats.rate_limit_waits
    if found is None:
        return outcome  # the marketplace does not know it (any more): nothing to take
    item, status = found
    outcome.seen = 1
    link = reading(uow, lambda uow: uow.marketplaces.linked(connection.id, number))
    if link is not None:
        follow_one(uow, connection, link, status, outcome, clock)
        return outcome
    if item is None:
        return outcome  # not the seller's yet (being placed, not paid): the next hint or poll
    if isinstance(item, IncomingOrder) and item.state not in _IMPORTED_WHEN:
        return outcome  # cancelled or gone before Potok saw it: nothing to import
    for fresh in not_yet_imported(uow, connection, [item], outcome):
        take(uow, connection, fresh, outcome, clock)
    return outcome
