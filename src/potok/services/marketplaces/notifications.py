"""Ozon's push notifications: the quick way new postings and status changes reach Potok,
with the poll as the safety net (Ozon warns that a new-posting notification may come
late, and stops sending when the seller's service fails for long).

A notification about a posting is a hint, never the truth: Potok reads the posting back
from Ozon (outside any transaction) and takes what Ozon says the way a poll does - a new
posting is imported once (the order's link to the posting makes a second notification, or
the poll, find it imported), one that cannot be is kept in the journal, and an imported
one follows its status (a cancellation cancels the Potok order and gives its stock back).
A notification sent twice, late, out of order, or forged therefore changes nothing that
Ozon itself does not say now.
"""

from __future__ import annotations

from potok.connectors.marketplaces import (
    CredentialsRefused,
    IncomingOrder,
    MarketplaceClients,
    MarketplaceError,
    MarketplaceState,
)
from potok.connectors.marketplaces.ozon import Ozon
from potok.connectors.marketplaces.ozon_push import Notification
from potok.domain.kernel import Clock, utc_now
from potok.domain.marketplaces import Connection, ConnectionNotFound, Credentials, Marketplace
from potok.security.data import DataProtector
from potok.services.marketplaces.outcome import PollOutcome
from potok.services.marketplaces.polling import follow_one, not_yet_imported, take
from potok.services.unit_of_work import UnitOfWork, reading

_IMPORTED_WHEN = {MarketplaceState.NEW, MarketplaceState.IN_WORK}


def push_secret(protector: DataProtector, code: str) -> str:
    """The secret in the URL Ozon is given for the connection ``code``: a keyed hash of its
    code (the deployment's index key), so nothing new is stored and nobody without the key
    can make it up."""
    digest = protector.index(f"ozon push notifications\x00{code}")
    assert digest is not None
    return digest[:32]


def push_path(protector: DataProtector, code: str) -> str:
    """Where Ozon sends the connection's notifications, from the root of Potok's address."""
    return f"/api/v1/marketplaces/{code}/ozon-notifications?secret={push_secret(protector, code)}"


def ozon_connection(uow: UnitOfWork, code: str) -> Connection:
    """The Ozon connection a notification is addressed to (404 for any other)."""
    connection = reading(uow, lambda uow: uow.marketplaces.get_by_code(code))
    if connection is None or connection.marketplace is not Marketplace.OZON:
        raise ConnectionNotFound(connection=code)
    return connection


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

    def read(uow: UnitOfWork) -> tuple[Connection, Credentials]:
        connection = uow.marketplaces.get_by_code(code)
        if connection is None or connection.marketplace is not Marketplace.OZON:
            raise ConnectionNotFound(connection=code)
        return connection, uow.marketplaces.credentials(connection.id)

    connection, credentials = reading(uow, read)
    outcome = PollOutcome(connection.code)
    number = notification.posting_number
    if not notification.about_posting or number is None or not connection.active:
        return outcome
    client = clients.build(connection, credentials)
    try:
        assert isinstance(client, Ozon)  # an Ozon connection builds the Ozon client
        found = client.posting(number)
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
        return outcome  # Ozon does not know it (any more): nothing to take
    item, status = found
    outcome.seen = 1
    link = reading(uow, lambda uow: uow.marketplaces.linked(connection.id, number))
    if link is not None:
        follow_one(uow, connection, link, status, outcome, clock)
        return outcome
    if isinstance(item, IncomingOrder) and item.state not in _IMPORTED_WHEN:
        return outcome  # cancelled or gone before Potok saw it: nothing to import
    for fresh in not_yet_imported(uow, connection, [item], outcome):
        take(uow, connection, fresh, outcome, clock)
    return outcome
