"""Connecting a marketplace account to a sales channel, and reading connections' health."""

from __future__ import annotations

from collections.abc import Sequence

from potok.connectors.marketplaces.registry import SUPPORTED, MarketplaceNotSupported
from potok.domain.channels import ChannelNotFound
from potok.domain.errors import FieldError, InvalidInput
from potok.domain.kernel import Actor, Clock, utc_now
from potok.domain.marketplaces import (
    Connection,
    ConnectionChanges,
    ConnectionCodeTaken,
    ConnectionDraft,
    ConnectionNotFound,
    JournalEntry,
)
from potok.domain.marketplaces.events import MarketplaceConnected, MarketplaceConnectionChanged
from potok.services.idempotency import Once, atomically_once
from potok.services.unit_of_work import UnitOfWork, atomically, reading


def connect_marketplace(
    uow: UnitOfWork,
    draft: ConnectionDraft,
    actor: Actor,
    *,
    clock: Clock = utc_now,
    once: Once[Connection] | None = None,
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
        _check_locations(uow, draft)
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

    return atomically_once(uow, once, work)


def change_connection(
    uow: UnitOfWork,
    code: str,
    changes: ConnectionChanges,
    actor: Actor,
    *,
    clock: Clock = utc_now,
) -> Connection:
    """Replace the token (after the marketplace refused the old one), the host, the warehouse
    map, the schedule, or pause and resume the connection."""

    def work(uow: UnitOfWork) -> Connection:
        current = uow.marketplaces.get_by_code(code)
        if current is None:
            raise ConnectionNotFound(connection=code)
        draft = changes.applied_to(current, uow.marketplaces.credentials(current.id))
        draft.validate()
        _check_locations(uow, draft)
        at = clock()
        uow.marketplaces.change(current.id, draft, at, new_token=changes.credentials is not None)
        changed = uow.marketplaces.get_by_code(code)
        assert changed is not None
        uow.record(
            MarketplaceConnectionChanged(
                occurred_at=at,
                connection=code,
                changed=changes.named,
                base_url=changed.base_url,
                warehouses=dict(changed.warehouses),
                poll_every_s=changed.poll_every_s,
                active=changed.active,
            )
        )
        return changed

    return atomically(uow, work)


def _check_locations(uow: UnitOfWork, draft: ConnectionDraft) -> None:
    """Every location the warehouse map names exists."""
    unknown = sorted(
        {ours for ours in draft.warehouses.values() if not uow.warehouses.get_by_code(ours)}
    )
    if unknown:
        raise InvalidInput(
            [
                FieldError("warehouses", f"there is no location '{code}'", "unknown-location")
                for code in unknown
            ]
        )


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
