"""Connecting a marketplace account to a sales channel, and reading connections' health."""

from __future__ import annotations

from collections.abc import Sequence

from potok.connectors.marketplaces.registry import SUPPORTED, MarketplaceNotSupported
from potok.domain.channels import ChannelNotFound
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.marketplaces import (
    Connection,
    ConnectionCodeTaken,
    ConnectionDraft,
    ConnectionNotFound,
    JournalEntry,
)
from potok.domain.marketplaces.events import MarketplaceConnected
from potok.services.unit_of_work import UnitOfWork, atomically, reading


def connect_marketplace(
    uow: UnitOfWork, draft: ConnectionDraft, actor: Actor, *, clock: Clock = utc_now
) -> Connection:
    """Store a marketplace account (its token sealed) for a channel, with its warehouses
    mapped to Potok's locations."""
    draft.validate()
    if draft.marketplace not in SUPPORTED:
        raise MarketplaceNotSupported(marketplace=draft.marketplace.value)

    def work(uow: UnitOfWork) -> Connection:
        if uow.marketplaces.get_by_code(draft.code) is not None:
            raise ConnectionCodeTaken(connection=draft.code)
        channel = uow.channels.get_by_code(draft.channel)
        if channel is None:
            raise ChannelNotFound(channel=draft.channel)
        unknown = [
            ours for ours in draft.warehouses.values() if not uow.warehouses.get_by_code(ours)
        ]
        if unknown:
            raise InvalidInput(
                [
                    FieldError("warehouses", f"there is no location '{code}'", "unknown-location")
                    for code in sorted(set(unknown))
                ]
            )
        connection = uow.marketplaces.add(draft, channel.id, clock())
        uow.record(
            MarketplaceConnected(
                occurred_at=connection.created_at,
                connection=connection.code,
                marketplace=connection.marketplace.value,
                channel=connection.channel_code,
                base_url=connection.base_url,
                warehouses=dict(connection.warehouses),
            )
        )
        return connection

    return atomically(uow, work)


def get_connection(uow: UnitOfWork, code: str) -> Connection:
    def work(uow: UnitOfWork) -> Connection:
        connection = uow.marketplaces.get_by_code(code)
        if connection is None:
            raise ConnectionNotFound(connection=code)
        return connection

    return reading(uow, work)


def list_connections(uow: UnitOfWork) -> Sequence[Connection]:
    return reading(uow, lambda uow: uow.marketplaces.list())


def read_journal(
    uow: UnitOfWork, code: str, *, open_only: bool = True, limit: int = 100
) -> Sequence[JournalEntry]:
    """The orders the connection kept aside for an operator (open ones by default)."""

    def work(uow: UnitOfWork) -> Sequence[JournalEntry]:
        connection = uow.marketplaces.get_by_code(code)
        if connection is None:
            raise ConnectionNotFound(connection=code)
        return uow.marketplaces.journal(connection.id, open_only=open_only, limit=limit)

    return reading(uow, work)
