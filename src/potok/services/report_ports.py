"""What reports need from storage, as a protocol; ``potok.db`` implements it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from potok.domain.analytics import OrderFact, Period, PickScan


class ReportStore(Protocol):
    def order_ids_after(self, after: int, limit: int) -> list[int]: ...
    def refresh(self, order_ids: Sequence[int], at: datetime) -> int:
        """Write the facts of these orders afresh; returns how many were written."""
        ...

    def facts(self, period: Period, channels_: Sequence[str] | None = None) -> list[OrderFact]: ...
    def pick_scans(
        self, period: Period, warehouses_: Sequence[str] | None = None
    ) -> list[PickScan]: ...
