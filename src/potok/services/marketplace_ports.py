"""What the marketplace use cases need from storage, as protocols; ``potok.db`` implements them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from potok.connectors.marketplaces.interface import Sticker
from potok.domain.kernel import ChannelId
from potok.domain.marketplaces import (
    Connection,
    ConnectionDraft,
    Credentials,
    ItemMapping,
    JournalEntry,
    JournalKind,
)


@dataclass(frozen=True, slots=True)
class LinkedOrder:
    """A marketplace order that became a Potok order, and what the marketplace last said."""

    external_id: str
    order_id: int
    state: str
    status: str
    closed: bool
    items: Sequence[Mapping[str, Any]] = ()  # the marketplace's item of each line
    pushed: str | None = None  # the last step told the marketplace: packed, shipped, ...
    supply: str | None = None  # WB: the supply it joined


@dataclass(frozen=True, slots=True)
class OrderProgress:
    """Where the Potok order of an open marketplace order stands, for what to tell there."""

    link: LinkedOrder
    cancelled: bool
    shipments: int  # not cancelled
    packed: int  # packed or further
    left: int  # handed over or further


@dataclass(frozen=True, slots=True)
class LinkedReturn:
    """A marketplace return that became a Potok return, and what the marketplace last said."""

    external_id: str
    order_external_id: str
    campaign: str
    return_number: str  # the Potok return's
    kind: str
    status: str


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What one poll of a connection found, for its health view."""

    at: datetime
    error: str | None = None
    refused: bool = False
    rate_limit_waits: int = 0
    rate_limit_wait_s: float = 0.0
    imported: int = 0
    cursor: str | None = None  # the marketplace's change cursor after this poll, if it moved


class MarketplaceStore(Protocol):
    """Marketplace connections, their imported orders and their journal."""

    def add(self, draft: ConnectionDraft, channel_id: ChannelId, at: datetime) -> Connection: ...
    def get_by_code(self, code: str) -> Connection | None: ...
    def list(self) -> Sequence[Connection]: ...
    def credentials(self, connection_id: int) -> Credentials: ...
    def change(
        self, connection_id: int, draft: ConnectionDraft, at: datetime, *, new_token: bool
    ) -> None: ...
    def record_poll(self, connection_id: int, record: PollRecord) -> None: ...

    def linked(self, connection_id: int, external_id: str) -> LinkedOrder | None: ...
    def linked_ids(self, connection_id: int, external_ids: Sequence[str]) -> set[str]: ...
    def link(
        self,
        connection_id: int,
        external_id: str,
        order_id: int,
        *,
        basket: str | None,
        warehouse: str,
        state: str,
        status: str,
        items: Sequence[Mapping[str, Any]],
        at: datetime,
    ) -> None: ...
    def pushed(
        self,
        connection_id: int,
        external_ids: Sequence[str],
        step: str,
        at: datetime,
        *,
        supply: str | None = None,
    ) -> None: ...
    def open_supply(self, connection_id: int) -> str | None: ...
    def without_sticker(self, connection_id: int, limit: int) -> Sequence[str]:
        """Open orders told 'packed' or 'shipped' whose sticker is not kept yet."""
        ...

    def keep_stickers(
        self, connection_id: int, stickers: Sequence[Sticker], at: datetime
    ) -> None: ...
    def sticker_of_order(self, order_id: int) -> Sticker | None: ...
    def in_supply(self, connection_id: int, supply: str) -> Sequence[LinkedOrder]: ...
    def open_links(self, connection_id: int, limit: int) -> Sequence[LinkedOrder]: ...
    def progress(self, connection_id: int, limit: int) -> Sequence[OrderProgress]: ...
    def follow(
        self,
        connection_id: int,
        external_id: str,
        *,
        state: str,
        status: str,
        closed: bool,
        at: datetime,
    ) -> None: ...

    def linked_return(self, connection_id: int, external_id: str) -> LinkedReturn | None: ...
    def link_return(
        self, connection_id: int, link: LinkedReturn, return_id: int, at: datetime
    ) -> None: ...
    def follow_return(
        self, connection_id: int, external_id: str, status: str, at: datetime
    ) -> None: ...

    def keep_aside(
        self,
        connection_id: int,
        external_id: str,
        kind: JournalKind,
        detail: str,
        payload: Mapping[str, Any],
        at: datetime,
    ) -> None: ...
    def resolve(self, connection_id: int, external_id: str, at: datetime) -> None: ...
    def journal(
        self, connection_id: int, *, open_only: bool = True, limit: int = 100
    ) -> Sequence[JournalEntry]: ...


class MarketplaceItemStore(Protocol):
    """Each connection's map of Potok SKUs to the marketplace's items."""

    def put(
        self,
        connection_id: int,
        rows: Sequence[ItemMapping],
        product_ids: Mapping[str, int],
        at: datetime,
    ) -> None: ...
    def remove(self, connection_id: int, product_ids: Sequence[int]) -> int: ...
    def mapped(
        self,
        connection_id: int,
        *,
        skus: Sequence[str] | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[ItemMapping]: ...
    def by_item(self, connection_id: int, items: Sequence[str]) -> dict[str, str]: ...
