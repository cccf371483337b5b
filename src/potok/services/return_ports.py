"""What the returns use cases need from storage."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from potok.domain.kernel import WarehouseId
from potok.domain.returns import Return


class ReturnStore(Protocol):
    def add(self, ret: Return) -> None: ...
    def save(self, ret: Return) -> None: ...
    def get(self, number: str, *, lock: bool = False) -> Return | None: ...
    def for_order(self, order_id: int) -> list[Return]: ...
    def number_for_shipment(self, shipment_id: int) -> str | None: ...
    def number_for_exchange(self, order_id: int) -> str | None: ...
    def list_page(
        self,
        *,
        status: str | None,
        order_id: int | None,
        channels_in: Collection[str] | None,
        warehouses_in: Collection[WarehouseId] | None,
        cursor: str | None,
        limit: int,
        received_at: str | None = None,
        reason: str | None = None,
    ) -> tuple[list[Return], str | None]: ...
